#pragma once

#include "tokenset_p.h"

#include <latchkey/autherror.h>
#include <latchkey/serverprofile.h>

#include <QHash>
#include <QMutex>
#include <QObject>
#include <QPointer>
#include <QSslConfiguration>
#include <QUrl>

#include <functional>
#include <limits>

namespace Latchkey {

// Why a refresh runs. The same values as the public AuthClient::RefreshReason, which is
// converted at the facade: this layer knows nothing above it.
enum class RefreshReason { Proactive, Unauthorized, Restore, Freshness, Reconnect, Resume };

// The session shared by an AuthClient and every AuthorizedNetworkAccessManager made for it, on
// any thread: the current tokens, the one refresh in flight, and who waits for it. Every method
// is thread-safe.
//
// The session is a state machine (docs/architecture.md draws it). Every change of phase goes
// through one function, change(), which also decides, in the same step, what becomes of the
// refresh in flight and of every waiter: a waiter is answered exactly once, at the latest when
// the phase it waited in ends. A refresh carries a ticket; a result whose ticket is no longer
// current (the session was superseded, signed out, or closed meanwhile) changes nothing, and
// its waiters were already answered by the change that made the ticket stale.
//
// The refresh itself runs elsewhere (RefreshCoordinator, in the client's thread): this layer
// asks for it through the Runner callbacks and includes nothing above it.
class SessionCore
{
public:
    enum class Phase {
        SignedOut, // requests to the origin go out as they are (or with the API key)
        Restoring, // the stored token is being read: requests wait, no refresh yet
        Active, // a session: requests carry its token, waiting for the one refresh if stale
    };

    struct Snapshot
    {
        QByteArray accessToken;
        QByteArray authorization; // the Authorization header's value for accessToken
        quint64 generation = 0;
        bool active = false; // restoring or signed in: requests to the origin are managed
        bool mustRefresh = false; // no usable access token: wait for a refresh first
        bool refused = false; // ... because the server refused it (a 401, reportRejected)
        // Which session: changes when one ends (signed out, expired, replaced by a sign-in or
        // a restore), not with its refreshes. A request made in one session never goes out in
        // the next (RetryingReply::resume).
        quint64 epoch = 0;
    };

    // What a waiter is told. ok with a token: send with it. ok without one: there is no session
    // (a restore found none): send without a token. Not ok: fail with error.
    struct Outcome
    {
        bool ok = false;
        QByteArray accessToken;
        QByteArray authorization; // the Authorization header's value for accessToken
        quint64 generation = 0;
        AuthError error;
    };
    using Waiter = std::function<void(const Outcome &)>;

    // How the core asks for a refresh: start() runs in context's thread (queued) with the
    // ticket its result must carry; cancel() (same thread) abandons the one in flight.
    struct Runner
    {
        QObject *context = nullptr;
        std::function<void(RefreshReason, quint64 ticket)> start;
        std::function<void()> cancel;
    };

    SessionCore(const ServerProfile &profile, const QUrl &baseUrl);

    const ServerProfile profile;
    const QUrl baseUrl;

    // Whether a token may go to this URL: same scheme, host and port as the base URL, over
    // https or to loopback unless plain http was allowed.
    bool authorizes(const QUrl &url) const;
    void setAllowInsecureHttp(bool allow);
    bool allowsInsecureHttp() const;

    Snapshot snapshot() const;
    Phase phase() const;

    // The TLS configuration of the client's own exchanges and of the requests to the API's
    // origin that bring none of their own (a null one: Qt's default). Read by every manager.
    void setSslConfiguration(const QSslConfiguration &configuration);
    QSslConfiguration sslConfiguration() const;

    // The profile the auth exchanges (sign-in, refresh, sign-out) speak: the application's,
    // or for an OpenID provider the one made from its endpoints (with a client secret the
    // application gave, so never handed out). Read by the refresh coordinator.
    void setExchangeProfile(const ServerProfile &exchange);
    ServerProfile exchangeProfile() const;

    // API-key mode (service clients): the key goes, in its header, to the API origin whenever
    // there is no bearer session. Empty key: off.
    void setApiKey(const QByteArray &header, const QByteArray &key);
    std::pair<QByteArray, QByteArray> apiKey() const;
    // Whether requests to the origin are managed at all (a bearer session or an API key).
    bool manages() const;
    // The login and refresh endpoints themselves: never authorized, their 401s never refresh.
    bool isAuthEndpoint(const QUrl &url) const;

    // Calls \a waiter (in \a context's thread, from its event loop) once a token newer than
    // \a seenGeneration exists, or the refresh failed, or the phase it waits in ended. Starts
    // the one refresh if none is in flight; joins it otherwise.
    void whenRefreshed(
        quint64 seenGeneration, RefreshReason reason, QObject *context, Waiter waiter);
    // Calls \a done (queued to \a context) once no refresh is in flight: its answer applied
    // (and handed to the store by the client) or abandoned.
    void whenSettled(QObject *context, std::function<void()> done);

    // Requests sent with the token of \a generation whose bytes are not on the wire yet (queued
    // in QNetworkAccessManager behind busy connections). When a 401 shows the server refuses
    // that token (reportRejected), \a holdBack is called in \a reply's thread so that it waits
    // for the one refresh instead of collecting a 401 of its own: a storm of N then costs N
    // requests and one refresh, not 2N requests.
    void registerUnsent(
        QObject *reply, quint64 generation, std::function<void(quint64 generation)> holdBack);
    void unregisterUnsent(QObject *reply);
    // From then on, until a new token, requests wait for the refresh instead of sending the
    // token the server refused (snapshot().refused).
    void reportRejected(quint64 generation);

    // --- transitions (client thread) ---
    void setRunner(Runner runner);
    // Restoring: requests from now on wait for the outcome. From Active, the session in
    // progress is superseded (its waiters fail Cancelled). From Restoring: nothing changes.
    void beginRestore();
    // The restore found \a refreshToken: a session known by its refresh token only; the first
    // waiter starts the refresh.
    void restoreFound(const QByteArray &refreshToken);
    // The restore found no session: its waiters go out without a token.
    void restoreFoundNothing();
    // A new session from a sign-in (the previous one was ended by supersede() or end()).
    void startSession(const TokenSet &tokens, std::chrono::milliseconds freshnessMargin);
    // A sign-in starts: whatever was in progress is superseded; waiters fail with \a reason.
    void supersede(const AuthError &reason);
    // The session is over (signed out, refresh rejected, client deleted): waiters fail.
    void end(const AuthError &reason);

    // --- the refresh's results (client thread); ignored unless \a ticket is current ---
    bool isCurrent(quint64 ticket) const;
    bool refreshSucceeded(
        quint64 ticket, const TokenSet &tokens, std::chrono::milliseconds freshnessMargin);
    void refreshFailed(quint64 ticket, const AuthError &error);
    void refreshRejected(quint64 ticket, const AuthError &error);
    // Proactive refresh: starts one unless one is in flight. Returns false if none started.
    bool startRefresh(RefreshReason reason);

    // Whether the session of \a epoch ended since, and if so how a request made in it fails
    // (*error; untouched when it ended because a restore found none: such a request goes out
    // without a token, as the restore's waiters did, whatever session exists now).
    bool endedSince(quint64 epoch, AuthError *error) const;

    // Offline: the last refresh could not reach the server (or it failed) and there is no usable
    // access token. Requests then fail at once with that error instead of each trying again;
    // the coordinator reconnects (backoff, network back, restore()). Any answer ends it.
    bool isOffline() const;
    // The token can no longer be trusted to be fresh (the machine slept: the monotonic clock
    // stopped while real time went on): requests wait for the next refresh.
    void markStale();

    QByteArray refreshToken() const;
    // The store holds a newer refresh token of this session (another process rotated it).
    void replaceRefreshToken(quint64 ticket, const QByteArray &refreshToken);
    QByteArray accessToken() const;
    bool isActive() const;

private:
    struct Pending
    {
        QPointer<QObject> context;
        Waiter waiter;
    };
    struct Settle
    {
        QPointer<QObject> context;
        std::function<void()> done;
    };
    enum class WaiterFate { Keep, Token, Anonymous, Fail };
    struct Change
    {
        Phase to;
        WaiterFate waiters;
        AuthError error; // for Fail, and what a request that meets the end later learns
        bool refreshOver; // the refresh in flight (if any) is done or abandoned
        bool cancelRefresh; // ... and must be stopped on the wire
        bool refreshFollows = false; // a refresh starts right after (whenSettled keeps waiting)
    };
    // The one transition function. Called with m_mutex held through \a lock; unlocks it to
    // answer waiters and to cancel the refresh, never calling out under the lock.
    void change(QMutexLocker<QMutex> &lock, const Change &c);
    bool startRefreshLocked(RefreshReason reason);
    bool freshLocked() const;
    void setAccessLocked(const QByteArray &access);
    static void dispatch(QObject *context, Waiter waiter, const Outcome &outcome);
    Outcome currentOutcomeLocked() const;

    // The base URL's origin, taken apart once (authorizes() runs for every request).
    const QString m_baseScheme; // lower case
    const QString m_baseHost;
    const int m_basePort;
    const bool m_baseIsLoopback;
    // The login and refresh endpoints' full paths (empty: none), for isAuthEndpoint().
    const QString m_loginPath;
    const QString m_refreshPath;

    mutable QMutex m_mutex;
    Runner m_runner;
    Phase m_phase = Phase::SignedOut;
    QByteArray m_access;
    QByteArray m_authorization; // the profile's authorization scheme, a space, m_access
    QByteArray m_refresh;
    quint64 m_generation = 1; // of the access token: a new one with every token and change
    quint64 m_ticket = 0; // of the refresh in flight (or the last one)
    bool m_refreshing = false;
    bool m_offline = false;
    bool m_nothingRestored = false; // signed out because a restore found nothing
    AuthError m_offlineError;
    AuthError m_endReason { AuthError::Kind::NotSignedIn, QStringLiteral("Not signed in") };
    bool m_allowInsecure = false;
    QByteArray m_apiKeyHeader;
    QByteArray m_apiKey;
    QSslConfiguration m_ssl;
    ServerProfile m_exchange { profile };
    qint64 m_freshUntilMs = std::numeric_limits<qint64>::max(); // on Clock::instance()
    quint64 m_refusedGeneration = 0; // the server answered 401 to the token of this generation
    quint64 m_epoch = 1; // of the session (Snapshot::epoch)
    AuthError m_lastEnd; // how the last session ended
    quint64 m_emptyRestoreEpoch = 0; // the epoch a restore that found nothing began
    QList<Pending> m_waiters;
    QList<Settle> m_settles;
    struct Unsent
    {
        quint64 generation;
        std::function<void(quint64)> holdBack;
    };
    QHash<QObject *, Unsent> m_unsent;
};

} // namespace Latchkey
