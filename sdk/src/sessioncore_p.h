#pragma once

#include "wireformat_p.h"

#include <latchkey/authclient.h>
#include <latchkey/autherror.h>
#include <latchkey/serverprofile.h>

#include <QDeadlineTimer>
#include <QHash>
#include <QMutex>
#include <QObject>
#include <QPointer>
#include <QUrl>

#include <functional>

namespace Latchkey {

class RefreshCoordinator;
class RetryingReply;

// The session shared by an AuthClient and every AuthorizedNetworkAccessManager made for it, on
// any thread: the current tokens and the one refresh in flight. Every method is thread-safe.
// A refresh runs in the client's thread (RefreshCoordinator); waiters on other threads are
// answered through their own event loops.
class SessionCore
{
public:
    using RefreshReason = AuthClient::RefreshReason;

    struct Snapshot
    {
        QByteArray accessToken;
        quint64 generation = 0;
        bool active = false; // signed in (or restoring): requests to the origin are managed
        bool mustRefresh = false; // no usable access token: wait for a refresh first
    };

    struct Outcome
    {
        bool ok = false;
        QByteArray accessToken;
        quint64 generation = 0;
        AuthError error;
    };
    using Waiter = std::function<void(const Outcome &)>;

    SessionCore(const ServerProfile &profile, const QUrl &baseUrl);

    const ServerProfile profile;
    const QUrl baseUrl;

    // Whether a token may go to this URL: same scheme, host and port as the base URL, over
    // https or to loopback unless plain http was allowed.
    bool authorizes(const QUrl &url) const;
    void setAllowInsecureHttp(bool allow);
    bool allowsInsecureHttp() const;

    Snapshot snapshot() const;

    // API-key mode (service clients): the key goes, in its header, to the API origin whenever
    // there is no bearer session. Empty key: off.
    void setApiKey(const QByteArray &header, const QByteArray &key);
    std::pair<QByteArray, QByteArray> apiKey() const;
    // Whether requests to the origin are managed at all (a bearer session or an API key).
    bool manages() const;
    // The login and refresh endpoints themselves: never authorized, their 401s never refresh.
    bool isAuthEndpoint(const QUrl &url) const;

    // Calls \a waiter (in \a context's thread, from its event loop) once a token newer than
    // \a seenGeneration exists, or the refresh failed. Starts the one refresh if none is in
    // flight; joins it otherwise.
    void whenRefreshed(
        quint64 seenGeneration, RefreshReason reason, QObject *context, Waiter waiter);

    // Requests sent with the token of \a generation whose bytes are not on the wire yet (queued
    // in QNetworkAccessManager behind busy connections). When a 401 shows the server refuses
    // that token (reportRejected), each is told in its own thread (RetryingReply::holdBack) so
    // that it waits for the one refresh instead of collecting a 401 of its own: a storm of N
    // then costs N requests and one refresh, not 2N requests.
    void registerUnsent(RetryingReply *reply, quint64 generation);
    void unregisterUnsent(RetryingReply *reply);
    void reportRejected(quint64 generation);

    // --- for AuthClient and RefreshCoordinator (client thread) ---
    void attach(RefreshCoordinator *coordinator);
    void detach();
    // Restoring: the stored token is being read; requests wait, no refresh starts yet.
    void beginRestore();
    // A session known by its refresh token only: the first waiter starts the refresh.
    void beginSession(const QByteArray &refreshToken);
    void applyTokens(const TokenSet &tokens, std::chrono::milliseconds freshnessMargin);
    // The session is over (signed out, refresh rejected): every waiter fails with \a reason.
    void end(const AuthError &reason);
    QByteArray refreshToken() const;
    // The store holds a newer refresh token of this session (another process rotated it).
    void replaceRefreshToken(const QByteArray &refreshToken);
    QByteArray accessToken() const;
    quint64 epoch() const; // changes with every beginSession/applyTokens-after-signIn/clear
    bool isActive() const;
    // Proactive refresh: starts one unless one is in flight. Returns false if none started.
    bool startRefresh(RefreshReason reason);
    // Ends the refresh in flight and answers every waiter.
    void resolve(const Outcome &outcome);

private:
    struct Pending
    {
        QPointer<QObject> context;
        Waiter waiter;
    };
    static void dispatch(QObject *context, Waiter waiter, const Outcome &outcome);
    Outcome currentOutcomeLocked() const;

    // The base URL's origin, taken apart once (authorizes() runs for every request).
    const QString m_baseScheme; // lower case
    const QString m_baseHost;
    const int m_basePort;
    const bool m_baseIsLoopback;

    mutable QMutex m_mutex;
    RefreshCoordinator *m_coordinator = nullptr;
    QByteArray m_access;
    QByteArray m_refresh;
    quint64 m_generation = 1;
    quint64 m_epoch = 1;
    bool m_active = false;
    bool m_refreshing = false;
    bool m_restoring = false;
    AuthError m_endReason { AuthError::Kind::NotSignedIn, QStringLiteral("Not signed in") };
    bool m_allowInsecure = false;
    QByteArray m_apiKeyHeader;
    QByteArray m_apiKey;
    QDeadlineTimer m_freshUntil { QDeadlineTimer::Forever };
    QList<Pending> m_waiters;
    QHash<RetryingReply *, quint64> m_unsent;
};

} // namespace Latchkey
