#include "refreshcoordinator_p.h"

#include "authcall_p.h"
#include "logging_p.h"

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
    m_proactive.setSingleShot(true);
    m_proactive.setTimerType(Qt::PreciseTimer);
    connect(&m_proactive, &QTimer::timeout, this, [this] {
        if (m_core->startRefresh(RefreshReason::Proactive))
            qCDebug(lcAuth) << "proactive refresh";
    });
    m_retry.setSingleShot(true);
    connect(&m_retry, &QTimer::timeout, this, &RefreshCoordinator::attempt);
    m_core->attach(this);
}

RefreshCoordinator::~RefreshCoordinator()
{
    m_core->detach();
}

void RefreshCoordinator::setRetry(int maxAttempts, std::chrono::milliseconds initialDelay)
{
    m_maxAttempts = qMax(1, maxAttempts);
    m_initialDelay = qMax(0ms, initialDelay);
}

std::chrono::milliseconds RefreshCoordinator::effectiveLead(qint64 lifetimeMs) const
{
    if (m_lead >= 0ms)
        return m_lead;
    return std::min<std::chrono::milliseconds>(60s, std::chrono::milliseconds(lifetimeMs / 10));
}

std::chrono::milliseconds RefreshCoordinator::freshnessMargin(qint64 lifetimeMs)
{
    if (lifetimeMs < 0)
        return 0ms;
    return std::min<std::chrono::milliseconds>(5s, std::chrono::milliseconds(lifetimeMs / 20));
}

void RefreshCoordinator::adoptTokens(const TokenSet &tokens)
{
    m_core->applyTokens(tokens, freshnessMargin(tokens.lifetimeMs));
    schedule(tokens);
}

void RefreshCoordinator::stop()
{
    m_proactive.stop();
    m_retry.stop();
    releaseShared();
    if (m_call)
        m_call->abort();
}

void RefreshCoordinator::schedule(const TokenSet &tokens)
{
    if (tokens.lifetimeMs < 0) {
        m_proactive.stop(); // opaque token without expires_in: 401s tell us
        return;
    }
    const auto due
        = std::chrono::milliseconds(tokens.lifetimeMs) - effectiveLead(tokens.lifetimeMs);
    m_proactive.start(std::max(due, 0ms));
}

void RefreshCoordinator::run(RefreshReason reason)
{
    m_reason = reason;
    m_attempt = 0;
    m_retry.stop();
    if (m_call)
        m_call->abort(); // a leftover of a session that was closed meanwhile
    attempt();
}

void RefreshCoordinator::attempt()
{
    const QByteArray refreshToken = m_core->refreshToken();
    if (m_core->profile.refresh().path.isEmpty() && m_core->isActive()) {
        // Nothing can renew the access token: the session is over with it.
        const AuthError error(AuthError::Kind::SessionExpired,
            QStringLiteral("The access token expired and the server has no refresh endpoint"));
        m_proactive.stop();
        m_core->end(error);
        Q_EMIT rejected(error, m_reason);
        return;
    }
    if (refreshToken.isEmpty()) {
        SessionCore::Outcome outcome;
        outcome.error = AuthError(AuthError::Kind::NotSignedIn, QStringLiteral("Not signed in"));
        m_core->resolve(outcome);
        return;
    }
    const QString lockName = m_shared.lockName ? m_shared.lockName() : QString();
    if (lockName.isEmpty()) {
        send(refreshToken);
        return;
    }
    // Another process may have rotated the stored token since this one read it: under the
    // lock, read it again and refresh with what the store holds now.
    const quint64 epoch = m_core->epoch();
    ++m_lockTicket;
    m_lock->acquire(lockName, [this, epoch] {
        m_shared.reread(
            [this, epoch](const QByteArray &stored) {
                if (epoch != m_core->epoch()) {
                    releaseShared();
                    return; // the session ended meanwhile; end() answered its waiters
                }
                const QByteArray current = m_core->refreshToken();
                if (!stored.isEmpty() && stored != current) {
                    qCInfo(lcAuth)
                        << "the stored refresh token was rotated by another client: using it";
                    m_core->replaceRefreshToken(stored);
                }
                send(m_core->refreshToken());
            });
    });
}

void RefreshCoordinator::releaseShared()
{
    m_lock->release();
}

void RefreshCoordinator::send(const QByteArray &refreshToken)
{
    ++m_attempt;
    qCDebug(lcAuth) << "refresh attempt" << m_attempt << "reason" << m_reason << "token"
                    << redacted(refreshToken);
    const quint64 epoch = m_core->epoch();
    m_call
        = AuthCall::post(m_nam, WireFormat::refresh(m_core->profile, m_core->baseUrl, refreshToken),
            this, [this, epoch](const HttpResult &r) { onResult(r, epoch); });
}

void RefreshCoordinator::onResult(const HttpResult &result, quint64 epoch)
{
    if (epoch != m_core->epoch()) {
        releaseShared();
        qCDebug(lcAuth) << "refresh answer for a closed session ignored";
        return; // end() already answered the waiters of that session
    }
    const WireFormat::RefreshVerdict verdict = WireFormat::classifyRefresh(m_core->profile, result);
    SessionCore::Outcome outcome;
    if (verdict.outcome == WireFormat::RefreshOutcome::Tokens) {
        const TokenSet &tokens = verdict.tokens;
        adoptTokens(tokens);
        qCInfo(lcAuth) << "refreshed, access token" << redacted(tokens.access) << "lifetime ms"
                       << tokens.lifetimeMs
                       << (tokens.refresh.isEmpty() ? "(refresh token kept)" : "(rotated)");
        Q_EMIT refreshed(tokens, m_reason); // the client queues the rotated token's write
        if (m_shared.whenPersisted && m_lock->isBusy()) {
            // Held until the rotated token is in the store, for the next process to read;
            // only this acquisition is released (a newer refresh may hold it by then).
            QPointer<RefreshCoordinator> self(this);
            const quint64 ticket = m_lockTicket;
            m_shared.whenPersisted([self, ticket] {
                if (self && self->m_lockTicket == ticket)
                    self->releaseShared();
            });
        }
        outcome.ok = true;
        outcome.accessToken = tokens.access;
        outcome.generation = m_core->snapshot().generation;
        m_core->resolve(outcome);
        return;
    }

    releaseShared();
    const AuthError error = verdict.error;
    if (verdict.outcome == WireFormat::RefreshOutcome::Rejected) {
        qCInfo(lcAuth) << "refresh rejected, HTTP" << result.status << "- session over";
        m_proactive.stop();
        m_core->end(error); // every waiter, on every thread, gets SessionExpired
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
    Q_EMIT failedTransiently(error);
    outcome.error = error;
    m_core->resolve(outcome);
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
