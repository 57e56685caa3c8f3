#pragma once

#include <latchkey/autherror.h>
#include <latchkey/authreply.h>
#include <latchkey/deviceauthorization.h>
#include <latchkey/latchkey_export.h>
#include <latchkey/serverprofile.h>

#include <QDateTime>
#include <QJsonObject>
#include <QObject>
#include <QSslConfiguration>
#include <QUrl>

#include <chrono>
#include <functional>
#include <memory>

namespace Latchkey {

class AuthClientPrivate;
class AuthorizedNetworkAccessManager;
class CredentialsProvider;
class TokenStore;

/*!
    The session: sign in, restore the session from the keychain at start-up, sign out. Holds the
    access token in memory only and the refresh token in a TokenStore (the OS keychain by
    default); refreshes before expiry and on demand. Thread-affine like QNetworkAccessManager,
    but the session behind it is shared with every AuthorizedNetworkAccessManager made for it, on
    any thread: they all see one token and cause one refresh.

    \code
    auto *client = new Latchkey::AuthClient(Latchkey::ServerProfile::builtin(u"latchkey"_qs),
                                            QUrl(u"https://api.example.com"_qs), this);
    connect(client->restore(), &Latchkey::AuthReply::finished, this, [this, client] {
        if (client->state() != Latchkey::AuthClient::State::SignedIn)
            showSignInForm(); // nothing stored, or rejected: the form calls client->signIn()
    });
    auto *nam = client->networkAccessManager(); // every request to the API is authorized
    \endcode
*/
class LATCHKEY_EXPORT AuthClient : public QObject
{
    Q_OBJECT
    Q_PROPERTY(State state READ state NOTIFY stateChanged FINAL) ///< see state()
    Q_PROPERTY(bool busy READ isBusy NOTIFY busyChanged FINAL) ///< see isBusy()
    Q_PROPERTY(QString identity READ identity NOTIFY identityChanged FINAL) ///< see identity()
    Q_PROPERTY(QJsonObject user READ user NOTIFY userChanged FINAL) ///< see user()
    Q_PROPERTY(QStringList roles READ roles NOTIFY userChanged FINAL) ///< see roles()
    /*! see permissions() */
    Q_PROPERTY(QStringList permissions READ permissions NOTIFY userChanged FINAL)
    Q_PROPERTY(QJsonObject claims READ claims NOTIFY claimsChanged FINAL) ///< see claims()
    /*! see expiresAt() */
    Q_PROPERTY(QDateTime expiresAt READ expiresAt NOTIFY expiresAtChanged FINAL)
    Q_PROPERTY(bool online READ isOnline NOTIFY onlineChanged FINAL) ///< see isOnline()
public:
    /*! Where the session is: signed out, restoring the stored session (restore()), signing in
        (any signIn…()), signed in, or signing out (signOut()). */
    enum class State { SignedOut, Restoring, SigningIn, SignedIn, SigningOut };
    Q_ENUM(State)
    /*! Why a refresh happened: before expiry, after a 401, at restore, because a request found
        the token about to expire, to reach the server again while offline (backoff, the network
        back, or restore() called again), or after the machine slept. */
    enum class RefreshReason { Proactive, Unauthorized, Restore, Freshness, Reconnect, Resume };
    Q_ENUM(RefreshReason)

    /*! A client for the server that \a profile describes, at \a baseUrl (the API's origin,
        possibly with a path: endpoint paths are joined to it with apiUrl()). Signed out until
        restore() or a sign-in. */
    AuthClient(const ServerProfile &profile, const QUrl &baseUrl, QObject *parent = nullptr);
    /*! Ends nothing on the server: the stored session stays for the next run (see flush()).
        Managers on other threads that outlive the client authorize nothing any more. */
    ~AuthClient() override;

    /*! The profile given to the constructor. */
    ServerProfile profile() const;
    /*! The base URL given to the constructor. */
    QUrl baseUrl() const;

    /*! Replaces the token store (default: a KeychainTokenStore). A store without a parent is
        adopted. Set it before the first signIn() or restore(). */
    void setTokenStore(TokenStore *store);
    /*! The token store in use (see setTokenStore()). */
    TokenStore *tokenStore() const;

    /*! How long before expiry the proactive refresh runs. Negative (the default): automatic,
        min(60 s, 10 % of the token's lifetime). */
    void setRefreshLeadTime(std::chrono::milliseconds lead);
    /*! See setRefreshLeadTime(). */
    std::chrono::milliseconds refreshLeadTime() const;
    /*! A refresh that fails on the network or with a 5xx is tried again up to maxAttempts times
        in all, waiting initialDelay, then twice as long each time, with jitter. */
    void setRefreshRetry(int maxAttempts, std::chrono::milliseconds initialDelay);
    /*! Plain http:// is refused for hosts other than loopback unless allowed here. */
    void setAllowInsecureHttp(bool allow);
    /*! See setAllowInsecureHttp(). */
    bool allowsInsecureHttp() const;

    /*! The TLS configuration of this client: used for its own exchanges (sign-in, refresh,
        sign-out, registration) and for every request to the API's origin (scheme, host, port of
        the base URL) made through its managers that has no SSL configuration of its own, i.e.
        whose QNetworkRequest::sslConfiguration() is still QSslConfiguration::
        defaultConfiguration() (a request that brings its own keeps it; so does a redirect's
        target on another origin, which gets Qt's default). A null configuration (the default)
        changes nothing. To trust a private CA as well as the system's:
        \code
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.setCaCertificates(QSslConfiguration::systemCaCertificates()
                              + QSslCertificate::fromPath(u"company-ca.pem"_qs));
        client->setSslConfiguration(tls);
        \endcode
        (Setting CA certificates turns off Qt's loading of the system's on demand, hence
        systemCaCertificates().) Latchkey never ignores a TLS error. Set it before the first
        exchange: each QNetworkAccessManager keeps the connection it made to a host, with the
        TLS configuration it was made with, until it has been unused for about two minutes,
        and sends later requests to that host over it whatever their own configuration. */
    void setSslConfiguration(const QSslConfiguration &configuration);
    /*! See setSslConfiguration(). */
    QSslConfiguration sslConfiguration() const;

    /*! How long an auth exchange (sign-in, each refresh attempt, sign-out, registration,
        password change, profile) may go without any data moving before it is abandoned: it
        then fails with Network, networkError() QNetworkReply::TimeoutError (a refresh attempt
        is retried like any network failure). Default 30 s; zero or less restores it. */
    void setAuthTimeout(std::chrono::milliseconds timeout);
    /*! See setAuthTimeout(). */
    std::chrono::milliseconds authTimeout() const;
    /*! The longest one refresh may take in all: its attempts, the backoff between them and the
        wait for another process's refresh lock. Past it the attempt in flight is abandoned and
        the refresh fails without ending the session (Network, QNetworkReply::TimeoutError;
        refreshFailed() is emitted, the requests that waited fail, the next request tries
        again). Default 2 minutes; zero or less: no bound beyond the attempts' own. */
    void setRefreshTimeout(std::chrono::milliseconds timeout);
    /*! See setRefreshTimeout(). */
    std::chrono::milliseconds refreshTimeout() const;

    /*! Where the session is; stateChanged() tells. */
    State state() const;
    /*! True while restoring, signing in or signing out (a refresh does not count). */
    bool isBusy() const;
    /*! Who is signed in, or was until the session expired (a sign-in form can offer it
        again); empty after signOut(). */
    QString identity() const;
    /*! The user object of the sign-in's answer (where the profile says), of the ID token, or
        of fetchProfile(); empty when signed out. */
    QJsonObject user() const;
    /*! Roles from the user object, else the access token's claims (display and gating only). */
    QStringList roles() const;
    /*! Whether roles() holds \a role. */
    bool hasRole(const QString &role) const;
    /*! Permissions from the user object, else the access token's claims (display and gating
        only). The profile's "claims" key says where they are. */
    QStringList permissions() const;
    /*! Whether permissions() holds \a permission. */
    bool hasPermission(const QString &permission) const;
    /*! The access token's claims, decoded without verification: for display and gating only,
        never trusted for security. Empty for opaque tokens. */
    QJsonObject claims() const;
    /*! When the access token expires (UTC); invalid when signed out or unknown. */
    QDateTime expiresAt() const;
    /*! False while a session is kept that the server has not confirmed: its last refresh could
        not reach the server (network, 5xx) and there is no usable access token — for example
        restore() at a start without network. The state stays SignedIn, identity() and user()
        are known; requests fail at once with Network. Latchkey tries again with backoff, at
        once when the network comes back, and when restore() is called again; the first answer
        ends it. True otherwise, signed out included. */
    bool isOnline() const;

    /*! Signs in with \a identity and \a password through the profile's "login" endpoint and
        keeps the refresh token in the token store. Ends with InvalidCredentials, AccountLocked
        (AuthError::lockedUntil()), RateLimited (AuthError::retryAfter()), Network, … */
    AuthReply *signIn(const QString &identity, const QString &password);
    /*! Restores the session stored for \a identity (default: the last one signed in against
        this profile and base URL) and refreshes its access token. Ends with NotSignedIn when
        nothing is stored, SessionExpired when the server rejects the stored token (it is then
        removed). When the server cannot be reached it ends with that error but keeps the
        session: SignedIn and not online() (see there). Called again while a restore runs, it
        joins it; called while offline, it tries to reach the server at once. */
    AuthReply *restore(const QString &identity = QString());
    /*! Revokes the session on the server and always wipes it locally. With an OpenID provider
        that has an end-session endpoint, the reply's data() holds "endSessionUrl" (also
        endSessionUrl()): open it to end the provider's own session in the browser too. */
    AuthReply *signOut();

    /*! OpenID Connect / OAuth 2.0 for native apps (RFC 8252): the authorization code flow with
        PKCE (S256), state and nonce, in the system browser. The profile needs an "oidc" key
        (ServerProfile::openIdConnect()). openUrlRequested() hands over the URL to open (and
        the opener set with setUrlOpener() is called with it); the redirect comes back to a
        loopback listener (http://127.0.0.1:PORT/…, the port any free one unless the profile's
        redirectUri names one) or, for a private-use URI scheme, through handleRedirect().
        The reply ends when the code was exchanged and the tokens kept, like signIn(); with
        AccessDenied when the person or the provider refused, AuthorizationExpired after
        redirectTimeout() without an answer, Cancelled after cancelSignIn(). docs/oidc.md. */
    AuthReply *signInWithBrowser();
    /*! A redirect the application received for its private-use URI scheme (from its URL
        handler, e.g. QDesktopServices::setUrlHandler()): true when it answers the browser
        sign-in in progress (its redirect URI, with its state), which then goes on; false
        otherwise, and a redirect without the sign-in's state leaves it waiting. */
    bool handleRedirect(const QUrl &url);
    /*! The device authorization grant (RFC 8628) for devices without a browser or keyboard:
        deviceCodeReceived() gives the code to show; the provider is polled until the person
        approved it elsewhere. Ends AccessDenied when refused, AuthorizationExpired when the code
        expired, Cancelled after cancelSignIn(). */
    AuthReply *signInWithDevice();
    /*! Client credentials (RFC 6749 §4.4) for services: a token for the client itself, no
        user, no refresh token. A new one is fetched with \a clientSecret before expiry and on a
        401, in single flight like any refresh. The secret stays in memory: never stored,
        never logged; nothing is written to the token store. */
    AuthReply *signInWithClientCredentials(const QByteArray &clientSecret);
    /*! For a confidential client (the profile's oidc.clientAuth "basic" or "post"): the secret
        sent to the token endpoint. Kept in memory only. */
    void setClientSecret(const QByteArray &secret);
    /*! Ends the browser or device sign-in in progress with Cancelled. */
    void cancelSignIn();
    /*! Called with the authorization URL of signInWithBrowser() (after openUrlRequested());
        return false when it could not be opened: the sign-in then fails. The SDK has no GUI
        dependency: pass QDesktopServices::openUrl, or Qt.openUrlExternally from QML. */
    void setUrlOpener(std::function<bool(const QUrl &)> opener);
    /*! How long signInWithBrowser() waits for the redirect. Default 5 minutes. */
    void setRedirectTimeout(std::chrono::milliseconds timeout);
    /*! See setRedirectTimeout(). */
    std::chrono::milliseconds redirectTimeout() const;
    /*! The OpenID provider's end-session URL of the session signOut() ended; empty when none. */
    QUrl endSessionUrl() const;
    /*! Creates an account through the profile's "register" endpoint; does not sign in.
        \a fields adds what the server wants beside identity and password (names, …). Ends with
        PasswordPolicy (see requirements()), AlreadyExists, or the created user in data(). */
    AuthReply *registerAccount(const QString &identity, const QString &password,
        const QJsonObject &fields = QJsonObject());
    /*! Through the profile's "changePassword" endpoint, authorized like any request. */
    AuthReply *changePassword(const QString &currentPassword, const QString &newPassword);
    /*! GETs the profile's "me" endpoint; updates user() and returns it in data(). */
    AuthReply *fetchProfile();
    /*! PUTs \a changes to the "me" endpoint; updates user() from the answer. */
    AuthReply *updateProfile(const QJsonObject &changes);

    /*! API-key mode for service-to-service clients: while no user is signed in, requests to the
        API's origin carry \a key in the profile's API-key header (default X-API-Key), or in
        \a header when given. An empty key turns it off. The key is never stored or logged. */
    void setApiKey(const QByteArray &key, const QByteArray &header = QByteArray());
    /*! Whether an API key is set (see setApiKey()). */
    bool hasApiKey() const;

    /*! For a headless service (docs/getting-started.md, "A headless service"): where the client
        finds an identity and password to sign in with by itself, through signIn(), when
        restore() finds no session (or the stored one is rejected: the restore's reply then
        ends with that sign-in's first outcome) and whenever the server rejects the session
        (after sessionExpired(); a session without a refresh token ends so too). While the
        server cannot be reached or fails (or locks the account, or limits the rate) it tries
        again with backoff, 2 s doubling to 5 minutes with jitter, at least what the server
        asked for (signInRetrying()); it stops for good when the server refuses the credentials
        or the provider has none (credentialsRejected()). Requests made meanwhile go out as
        for anybody signed out, and those that waited for the rejected refresh fail with
        SessionExpired, as without a provider. A signIn(), restore() or signOut() of the
        application ends the attempts in progress. Password profiles only (an OpenID client's
        own secret renews its token: signInWithClientCredentials()). A provider without a
        parent is adopted; nullptr turns it off. */
    void setCredentialsProvider(CredentialsProvider *provider);
    /*! The provider set with setCredentialsProvider(), or nullptr. */
    CredentialsProvider *credentialsProvider() const;

    /*! How the session fares, for a service's health endpoint or log, as JSON: "state",
        "identity", "online", "expiresAt", "lastRefresh" (ISO 8601 UTC, null when none),
        "refreshesOk", "refreshesFailed" (refreshes that ended without tokens: passing failures
        after their retries, and rejections), "signIns" (successful, of any kind),
        "signInFailures", "nextRefreshDue" (the proactive refresh, or while offline the next
        try to reach the server; null when none is scheduled), "autoSignIn" ("off", "idle",
        "signingIn", "waiting", "stopped"), "nextSignInAttempt" (null unless waiting),
        "lastError" (AuthError::toString() of the last failed refresh or sign-in, null when
        none) and "lastErrorAt". Never a token or a password. */
    QJsonObject health() const;

    /*! Finishes once every pending write to the token store is done (call before quitting a
        short-lived process: a refresh rotates the stored token). */
    AuthReply *flush();

    /*! The manager of this client's thread, owned by the client. For other threads construct an
        AuthorizedNetworkAccessManager there. */
    AuthorizedNetworkAccessManager *networkAccessManager();

Q_SIGNALS:
    /*! state() changed to \a state. */
    void stateChanged(Latchkey::AuthClient::State state);
    /*! isBusy() changed to \a busy. */
    void busyChanged(bool busy);
    /*! identity() changed. */
    void identityChanged();
    /*! user(), and with it roles() and permissions(), changed. */
    void userChanged();
    /*! claims() changed (a new access token). */
    void claimsChanged();
    /*! expiresAt() changed (a new access token, or none). */
    void expiresAtChanged();
    /*! isOnline() changed. */
    void onlineChanged();
    /*! A sign-in of any kind succeeded (also one by the credentials provider). */
    void signedIn();
    /*! restore() brought back a stored session and refreshed its access token. */
    void sessionRestored();
    /*! The session ended by signOut() (not by the server: that is sessionExpired()). */
    void signedOut();
    /*! The server rejected the refresh token while the session was active: the stored session
        is gone and the state is SignedOut. Emitted once per session. */
    void sessionExpired(const Latchkey::AuthError &error);
    /*! A new access token arrived, refreshed for \a reason. */
    void tokenRefreshed(Latchkey::AuthClient::RefreshReason reason);
    /*! signInWithBrowser(): open \a url in the system browser (never in an embedded view:
        RFC 8252 §8.12). */
    void openUrlRequested(const QUrl &url);
    /*! signInWithDevice(): show \a code to the person. */
    void deviceCodeReceived(const Latchkey::DeviceAuthorization &code);
    /*! One refresh attempt failed on the network (an answer cut short included) or with a 5xx
        (or 408, 429); the next attempt follows in \a retryInMs. Requests waiting for it keep
        waiting. */
    void refreshRetrying(const Latchkey::AuthError &error, int attempt, int retryInMs);
    /*! A refresh failed without ending the session (network, 5xx after its last attempt; a 4xx
        that is no rejection, a 2xx without tokens at once): the requests that waited for it
        fail; the next request tries again. */
    void refreshFailed(const Latchkey::AuthError &error);
    /*! setCredentialsProvider(): a sign-in by itself failed on the network, with a 5xx, a
        lockout or a rate limit; the next attempt follows in \a retryInMs. */
    void signInRetrying(const Latchkey::AuthError &error, int retryInMs);
    /*! setCredentialsProvider(): the server refused the provider's credentials
        (InvalidCredentials), or the provider had none (its error): the client stops signing in
        by itself until restore() starts it again. */
    void credentialsRejected(const Latchkey::AuthError &error);

private:
    friend class AuthClientPrivate;
    std::unique_ptr<AuthClientPrivate> const d;
};

} // namespace Latchkey
