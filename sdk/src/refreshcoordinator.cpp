#include "refreshcoordinator_p.h"

#include "authcall_p.h"
#include "clock_p.h"
#include "logging_p.h"
#include "reachability_p.h"
#include "serverprofile_p.h"

#include <QNetworkAccessManager>
#include <QRandomGenerator>

namespace Latchkey {

using namespace std::chrono_literals;

RefreshCoordinator::RefreshCoordinator(std::shared_ptr<SessionCore> core, QObject *parent)
    : QObject(parent)
    , m_core(std::move(core))
    , m_nam(new QNetworkAccessManager(this))
    , m_lock(new SharedRefreshLock(this))
{
    m_nam->setCookieJar(nullptr);
    connect(&m_proactive, &DeadlineTimer::timeout, this, [this] {
        if (m_core->startRefresh(RefreshReason::Proactive))
            qCDebug(lcAuth) << "proactive refresh";
    });
    connect(&m_retry, &DeadlineTimer::timeout, this, &RefreshCoordinator::attempt);
    m_proactive.setMaxStep(sleepCheckInterval);
    connect(&m_proactive, &DeadlineTimer::clockJumped, this, &RefreshCoordinator::onClockJumped);
    connect(&m_reconnect, &DeadlineTimer::timeout, this, &RefreshCoordinator::reconnectNow);
    connect(Reachability::instance(), &Reachability::online, this, [this] {
        if (m_core->isOffline())
            reconnectNow();
    });
    connect(&m_overall, &DeadlineTimer::timeout, this, &RefreshCoordinator::overallTimeout);
    m_core->setRunner({ this, [this](RefreshReason reason, quint64 ticket) { run(reason, ticket); },
        [this] { cancel(); } });
}

RefreshCoordinator::~RefreshCoordinator()
{
    cancel();
    m_core->setRunner({}); // every waiter, on every thread, learns the session was closed
}

void RefreshCoordinator::setRetry(int maxAttempts, std::chrono::milliseconds initialDelay)
{
    m_maxAttempts = qMax(1, maxAttempts);
    m_initialDelay = qMax(0ms, initialDelay);
}

std::chrono::milliseconds RefreshCoordinator::effectiveLead(qint64 lifetimeMs) const
{
    if (m_lead >= 0ms) // never so long that the token is refreshed as soon as it arrives
        return std::min(m_lead, std::chrono::milliseconds(lifetimeMs / 2));
    return std::min<std::chrono::milliseconds>(60s, std::chrono::milliseconds(lifetimeMs / 10));
}

std::chrono::milliseconds RefreshCoordinator::freshnessMargin(qint64 lifetimeMs)
{
    if (lifetimeMs < 0)
        return 0ms;
    return std::min<std::chrono::milliseconds>(5s, std::chrono::milliseconds(lifetimeMs / 20));
}

void RefreshCoordinator::startSession(const TokenSet &tokens)
{
    cancel();
    m_core->startSession(tokens, freshnessMargin(tokens.lifetimeMs));
    schedule(tokens);
}

void RefreshCoordinator::stop()
{
    m_proactive.stop();
    m_reconnect.stop();
    m_reconnects = 0;
    cancel();
}

void RefreshCoordinator::preconnect()
{
    if (m_used)
        return;
    const ServerProfile profile = m_core->exchangeProfile();
    if (ServerProfilePrivate::of(profile).refresh.path.isEmpty())
        return; // an OpenID provider not discovered yet, or no refresh endpoint
    m_used = true;
    AuthCall::preconnect(m_nam,
        WireFormat::refresh(profile, m_core->baseUrl, QByteArray()).request.url(),
        m_core->sslConfiguration());
}

void RefreshCoordinator::lockAhead(const QString &lockName, std::function<void(bool)> then)
{
    releaseShared();
    ++m_lockTicket;
    m_lock->acquire(
        lockName,
        [this, then] {
            m_lockedAhead = true;
            then(true);
        },
        [then](const QString &) { then(false); });
}

void RefreshCoordinator::releaseAhead()
{
    if (m_lockedAhead)
        releaseShared();
}

void RefreshCoordinator::scheduleReconnect(const AuthError &error)
{
    // Like the retries, but slower and without end: 2 s, 4 s, … up to 5 min, with jitter. While
    // the access token still works, the proactive timer tries again (never past the token's
    // freshness, where requests start asking); offline, the reconnect timer.
    const qint64 step = std::min<qint64>(
        reconnectDelay.count() << std::min(m_reconnects, 16), maxReconnectDelay.count());
    const qint64 jittered
        = step / 2 + qint64(QRandomGenerator::global()->bounded(double(step / 2 + 1)));
    const qint64 serverAsked
        = error.retryAfter() > 0 ? std::min<qint64>(error.retryAfter() * 1000LL, 300000) : 0;
    ++m_reconnects;
    const qint64 delay = std::max(jittered, serverAsked);
    if (!m_core->isOffline()) {
        qCInfo(lcAuth) << "proactive refresh failed: next try in" << delay << "ms";
        m_proactive.start(std::chrono::milliseconds(delay));
        return;
    }
    qCInfo(lcAuth) << "offline: next try to reach the server in" << delay << "ms";
    m_reconnect.start(std::chrono::milliseconds(delay));
}

void RefreshCoordinator::reconnectNow()
{
    m_reconnect.stop();
    if (m_core->startRefresh(RefreshReason::Reconnect))
        qCInfo(lcAuth) << "trying to reach the server again";
}

void RefreshCoordinator::onClockJumped(qint64 driftMs)
{
    qCInfo(lcAuth) << "real time moved" << driftMs
                   << "ms more than the monotonic clock (a sleep, or the clock was set):"
                   << "checking the token";
    m_core->markStale();
    m_core->startRefresh(RefreshReason::Resume);
}

void RefreshCoordinator::setAuthTimeout(std::chrono::milliseconds timeout)
{
    m_authTimeout = timeout > 0ms ? timeout : AuthCall::defaultTimeout;
}

void RefreshCoordinator::cancel(LockMode lock)
{
    m_retry.stop();
    m_overall.stop();
    if (lock == LockMode::Release)
        releaseShared();
    m_ticket = 0;
    if (m_call)
        m_call->abort();
}

void RefreshCoordinator::schedule(const TokenSet &tokens)
{
    if (tokens.lifetimeMs < 0) {
        m_proactive.stop(); // opaque token without expires_in: 401s tell us
        return;
    }
    // However short the lifetime a server claims, at most one proactive refresh a second.
    const auto due
        = std::chrono::milliseconds(tokens.lifetimeMs) - effectiveLead(tokens.lifetimeMs);
    m_proactive.start(std::max(due, minProactiveInterval));
}

void RefreshCoordinator::run(RefreshReason reason, quint64 ticket)
{
    if (!m_core->isCurrent(ticket))
        return; // superseded before it started
    // A restore read the stored token under the lock it took ahead (lockAhead): kept, and the
    // first attempt refreshes with that token without reading the store again.
    const bool lockedAhead = m_lockedAhead && m_lock->isHeld();
    m_lockedAhead = false;
    // A leftover of a refresh that was abandoned meanwhile.
    cancel(lockedAhead ? LockMode::Keep : LockMode::Release);
    m_tokenReadUnderLock = lockedAhead;
    if (lcTiming().isDebugEnabled()) {
        m_clock.start();
        qCDebug(lcTiming) << "refresh starts, reason" << int(reason);
    }
    m_ticket = ticket;
    m_reason = reason;
    m_attempt = 0;
    if (m_refreshTimeout > 0ms)
        m_overall.start(m_refreshTimeout);
    attempt();
}

void RefreshCoordinator::overallTimeout()
{
    const quint64 ticket = m_ticket;
    if (!ticket || !m_core->isCurrent(ticket))
        return; // that refresh ended meanwhile
    // Whatever it is waiting for (an answer, a backoff, another process's lock): abandoned, and
    // a passing failure; the session is kept and the next request tries again.
    AuthError error(AuthError::Kind::Network,
        QStringLiteral("The refresh timed out after %1 ms (%2 attempts); the session is kept, "
                       "try again")
            .arg(m_refreshTimeout.count())
            .arg(m_attempt));
    error.setNetworkError(QNetworkReply::TimeoutError);
    qCInfo(lcAuth) << "refresh abandoned:" << error.toString();
    cancel(); // m_ticket = 0
    endTransiently(ticket, error);
}

void RefreshCoordinator::endTransiently(quint64 ticket, const AuthError &error)
{
    // The session is kept; the waiters fail with the error; without a usable access token the
    // session is offline and the next try to reach the server is scheduled.
    m_ticket = 0;
    m_overall.stop();
    m_core->refreshFailed(ticket, error);
    Q_EMIT failedTransiently(error);
    scheduleReconnect(error);
}

void RefreshCoordinator::attempt()
{
    const quint64 ticket = m_ticket;
    if (!m_core->isCurrent(ticket))
        return;
    const QByteArray refreshToken = m_core->refreshToken();
    const ServerProfile profile = m_core->exchangeProfile();
    if (ServerProfilePrivate::of(profile).refresh.path.isEmpty() || refreshToken.isEmpty()) {
        // Nothing can renew the access token: the session is over with it.
        const AuthError error(AuthError::Kind::SessionExpired,
            ServerProfilePrivate::of(profile).refresh.path.isEmpty()
                ? QStringLiteral("The access token expired and the server has no refresh endpoint")
                : QStringLiteral("The access token expired and the server gave no refresh token"));
        m_proactive.stop();
        m_core->refreshRejected(ticket, error);
        Q_EMIT rejected(error, m_reason);
        return;
    }
    const QString lockName = m_shared.lockName ? m_shared.lockName() : QString();
    const bool readUnderLock = std::exchange(m_tokenReadUnderLock, false);
    if (lockName.isEmpty() || (readUnderLock && m_lock->isHeld())) {
        send(refreshToken);
        return;
    }
    // Another process may have rotated the stored token since this one read it: under the
    // lock, read it again and refresh with what the store holds now.
    ++m_lockTicket;
    m_lock->acquire(
        lockName,
        [this, ticket] {
            m_shared.reread([this, ticket](const QByteArray &stored) {
                if (ticket != m_ticket || !m_core->isCurrent(ticket)) {
                    releaseShared();
                    return; // abandoned meanwhile; the change that did it answered its waiters
                }
                if (!m_lock->isHeld()) { // overtaken while the store answered (we hung)
                    releaseShared();
                    lockNotTaken(ticket,
                        QStringLiteral("the refresh lock was taken over by another process"));
                    return;
                }
                if (!stored.isEmpty() && stored != m_core->refreshToken()) {
                    qCInfo(lcAuth)
                        << "the stored refresh token was rotated by another client: using it";
                    m_core->replaceRefreshToken(ticket, stored);
                }
                send(m_core->refreshToken());
            });
        },
        [this, ticket](const QString &reason) { lockNotTaken(ticket, reason); });
}

void RefreshCoordinator::lockNotTaken(quint64 ticket, const QString &reason)
{
    // Refreshing without the lock could present the token another process is rotating right
    // now, and a rotating server revokes the whole session for that. A passing failure instead:
    // the session is kept, this refresh's waiters fail, the next request tries again.
    if (ticket != m_ticket || !m_core->isCurrent(ticket))
        return; // abandoned meanwhile; the change that did it answered its waiters
    const AuthError error(AuthError::Kind::Network,
        QStringLiteral("Not refreshed: %1; the session is kept, try again").arg(reason));
    endTransiently(ticket, error);
}

void RefreshCoordinator::releaseShared()
{
    m_lockedAhead = false;
    m_tokenReadUnderLock = false;
    m_lock->release();
}

void RefreshCoordinator::send(const QByteArray &refreshToken)
{
    ++m_attempt;
    const ServerProfile profile = m_core->exchangeProfile();
    // A client's own secret (client credentials) is not even fingerprinted: a short one could
    // be guessed against the hash.
    if (ServerProfilePrivate::of(profile).refresh.send.in == Profile::Carrier::None)
        qCDebug(lcAuth) << "refresh attempt" << m_attempt << "reason" << int(m_reason)
                        << "with the client's credentials";
    else
        qCDebug(lcAuth) << "refresh attempt" << m_attempt << "reason" << int(m_reason) << "token"
                        << redacted(refreshToken);
    const quint64 ticket = m_ticket;
    m_used = true;
    if (m_clock.isValid())
        qCDebug(lcTiming) << "refresh sent at" << m_clock.nsecsElapsed() / 1000 << "us";
    m_call = AuthCall::post(m_nam,
        WireFormat::refresh(m_core->exchangeProfile(), m_core->baseUrl, refreshToken),
        { m_authTimeout, m_core->sslConfiguration() }, this,
        [this, ticket](const HttpResult &r) { onResult(r, ticket); });
}

void RefreshCoordinator::onResult(const HttpResult &result, quint64 ticket)
{
    m_call = nullptr;
    if (ticket != m_ticket || !m_core->isCurrent(ticket)) {
        releaseShared();
        qCDebug(lcAuth) << "answer to an abandoned refresh ignored";
        return; // the change that abandoned it already answered its waiters
    }
    if (m_clock.isValid())
        qCDebug(lcTiming) << "refresh answered" << result.status << "at"
                          << m_clock.nsecsElapsed() / 1000 << "us";
    const ServerProfile profile = m_core->exchangeProfile();
    WireFormat::RefreshVerdict verdict = WireFormat::classifyRefresh(profile, result);
    // A credential sent nowhere in the body (client credentials: the secret in the Basic
    // header) is kept, whatever refresh token the answer may carry.
    if (ServerProfilePrivate::of(profile).refresh.send.in == Profile::Carrier::None)
        verdict.tokens.refresh.clear();
    if (verdict.outcome == WireFormat::RefreshOutcome::Tokens) {
        const TokenSet &tokens = verdict.tokens;
        qCInfo(lcAuth) << "refreshed, access token" << redacted(tokens.access) << "lifetime ms"
                       << tokens.lifetimeMs
                       << (tokens.refresh.isEmpty() ? "(refresh token kept)" : "(rotated)");
        // The session has the new tokens first (a slot of the signal that signs out revokes
        // the rotated token, not the spent one); then the client queues the rotated token's
        // write, still before the waiters and flush() are answered (they are queued calls).
        m_ticket = 0;
        m_overall.stop();
        m_reconnect.stop();
        m_reconnects = 0;
        m_core->refreshSucceeded(ticket, tokens, freshnessMargin(tokens.lifetimeMs));
        if (m_clock.isValid())
            qCDebug(lcTiming) << "refresh applied, waiters answered at"
                              << m_clock.nsecsElapsed() / 1000 << "us";
        schedule(tokens);
        Q_EMIT refreshed(tokens, m_reason);
        if (m_shared.whenPersisted && m_lock->isBusy()) {
            // Held until the rotated token is in the store, for the next process to read;
            // only this acquisition is released (a newer refresh may hold it by then).
            QPointer<RefreshCoordinator> self(this);
            const quint64 lockTicket = m_lockTicket;
            m_shared.whenPersisted([self, lockTicket] {
                if (self && self->m_lockTicket == lockTicket)
                    self->releaseShared();
            });
        }
        return;
    }

    releaseShared();
    const AuthError error = verdict.error;
    if (verdict.outcome == WireFormat::RefreshOutcome::Rejected) {
        qCInfo(lcAuth) << "refresh rejected, HTTP" << result.status << "- session over";
        m_proactive.stop();
        m_ticket = 0;
        m_core->refreshRejected(ticket, error); // every waiter, on every thread, fails
        Q_EMIT rejected(error, m_reason);
        return;
    }

    qCInfo(lcAuth) << "refresh failed:" << error.toString() << "attempt" << m_attempt << "of"
                   << m_maxAttempts;
    if (verdict.retry && m_attempt < m_maxAttempts) {
        const std::chrono::milliseconds delay = backoff(m_attempt, error.retryAfter());
        m_retry.start(delay);
        Q_EMIT retrying(error, m_attempt, int(delay.count()));
        return;
    }
    endTransiently(ticket, error);
}

std::chrono::milliseconds RefreshCoordinator::backoff(int attempt, int retryAfterSeconds) const
{
    // Exponential, capped at 30 s, with jitter in [½, 1] of the step so clients that failed
    // together do not come back together.
    const qint64 base = m_initialDelay.count();
    const qint64 step = std::min<qint64>(base << std::min(attempt - 1, 16), 30000);
    const qint64 jittered
        = step / 2 + qint64(QRandomGenerator::global()->bounded(double(step / 2 + 1)));
    const qint64 serverAsked = retryAfterSeconds > 0 ? qint64(retryAfterSeconds) * 1000 : 0;
    return std::chrono::milliseconds(std::max(jittered, std::min<qint64>(serverAsked, 30000)));
}

} // namespace Latchkey
