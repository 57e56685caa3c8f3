#pragma once

#include "authcall_p.h"
#include "clock_p.h"
#include "sessioncore_p.h"
#include "sharedrefreshlock_p.h"
#include "wireformat_p.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <chrono>
#include <memory>

class QNetworkAccessManager;

namespace Latchkey {

// Runs the one refresh in flight for a session, in the client's thread: calls the refresh
// endpoint, retries passing failures with backoff and jitter, tells a rejection (the session is
// over) from a blip (the session is kept), and schedules the next proactive refresh.
class RefreshCoordinator : public QObject
{
    Q_OBJECT
public:
    RefreshCoordinator(std::shared_ptr<SessionCore> core, QObject *parent = nullptr);
    ~RefreshCoordinator() override;

    void setLeadTime(std::chrono::milliseconds lead) { m_lead = lead; }
    std::chrono::milliseconds leadTime() const { return m_lead; }
    void setRetry(int maxAttempts, std::chrono::milliseconds initialDelay);
    // Each attempt's exchange: abandoned after this long without data (AuthCall). Also used by
    // the client for its own exchanges. Zero or less: the default.
    void setAuthTimeout(std::chrono::milliseconds timeout);
    std::chrono::milliseconds authTimeout() const { return m_authTimeout; }
    // One refresh with all its attempts, backoff and lock wait: past it, a passing failure
    // (Network, TimeoutError). Zero or less: no bound beyond the attempts'.
    void setRefreshTimeout(std::chrono::milliseconds timeout) { m_refreshTimeout = timeout; }
    std::chrono::milliseconds refreshTimeout() const { return m_refreshTimeout; }
    static constexpr std::chrono::milliseconds defaultRefreshTimeout { 120000 };

    // The lead time for a token of this lifetime: the setting, or min(60 s, 10 %).
    std::chrono::milliseconds effectiveLead(qint64 lifetimeMs) const;
    // How close to expiry a request stops trusting the token and waits for a refresh.
    static std::chrono::milliseconds freshnessMargin(qint64 lifetimeMs);

    // The shortest time between two proactive refreshes, however short-lived the tokens.
    static constexpr std::chrono::milliseconds minProactiveInterval { 1000 };
    // How often a waiting proactive timer looks at the clocks (to notice a sleep).
    static constexpr std::chrono::milliseconds sleepCheckInterval { 60000 };
    // The first and the longest wait between two reconnect attempts while offline.
    static constexpr std::chrono::milliseconds reconnectDelay { 2000 };
    static constexpr std::chrono::milliseconds maxReconnectDelay { 300000 };

    // New tokens from a sign-in: start the session with them and schedule the proactive refresh.
    void startSession(const TokenSet &tokens);
    void stop(); // no timer, no refresh in flight (the session core decides about waiters)
    // A restore begins: while the store is read, the connection the refresh will use opens
    // (only before this coordinator's first exchange; afterwards Qt keeps it).
    void preconnect();
    bool isProactiveScheduled() const { return m_proactive.isActive(); }
    // When the next refresh is due on Clock::instance(): the proactive one, or while offline the
    // next try to reach the server; -1 when none is scheduled.
    qint64 nextRefreshDueMs() const
    {
        return m_proactive.isActive() ? m_proactive.deadlineMs()
            : m_reconnect.isActive()  ? m_reconnect.deadlineMs()
                                      : -1;
    }

    // When the session lives in a store other processes share (the keychain): the name of the
    // lock for the current entry (empty: none), how to re-read the stored refresh token, and how
    // to wait until a rotated one is written back. Set by AuthClient.
    struct SharedStore
    {
        std::function<QString()> lockName;
        std::function<void(std::function<void(const QByteArray &)>)> reread;
        std::function<void(std::function<void()>)> whenPersisted;
    };
    void setSharedStore(SharedStore shared) { m_shared = std::move(shared); }
    // A restore takes the shared lock before it reads the stored refresh token: the refresh
    // that follows then uses what was read under the lock instead of reading the store again
    // (one keychain read less at every start). \a then runs once the lock is held (true) or
    // could not be taken (false: the refresh takes it itself, as always).
    void lockAhead(const QString &lockName, std::function<void(bool locked)> then);
    // The token read under lockAhead()'s lock will not be refreshed (nothing stored, a store
    // error): let go of the lock.
    void releaseAhead();

Q_SIGNALS:
    void refreshed(const Latchkey::TokenSet &tokens, Latchkey::RefreshReason reason);
    void rejected(const Latchkey::AuthError &error, Latchkey::RefreshReason reason);
    void retrying(const Latchkey::AuthError &error, int attempt, int retryInMs);
    void failedTransiently(const Latchkey::AuthError &error);

private:
    // Called through SessionCore (queued) when a refresh must run, with its ticket.
    void run(RefreshReason reason, quint64 ticket);
    enum class LockMode { Release, Keep };
    // Stops the refresh in flight; with Keep, the cross-process lock stays held (lockAhead).
    void cancel(LockMode lock = LockMode::Release);
    void attempt();
    void send(const QByteArray &refreshToken);
    void releaseShared();
    void lockNotTaken(quint64 ticket, const QString &reason);
    void onResult(const HttpResult &result, quint64 ticket);
    void overallTimeout();
    void schedule(const TokenSet &tokens);
    std::chrono::milliseconds backoff(int attempt, int retryAfterSeconds) const;
    // Offline (a failed refresh left no usable token): try again later, with backoff, and at
    // once when the network comes back.
    void scheduleReconnect(const AuthError &error);
    // Ends the refresh of \a ticket as a passing failure (the session kept).
    void endTransiently(quint64 ticket, const AuthError &error);
    void reconnectNow();
    // The machine slept or the wall clock was set: the token may have expired meanwhile.
    void onClockJumped(qint64 driftMs);

    std::shared_ptr<SessionCore> m_core;
    QNetworkAccessManager *m_nam;
    DeadlineTimer m_proactive;
    DeadlineTimer m_retry;
    DeadlineTimer m_reconnect; // offline: the next try to reach the server
    int m_reconnects = 0; // since the session was last confirmed
    DeadlineTimer m_overall; // the refresh timeout, from run()
    QPointer<AuthCall> m_call;
    RefreshReason m_reason = RefreshReason::Proactive;
    quint64 m_ticket = 0; // of the refresh this coordinator runs
    int m_attempt = 0;
    int m_maxAttempts = 4;
    std::chrono::milliseconds m_initialDelay { 500 };
    std::chrono::milliseconds m_lead { -1 };
    std::chrono::milliseconds m_authTimeout = AuthCall::defaultTimeout;
    std::chrono::milliseconds m_refreshTimeout = defaultRefreshTimeout;
    SharedStore m_shared;
    SharedRefreshLock *m_lock;
    quint64 m_lockTicket = 0;
    bool m_used = false; // an exchange went out, or a connection was opened ahead
    bool m_lockedAhead = false; // lockAhead() holds the lock for the refresh to come
    bool m_tokenReadUnderLock = false; // this refresh's first attempt needs no re-read
    QElapsedTimer m_clock; // latchkey.timing: since run(), started only when it is enabled
};

} // namespace Latchkey
