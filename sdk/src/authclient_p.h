#pragma once

#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/tokenstore.h>

#include "authcall_p.h"
#include "autosignin_p.h"
#include "oidcsignin_p.h"
#include "refreshcoordinator_p.h"
#include "sessioncore_p.h"
#include "storequeue_p.h"

#include <QNetworkAccessManager>
#include <QPointer>

#include <memory>

namespace Latchkey {

class AuthClientPrivate
{
public:
    AuthClientPrivate(AuthClient *q, const ServerProfile &profile, const QUrl &baseUrl);

    // The session behind \a client, for the managers made for it (nullptr: none).
    static std::shared_ptr<SessionCore> sessionOf(const AuthClient *client);

    // Entries in the token store: the refresh token of one identity, and the identity that
    // signed in last (what restore() uses when no identity is given).
    QString tokenKey(const QString &identity) const;
    QString lastIdentityKey() const;
    // An OpenID provider's endpoints, kept beside its sessions (a restore needs no discovery).
    QString metadataKey() const { return QStringLiteral("oidc ") + lastIdentityKey(); }

    TokenStore *ensureStore();
    // A reason to refuse before any network traffic (bad profile, insecure URL), else NoError.
    AuthError preflight() const;
    // The timeout and TLS configuration of this client's auth exchanges.
    AuthCall::Settings callSettings() const;

    void setState(AuthClient::State state);
    void setIdentity(const QString &identity);
    void setOnline(bool online);
    // Sets user() and keeps it in the store (userKey) for a start without network.
    void setUser(const QJsonObject &user);
    QString userKey(const QString &identity) const;
    void applyTokenDetails(const TokenSet &tokens);
    void clearDetails();
    void persist(const TokenSet &tokens, TokenStore::DoneCallback done = {});
    void wipe(const QString &identity, TokenStore::DoneCallback done);

    // The start of every sign-in: ends what was in progress, clears the previous user, state
    // SigningIn. Returns the operation number the sign-in's callbacks compare against.
    quint64 beginSignIn(AuthReply *reply);
    // The end of a successful sign-in: the session starts with \a tokens; with \a keep, the
    // reply ends once the store kept them.
    void adoptSignIn(AuthReply *reply, const QString &id, const TokenSet &tokens, bool keep);
    void signInFailed(AuthReply *reply, const AuthError &error);
    // An OpenID sign-in's outcome, for the sign-in \a operation.
    void oidcDone(AuthReply *reply, quint64 operation, const OidcSignIn::Outcome &outcome,
        OidcMetadata::Grant grant);
    // preflight(), and the profile must be an OpenID Connect one.
    AuthError preflightOidc() const;

    // GET or PUT the profile's "me" endpoint through the authorized manager.
    void meExchange(AuthReply *reply, const QByteArray &verb, const QJsonObject &body);

    // Reads a stored session from the token store: \a identity's, else the last one signed in.
    // \a done gets the identity found, its refresh token (empty: none) and a store error.
    // With \a lockAhead (restore), the refresh token is read under the shared refresh lock,
    // kept for the refresh that follows (RefreshCoordinator::lockAhead).
    void readStoredSession(const QString &identity,
        std::function<void(const QString &, const QByteArray &, const AuthError &)> done,
        bool lockAhead = false);
    // The cross-process refresh lock of \a identity's stored session; empty when the store is
    // not shared with other processes.
    QString sharedLockName(const QString &identity) const;

    void onRefreshed(const TokenSet &tokens, RefreshReason reason);
    void onRejected(const AuthError &error, RefreshReason reason);

    // Ends the replies of a restore or sign-in still in progress with Cancelled (a newer
    // operation replaced it) and makes their pending callbacks stale.
    void supersedePending(const QString &why);
    // With a credentials provider and a password sign-in: signs in by itself (AutoSignIn), the
    // replies of the restore in progress ending with its first outcome. False when it cannot.
    bool signInByItself(bool afterRejection);
    // A failure for health(): kept with the time it happened.
    void noteError(const AuthError &error);
    // Finishes every reply of the restore in progress (they joined one another).
    void finishRestore(const AuthError &error);
    // The first store error since the last call, consumed.
    AuthError takeStoreError();

    AuthClient *const q;
    std::shared_ptr<SessionCore> core;
    RefreshCoordinator *coordinator;
    QNetworkAccessManager *authNam;
    StoreQueue *storeQueue;
    QPointer<TokenStore> store;
    AuthorizedNetworkAccessManager *nam = nullptr;

    AuthClient::State state = AuthClient::State::SignedOut;
    QString identity;
    QJsonObject user;
    QJsonObject claims;
    QDateTime expiresAt;
    AuthError lastStoreError;
    bool expiredSignalled = false;
    bool online = true;
    // Each restore, sign-in and sign-out gets a number; a callback of an older one is stale.
    quint64 operation = 0;
    QList<QPointer<AuthReply>> restoreReplies; // the restore in progress and those that joined it
    QString restoreIdentity; // what that restore was asked for (empty: the last one)
    QPointer<AuthReply> signInReply; // the sign-in in progress

    // OpenID Connect (profiles with an "oidc" key): the sign-ins, the last ID token (in memory
    // only: the end-session URL's hint) and the end-session URL of the session that ended.
    OidcSignIn *oidc = nullptr;
    QByteArray idToken;
    QUrl endSessionUrl;
    std::function<bool(const QUrl &)> urlOpener;
    // Client credentials: the session's "refresh token" is the client secret, in memory only;
    // nothing is stored, locked, revoked or restored.
    bool serviceMode = false;

    // A headless service's sign-in by itself, and what health() reports (times on the clock's
    // wall time, ms since the epoch; -1: never).
    AutoSignIn *autoSignIn;
    int refreshesOk = 0;
    int refreshesFailed = 0;
    int signIns = 0;
    int signInFailures = 0;
    qint64 lastRefreshMs = -1;
    AuthError lastError;
    qint64 lastErrorMs = -1;
};

} // namespace Latchkey
