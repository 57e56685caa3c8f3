#include "sessioncore_p.h"

#include "logging_p.h"
#include "refreshcoordinator_p.h"
#include "retryingreply_p.h"

#include <QMetaObject>

namespace Latchkey {

SessionCore::SessionCore(const ServerProfile &profile, const QUrl &baseUrl)
    : profile(profile)
    , baseUrl(baseUrl)
    , m_baseScheme(baseUrl.scheme().toLower())
    , m_baseHost(baseUrl.host())
    , m_basePort(baseUrl.port(m_baseScheme == QLatin1String("https") ? 443 : 80))
    , m_baseIsLoopback(WireFormat::isLoopbackHost(m_baseHost))
{ }

bool SessionCore::authorizes(const QUrl &url) const
{
    // Called for every request (and again before each attempt): compare against the base
    // origin taken apart once, without copies where QUrl allows it.
    const QString scheme = url.scheme();
    if (scheme.compare(m_baseScheme, Qt::CaseInsensitive) != 0)
        return false;
    const QString host = url.host();
    if (host.compare(m_baseHost, Qt::CaseInsensitive) != 0)
        return false;
    const int defaultPort = m_baseScheme == QLatin1String("https") ? 443 : 80;
    if (url.port(defaultPort) != m_basePort)
        return false;
    if (m_baseScheme == QLatin1String("https"))
        return true;
    if (m_baseScheme != QLatin1String("http"))
        return false;
    // The host equals the base URL's, so it is loopback exactly when that one is.
    return m_baseIsLoopback || allowsInsecureHttp();
}

void SessionCore::setAllowInsecureHttp(bool allow)
{
    QMutexLocker lock(&m_mutex);
    m_allowInsecure = allow;
}

bool SessionCore::allowsInsecureHttp() const
{
    QMutexLocker lock(&m_mutex);
    return m_allowInsecure;
}

SessionCore::Snapshot SessionCore::snapshot() const
{
    QMutexLocker lock(&m_mutex);
    Snapshot s;
    s.accessToken = m_access;
    s.generation = m_generation;
    s.active = m_active;
    s.mustRefresh = m_active && (m_access.isEmpty() || m_freshUntil.hasExpired());
    return s;
}

void SessionCore::setApiKey(const QByteArray &header, const QByteArray &key)
{
    QMutexLocker lock(&m_mutex);
    m_apiKeyHeader = header;
    m_apiKey = key;
}

std::pair<QByteArray, QByteArray> SessionCore::apiKey() const
{
    QMutexLocker lock(&m_mutex);
    return { m_apiKeyHeader, m_apiKey };
}

bool SessionCore::manages() const
{
    QMutexLocker lock(&m_mutex);
    return m_active || !m_apiKey.isEmpty();
}

bool SessionCore::isAuthEndpoint(const QUrl &url) const
{
    const QString base
        = baseUrl.path().endsWith(QLatin1Char('/')) ? baseUrl.path().chopped(1) : baseUrl.path();
    for (const QString &path : { profile.login().path, profile.refresh().path }) {
        if (!path.isEmpty() && url.path() == base + path)
            return true;
    }
    return false;
}

void SessionCore::dispatch(QObject *context, Waiter waiter, const Outcome &outcome)
{
    // Always queued: the waiter runs from its own thread's event loop, never inside our lock,
    // and is dropped if its context object is deleted first.
    QMetaObject::invokeMethod(
        context, [waiter = std::move(waiter), outcome] { waiter(outcome); }, Qt::QueuedConnection);
}

SessionCore::Outcome SessionCore::currentOutcomeLocked() const
{
    Outcome outcome;
    if (m_active && !m_access.isEmpty()) {
        outcome.ok = true;
        outcome.accessToken = m_access;
        outcome.generation = m_generation;
    } else {
        // A request that meets the end of a session late learns why it ended.
        outcome.error = m_endReason;
    }
    return outcome;
}

void SessionCore::whenRefreshed(
    quint64 seenGeneration, RefreshReason reason, QObject *context, Waiter waiter)
{
    QMutexLocker lock(&m_mutex);
    if (!m_active || !m_coordinator) {
        dispatch(context, std::move(waiter), currentOutcomeLocked());
        return;
    }
    const bool fresh = !m_access.isEmpty() && !m_freshUntil.hasExpired();
    if (m_generation > seenGeneration && fresh) {
        // Someone refreshed since this waiter's token was sent: use the new one.
        dispatch(context, std::move(waiter), currentOutcomeLocked());
        return;
    }
    m_waiters.append({ QPointer<QObject>(context), std::move(waiter) });
    if (!m_refreshing && !m_restoring) {
        m_refreshing = true;
        RefreshCoordinator *coordinator = m_coordinator;
        QMetaObject::invokeMethod(
            coordinator, [coordinator, reason] { coordinator->run(reason); }, Qt::QueuedConnection);
    }
}

bool SessionCore::startRefresh(RefreshReason reason)
{
    QMutexLocker lock(&m_mutex);
    if (m_refreshing || !m_active || !m_coordinator)
        return false;
    m_refreshing = true;
    RefreshCoordinator *coordinator = m_coordinator;
    QMetaObject::invokeMethod(
        coordinator, [coordinator, reason] { coordinator->run(reason); }, Qt::QueuedConnection);
    return true;
}

void SessionCore::resolve(const Outcome &outcome)
{
    QList<Pending> waiters;
    {
        QMutexLocker lock(&m_mutex);
        m_refreshing = false;
        waiters.swap(m_waiters);
    }
    qCDebug(lcAuth) << "refresh resolved for" << waiters.size()
                    << "waiting requests, ok =" << outcome.ok;
    for (Pending &p : waiters) {
        if (p.context)
            dispatch(p.context, std::move(p.waiter), outcome);
    }
}

void SessionCore::registerUnsent(RetryingReply *reply, quint64 generation)
{
    QMutexLocker lock(&m_mutex);
    m_unsent.insert(reply, generation);
}

void SessionCore::unregisterUnsent(RetryingReply *reply)
{
    QMutexLocker lock(&m_mutex);
    m_unsent.remove(reply);
}

void SessionCore::reportRejected(quint64 generation)
{
    QMutexLocker lock(&m_mutex);
    // Posted under the lock: a reply unregisters itself (under this lock) in its destructor,
    // before ~QObject discards the events posted to it, so none is posted to a dead reply.
    for (auto it = m_unsent.begin(); it != m_unsent.end();) {
        if (it.value() <= generation) {
            RetryingReply *reply = it.key();
            const quint64 g = it.value();
            QMetaObject::invokeMethod(
                reply, [reply, g] { reply->holdBack(g); }, Qt::QueuedConnection);
            it = m_unsent.erase(it);
        } else {
            ++it;
        }
    }
}

void SessionCore::attach(RefreshCoordinator *coordinator)
{
    QMutexLocker lock(&m_mutex);
    m_coordinator = coordinator;
}

void SessionCore::detach()
{
    {
        QMutexLocker lock(&m_mutex);
        m_coordinator = nullptr;
    }
    end(AuthError(AuthError::Kind::NotSignedIn, QStringLiteral("The session was closed")));
}

void SessionCore::beginRestore()
{
    QMutexLocker lock(&m_mutex);
    m_active = true;
    m_restoring = true;
    m_access.clear();
    m_refresh.clear();
    m_freshUntil = QDeadlineTimer(QDeadlineTimer::Forever);
    ++m_generation;
    ++m_epoch;
}

void SessionCore::beginSession(const QByteArray &refreshToken)
{
    QMutexLocker lock(&m_mutex);
    m_active = true;
    m_restoring = false;
    m_access.clear();
    m_refresh = refreshToken;
    m_freshUntil = QDeadlineTimer(QDeadlineTimer::Forever);
    ++m_generation;
    ++m_epoch;
}

void SessionCore::applyTokens(const TokenSet &tokens, std::chrono::milliseconds freshnessMargin)
{
    QMutexLocker lock(&m_mutex);
    m_active = true;
    m_access = tokens.access;
    if (!tokens.refresh.isEmpty())
        m_refresh = tokens.refresh;
    m_freshUntil = tokens.lifetimeMs < 0
        ? QDeadlineTimer(QDeadlineTimer::Forever)
        : QDeadlineTimer(std::chrono::milliseconds(tokens.lifetimeMs) - freshnessMargin);
    ++m_generation;
}

void SessionCore::end(const AuthError &reason)
{
    QList<Pending> waiters;
    {
        QMutexLocker lock(&m_mutex);
        m_active = false;
        m_restoring = false;
        m_endReason = reason;
        m_access.clear();
        m_refresh.clear();
        m_freshUntil = QDeadlineTimer(QDeadlineTimer::Forever);
        ++m_generation;
        ++m_epoch;
        m_refreshing = false;
        waiters.swap(m_waiters);
    }
    Outcome ended;
    ended.error = reason;
    for (Pending &p : waiters) {
        if (p.context)
            dispatch(p.context, std::move(p.waiter), ended);
    }
}

QByteArray SessionCore::refreshToken() const
{
    QMutexLocker lock(&m_mutex);
    return m_refresh;
}

void SessionCore::replaceRefreshToken(const QByteArray &refreshToken)
{
    QMutexLocker lock(&m_mutex);
    m_refresh = refreshToken;
}

QByteArray SessionCore::accessToken() const
{
    QMutexLocker lock(&m_mutex);
    return m_access;
}

quint64 SessionCore::epoch() const
{
    QMutexLocker lock(&m_mutex);
    return m_epoch;
}

bool SessionCore::isActive() const
{
    QMutexLocker lock(&m_mutex);
    return m_active;
}

} // namespace Latchkey
