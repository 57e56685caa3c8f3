#include "sessioncore_p.h"

#include "clock_p.h"
#include "logging_p.h"
#include "serverprofile_p.h"
#include "wireformat_p.h"

#include <QMetaObject>

namespace Latchkey {

namespace {

// An endpoint's path under the base URL's (empty when the profile has none).
QString endpointPath(const QUrl &baseUrl, const QString &path)
{
    if (path.isEmpty())
        return QString();
    const QString base = baseUrl.path();
    return (base.endsWith(QLatin1Char('/')) ? base.chopped(1) : base) + path;
}

} // namespace

SessionCore::SessionCore(const ServerProfile &profile, const QUrl &baseUrl)
    : profile(profile)
    , baseUrl(baseUrl)
    , m_baseScheme(baseUrl.scheme().toLower())
    , m_baseHost(baseUrl.host())
    , m_basePort(baseUrl.port(m_baseScheme == QLatin1String("https") ? 443 : 80))
    , m_baseIsLoopback(WireFormat::isLoopbackHost(m_baseHost))
    , m_loginPath(endpointPath(baseUrl, ServerProfilePrivate::of(profile).login.path))
    , m_refreshPath(endpointPath(baseUrl, ServerProfilePrivate::of(profile).refresh.path))
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
    s.authorization = m_authorization;
    s.generation = m_generation;
    s.active = m_phase != Phase::SignedOut;
    s.mustRefresh = s.active && !freshLocked();
    s.refused = m_phase == Phase::Active && m_refusedGeneration == m_generation;
    s.epoch = m_epoch;
    return s;
}

bool SessionCore::endedSince(quint64 epoch, AuthError *error) const
{
    QMutexLocker lock(&m_mutex);
    if (epoch == m_epoch)
        return false;
    if (epoch + 1 == m_emptyRestoreEpoch)
        return true; // a restore that found nothing: out without a token, as its waiters went
    // The end of the request's own session; if more ended since, that one's reason is gone.
    *error = epoch + 1 == m_epoch
        ? m_lastEnd
        : AuthError(AuthError::Kind::NotSignedIn,
            QStringLiteral("The session this request was made in has ended"));
    return true;
}

SessionCore::Phase SessionCore::phase() const
{
    QMutexLocker lock(&m_mutex);
    return m_phase;
}

void SessionCore::setAccessLocked(const QByteArray &access)
{
    m_access = access;
    // Every request of this token sends this value: put together once per token, not per
    // request (≈ 2.5 k instructions a GET for a JWT, callgrind).
    m_authorization = access.isEmpty()
        ? QByteArray()
        : ServerProfilePrivate::of(profile).authorizationScheme + ' ' + access;
}

bool SessionCore::freshLocked() const
{
    return m_phase == Phase::Active && !m_access.isEmpty() && m_refusedGeneration != m_generation
        && Clock::instance()->nowMs() < m_freshUntilMs;
}

void SessionCore::setSslConfiguration(const QSslConfiguration &configuration)
{
    QMutexLocker lock(&m_mutex);
    m_ssl = configuration;
}

QSslConfiguration SessionCore::sslConfiguration() const
{
    QMutexLocker lock(&m_mutex);
    return m_ssl;
}

void SessionCore::setExchangeProfile(const ServerProfile &exchange)
{
    QMutexLocker lock(&m_mutex);
    m_exchange = exchange;
}

ServerProfile SessionCore::exchangeProfile() const
{
    QMutexLocker lock(&m_mutex);
    return m_exchange;
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
    return m_phase != Phase::SignedOut || !m_apiKey.isEmpty();
}

bool SessionCore::isAuthEndpoint(const QUrl &url) const
{
    // Called for every request: the two paths were put together once (constructor).
    const QString path = url.path();
    return (!m_loginPath.isEmpty() && path == m_loginPath)
        || (!m_refreshPath.isEmpty() && path == m_refreshPath);
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
    if (m_phase == Phase::Active && !m_access.isEmpty()) {
        outcome.ok = true;
        outcome.accessToken = m_access;
        outcome.authorization = m_authorization;
        outcome.generation = m_generation;
    } else {
        // A request that meets the end of a session late learns why it ended.
        outcome.error = m_endReason;
    }
    return outcome;
}

void SessionCore::change(QMutexLocker<QMutex> &lock, const Change &c)
{
    const Phase from = m_phase;
    m_phase = c.to;
    if (c.to != Phase::Active) {
        m_access.clear();
        m_authorization.clear();
        m_refresh.clear();
        m_freshUntilMs = std::numeric_limits<qint64>::max();
    }
    if (c.to == Phase::SignedOut)
        m_endReason = c.error;
    m_nothingRestored = c.waiters == WaiterFate::Anonymous;
    if (c.to != Phase::Active || c.waiters == WaiterFate::Token)
        m_offline = false; // a new phase, or an answer from the server
    // A refused token stays refused through a change that brings no new one (a failed
    // refresh): requests keep waiting for the next refresh rather than send it again.
    const bool refused = m_refusedGeneration == m_generation;
    ++m_generation; // no request sent before this change can take its token into the next phase
    if (refused && c.to == Phase::Active && c.waiters != WaiterFate::Token && !m_access.isEmpty())
        m_refusedGeneration = m_generation;
    if (from != Phase::SignedOut && c.to != Phase::Active) {
        ++m_epoch; // the session ends (or a restore found none)
        m_lastEnd = c.error;
        if (c.waiters == WaiterFate::Anonymous)
            m_emptyRestoreEpoch = m_epoch;
    }
    const bool wasRefreshing = m_refreshing;
    if (c.refreshOver && m_refreshing) {
        m_refreshing = false;
        ++m_ticket; // whatever answer still comes for it is stale
    }
    QList<Pending> waiters;
    if (c.waiters != WaiterFate::Keep)
        waiters.swap(m_waiters);
    QList<Settle> settles;
    if (!m_refreshing && m_phase != Phase::Restoring && !c.refreshFollows)
        settles.swap(m_settles);
    Outcome outcome;
    switch (c.waiters) {
    case WaiterFate::Keep:
        break;
    case WaiterFate::Token:
        outcome.ok = true;
        outcome.accessToken = m_access;
        outcome.authorization = m_authorization;
        outcome.generation = m_generation;
        break;
    case WaiterFate::Anonymous:
        outcome.ok = true;
        outcome.generation = m_generation;
        break;
    case WaiterFate::Fail:
        outcome.error = c.error;
        break;
    }
    const Runner runner = m_runner;
    lock.unlock();

    if (from != c.to)
        qCDebug(lcAuth) << "session" << int(from) << "->" << int(c.to);
    if (!waiters.isEmpty())
        qCDebug(lcAuth) << "answering" << waiters.size() << "waiting requests, ok =" << outcome.ok;
    for (Pending &p : waiters) {
        if (p.context)
            dispatch(p.context, std::move(p.waiter), outcome);
    }
    for (Settle &s : settles) {
        if (s.context)
            QMetaObject::invokeMethod(s.context, std::move(s.done), Qt::QueuedConnection);
    }
    if (c.cancelRefresh && wasRefreshing && runner.context && runner.cancel)
        QMetaObject::invokeMethod(runner.context, runner.cancel, Qt::AutoConnection);
}

bool SessionCore::startRefreshLocked(RefreshReason reason)
{
    if (m_refreshing || m_phase != Phase::Active || !m_runner.context)
        return false;
    m_refreshing = true;
    const quint64 ticket = ++m_ticket;
    QMetaObject::invokeMethod(
        m_runner.context, [start = m_runner.start, reason, ticket] { start(reason, ticket); },
        Qt::QueuedConnection);
    return true;
}

void SessionCore::whenRefreshed(
    quint64 seenGeneration, RefreshReason reason, QObject *context, Waiter waiter)
{
    QMutexLocker lock(&m_mutex);
    if (m_phase == Phase::SignedOut && m_nothingRestored) {
        // Made while a restore ran that found nothing: out without a token, as for anybody.
        Outcome anonymous;
        anonymous.ok = true;
        anonymous.generation = m_generation;
        dispatch(context, std::move(waiter), anonymous);
        return;
    }
    if (m_phase == Phase::SignedOut || !m_runner.context) {
        dispatch(context, std::move(waiter), currentOutcomeLocked());
        return;
    }
    if (m_generation > seenGeneration && freshLocked()) {
        // Someone refreshed since this waiter's token was sent: use the new one.
        dispatch(context, std::move(waiter), currentOutcomeLocked());
        return;
    }
    if (m_phase == Phase::Active && m_offline && !m_refreshing
        && (reason == RefreshReason::Freshness || reason == RefreshReason::Proactive)) {
        // Offline: fail fast with what the last attempt met, rather than each request trying
        // again (a 401 did reach the server, so its waiter does try).
        Outcome offline;
        offline.error = m_offlineError;
        dispatch(context, std::move(waiter), offline);
        return;
    }
    m_waiters.append({ QPointer<QObject>(context), std::move(waiter) });
    if (m_phase == Phase::Active)
        startRefreshLocked(reason);
}

void SessionCore::whenSettled(QObject *context, std::function<void()> done)
{
    QMutexLocker lock(&m_mutex);
    // A restore counts as a refresh on its way: its first refresh rotates the stored token.
    if (!m_refreshing && m_phase != Phase::Restoring) {
        QMetaObject::invokeMethod(context, std::move(done), Qt::QueuedConnection);
        return;
    }
    m_settles.append({ QPointer<QObject>(context), std::move(done) });
}

bool SessionCore::startRefresh(RefreshReason reason)
{
    QMutexLocker lock(&m_mutex);
    return startRefreshLocked(reason);
}

bool SessionCore::isCurrent(quint64 ticket) const
{
    QMutexLocker lock(&m_mutex);
    return m_refreshing && ticket == m_ticket && m_phase == Phase::Active;
}

bool SessionCore::refreshSucceeded(
    quint64 ticket, const TokenSet &tokens, std::chrono::milliseconds freshnessMargin)
{
    QMutexLocker lock(&m_mutex);
    if (!m_refreshing || ticket != m_ticket || m_phase != Phase::Active)
        return false;
    setAccessLocked(tokens.access);
    if (!tokens.refresh.isEmpty())
        m_refresh = tokens.refresh;
    m_freshUntilMs = tokens.lifetimeMs < 0
        ? std::numeric_limits<qint64>::max()
        : Clock::instance()->nowMs() + tokens.lifetimeMs - freshnessMargin.count();
    change(lock, { Phase::Active, WaiterFate::Token, AuthError(), true, false });
    return true;
}

void SessionCore::refreshFailed(quint64 ticket, const AuthError &error)
{
    QMutexLocker lock(&m_mutex);
    if (!m_refreshing || ticket != m_ticket || m_phase != Phase::Active)
        return;
    // A passing failure: the session stays, the requests that waited for it fail; without a
    // usable access token it is offline until a refresh gets through.
    m_offline = !freshLocked();
    m_offlineError = error;
    change(lock, { Phase::Active, WaiterFate::Fail, error, true, false });
}

bool SessionCore::isOffline() const
{
    QMutexLocker lock(&m_mutex);
    return m_phase == Phase::Active && m_offline;
}

void SessionCore::markStale()
{
    QMutexLocker lock(&m_mutex);
    m_freshUntilMs = std::min(m_freshUntilMs, Clock::instance()->nowMs());
}

void SessionCore::refreshRejected(quint64 ticket, const AuthError &error)
{
    QMutexLocker lock(&m_mutex);
    if (!m_refreshing || ticket != m_ticket || m_phase != Phase::Active)
        return;
    change(lock, { Phase::SignedOut, WaiterFate::Fail, error, true, false });
}

void SessionCore::registerUnsent(
    QObject *reply, quint64 generation, std::function<void(quint64)> holdBack)
{
    QMutexLocker lock(&m_mutex);
    m_unsent.insert(reply, { generation, std::move(holdBack) });
}

void SessionCore::unregisterUnsent(QObject *reply)
{
    QMutexLocker lock(&m_mutex);
    m_unsent.remove(reply);
}

void SessionCore::reportRejected(quint64 generation)
{
    QMutexLocker lock(&m_mutex);
    if (m_phase == Phase::Active && generation == m_generation)
        m_refusedGeneration = generation;
    // Posted under the lock: a reply unregisters itself (under this lock) in its destructor,
    // before ~QObject discards the events posted to it, so none is posted to a dead reply.
    for (auto it = m_unsent.begin(); it != m_unsent.end();) {
        if (it.value().generation <= generation) {
            QMetaObject::invokeMethod(
                it.key(),
                [holdBack = std::move(it.value().holdBack), g = it.value().generation] {
                    holdBack(g);
                },
                Qt::QueuedConnection);
            it = m_unsent.erase(it);
        } else {
            ++it;
        }
    }
}

void SessionCore::setRunner(Runner runner)
{
    QMutexLocker lock(&m_mutex);
    m_runner = std::move(runner);
    if (!m_runner.context) // the client is gone: nothing can refresh any more
        change(lock,
            { Phase::SignedOut, WaiterFate::Fail,
                AuthError(AuthError::Kind::NotSignedIn, QStringLiteral("The session was closed")),
                true, false });
}

void SessionCore::beginRestore()
{
    QMutexLocker lock(&m_mutex);
    if (m_phase == Phase::Restoring)
        return; // joins the restore in progress
    change(lock,
        { Phase::Restoring, WaiterFate::Fail,
            AuthError(AuthError::Kind::Cancelled,
                QStringLiteral("The session was replaced by a restore")),
            true, true });
}

void SessionCore::restoreFound(const QByteArray &refreshToken)
{
    QMutexLocker lock(&m_mutex);
    if (m_phase != Phase::Restoring)
        return;
    m_refresh = refreshToken;
    // The waiters stay: the first refresh answers them.
    change(lock, { Phase::Active, WaiterFate::Keep, AuthError(), false, false, true });
}

void SessionCore::restoreFoundNothing()
{
    QMutexLocker lock(&m_mutex);
    if (m_phase != Phase::Restoring)
        return;
    change(lock,
        { Phase::SignedOut, WaiterFate::Anonymous,
            AuthError(AuthError::Kind::NotSignedIn, QStringLiteral("No stored session")), true,
            false });
}

void SessionCore::startSession(const TokenSet &tokens, std::chrono::milliseconds freshnessMargin)
{
    QMutexLocker lock(&m_mutex);
    setAccessLocked(tokens.access);
    m_refresh = tokens.refresh;
    m_freshUntilMs = tokens.lifetimeMs < 0
        ? std::numeric_limits<qint64>::max()
        : Clock::instance()->nowMs() + tokens.lifetimeMs - freshnessMargin.count();
    change(lock, { Phase::Active, WaiterFate::Token, AuthError(), true, true });
}

void SessionCore::supersede(const AuthError &reason)
{
    QMutexLocker lock(&m_mutex);
    change(lock, { Phase::SignedOut, WaiterFate::Fail, reason, true, true });
}

void SessionCore::end(const AuthError &reason)
{
    QMutexLocker lock(&m_mutex);
    change(lock, { Phase::SignedOut, WaiterFate::Fail, reason, true, true });
}

QByteArray SessionCore::refreshToken() const
{
    QMutexLocker lock(&m_mutex);
    return m_refresh;
}

void SessionCore::replaceRefreshToken(quint64 ticket, const QByteArray &refreshToken)
{
    QMutexLocker lock(&m_mutex);
    if (ticket == m_ticket && m_phase == Phase::Active)
        m_refresh = refreshToken;
}

QByteArray SessionCore::accessToken() const
{
    QMutexLocker lock(&m_mutex);
    return m_access;
}

bool SessionCore::isActive() const
{
    QMutexLocker lock(&m_mutex);
    return m_phase == Phase::Active;
}

} // namespace Latchkey
