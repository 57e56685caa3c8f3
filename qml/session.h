#pragma once

#include "latchkeyqml_export.h"

#include <latchkey/authclient.h>
#include <latchkey/autherror.h>
#include <latchkey/deviceauthorization.h>

#include <QDateTime>
#include <QJSValue>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QQmlParserStatus>
#include <QUrl>

#include <QtQml/qqmlregistration.h>
#include <functional>
#include <memory>

namespace Latchkey {

class ApiRequest;
class SessionRegistry;

/*!
    The QML face of an AuthClient: `Session { profile: "latchkey"; baseUrl: "https://…" }`.

    Owns its AuthClient (rebuilt when profile, baseUrl or store change) and mirrors its state as
    bindable properties. Once it has a client, the engine's XMLHttpRequest and Image requests to
    the API's origin are authorized (see QmlNetworkAccessManagerFactory, which the Session
    installs on its engine). Operations report through lastError, failed(operation, error) and
    the success signals; request() is a small JSON helper for apps that do not want raw XHR.
*/
class LATCHKEYQML_EXPORT QmlSession : public QObject, public QQmlParserStatus
{
    Q_OBJECT
    Q_INTERFACES(QQmlParserStatus)
    QML_NAMED_ELEMENT(Session)

    // Configuration
    /*! A built-in profile's name ("latchkey", "oidc", …) or the path of a profile file
        (ServerProfile). */
    Q_PROPERTY(QString profile READ profile WRITE setProfile NOTIFY profileChanged FINAL)
    /*! The API's base URL (AuthClient::baseUrl()); paths of request(), get() and post() are
        joined to it with apiUrl(). */
    Q_PROPERTY(QUrl baseUrl READ baseUrl WRITE setBaseUrl NOTIFY baseUrlChanged FINAL)
    /*! Where the refresh token is kept: Session.Keychain (default) or Session.Memory. */
    Q_PROPERTY(Store store READ store WRITE setStore NOTIFY storeChanged FINAL)
    /*! For a profile with an "oidc" key (the built-in "oidc" one): the OpenID provider, the
        client registered there, and the scopes; each one that is set replaces the profile's. */
    Q_PROPERTY(QUrl issuer READ issuer WRITE setIssuer NOTIFY issuerChanged FINAL)
    /*! see issuer */
    Q_PROPERTY(QString clientId READ clientId WRITE setClientId NOTIFY clientIdChanged FINAL)
    /*! see issuer */
    Q_PROPERTY(QStringList scopes READ scopes WRITE setScopes NOTIFY scopesChanged FINAL)
    /*! Whether signInWithBrowser() opens the authorization URL with the desktop's browser
        (QDesktopServices::openUrl, what Qt.openUrlExternally() does) after openUrlRequested();
        false: the application opens it from onOpenUrlRequested. */
    Q_PROPERTY(bool openUrlsExternally READ openUrlsExternally WRITE setOpenUrlsExternally NOTIFY
            openUrlsExternallyChanged FINAL)
    /*! Whether the Session has a client: profile and baseUrl are set and the profile loaded
        (else lastError says why). */
    Q_PROPERTY(bool ready READ isReady NOTIFY clientChanged FINAL)
    /*! The AuthClient the Session owns (null until ready); rebuilt when profile, baseUrl or
        store change. */
    Q_PROPERTY(Latchkey::AuthClient *client READ client NOTIFY clientChanged FINAL)
    /*! What the profile offers: a password form (it has a "login" endpoint), the browser and
        a device code (it has an "oidc" key). */
    Q_PROPERTY(bool supportsPasswordSignIn READ supportsPasswordSignIn NOTIFY clientChanged FINAL)
    /*! see supportsPasswordSignIn */
    Q_PROPERTY(bool supportsBrowserSignIn READ supportsBrowserSignIn NOTIFY clientChanged FINAL)
    /*! See supportsPasswordSignIn. Whether the provider has a device authorization endpoint is
        known only at the sign-in (discovery): without one, signInWithDevice() fails with
        Protocol. */
    Q_PROPERTY(bool supportsDeviceSignIn READ supportsDeviceSignIn NOTIFY clientChanged FINAL)

    // The session, mirrored from the client
    /*! AuthClient.SignedOut, Restoring, SigningIn, SignedIn or SigningOut
        (AuthClient::state()). */
    Q_PROPERTY(Latchkey::AuthClient::State state READ state NOTIFY stateChanged FINAL)
    /*! True while restoring, signing in or signing out (AuthClient::isBusy()). */
    Q_PROPERTY(bool busy READ isBusy NOTIFY busyChanged FINAL)
    /*! Whether state is AuthClient.SignedIn. */
    Q_PROPERTY(bool authenticated READ isAuthenticated NOTIFY stateChanged FINAL)
    /*! Who is signed in, or was until the session expired (AuthClient::identity()). */
    Q_PROPERTY(QString identity READ identity NOTIFY identityChanged FINAL)
    /*! The user object (AuthClient::user()). */
    Q_PROPERTY(QJsonObject user READ user NOTIFY userChanged FINAL)
    /*! The user's roles (AuthClient::roles()); for display and gating only. */
    Q_PROPERTY(QStringList roles READ roles NOTIFY userChanged FINAL)
    /*! The user's permissions (AuthClient::permissions()); for display and gating only. */
    Q_PROPERTY(QStringList permissions READ permissions NOTIFY userChanged FINAL)
    /*! When the access token expires (AuthClient::expiresAt()). */
    Q_PROPERTY(QDateTime expiresAt READ expiresAt NOTIFY expiresAtChanged FINAL)
    /*! False while a session is kept that the server has not confirmed (a start without
        network): authenticated, identity and user known, requests fail at once; Latchkey
        reconnects by itself, and restore() tries at once. */
    Q_PROPERTY(bool online READ isOnline NOTIFY onlineChanged FINAL)
    /*! The error of the last operation that failed (an authError: kind, message, httpStatus,
        retryAfter, lockedUntil, requirements); lastError.isError is false when none.
        clearError() resets it, and so does each sign-in as it starts. */
    Q_PROPERTY(Latchkey::AuthError lastError READ lastError NOTIFY lastErrorChanged FINAL)
    /*! The code of the device sign-in in progress (userCode, verificationUri,
        verificationUriComplete, expiresAt, interval); isValid false when none. */
    Q_PROPERTY(
        Latchkey::DeviceAuthorization deviceCode READ deviceCode NOTIFY deviceCodeChanged FINAL)
    /*! The OpenID provider's end-session URL of the session signOut() ended (empty when none):
        Qt.openUrlExternally() it to sign out of the provider in the browser too. */
    Q_PROPERTY(QUrl endSessionUrl READ endSessionUrl NOTIFY endSessionUrlChanged FINAL)

public:
    /*! Where the refresh token is kept between runs. */
    enum class Store {
        Keychain, ///< the OS keychain (default): the session survives a restart
        Memory, ///< this process only
    };
    Q_ENUM(Store)

    /*! Made by the QML engine for `Session { … }`. */
    explicit QmlSession(QObject *parent = nullptr);
    /*! Destroys the client; the stored session stays for the next run. */
    ~QmlSession() override;

    /*! The C++ accessors of the properties above (READ, WRITE), for a C++ host that holds the
        Session: see each property. */
    ///@{
    QString profile() const { return m_profile; }
    void setProfile(const QString &nameOrFile);
    QUrl baseUrl() const { return m_baseUrl; }
    void setBaseUrl(const QUrl &url);
    Store store() const { return m_store; }
    void setStore(Store store);
    QUrl issuer() const { return m_issuer; }
    void setIssuer(const QUrl &issuer);
    QString clientId() const { return m_clientId; }
    void setClientId(const QString &clientId);
    QStringList scopes() const { return m_scopes; }
    void setScopes(const QStringList &scopes);
    bool openUrlsExternally() const { return m_openUrlsExternally; }
    void setOpenUrlsExternally(bool open);
    bool isReady() const { return m_client != nullptr; }
    bool supportsPasswordSignIn() const;
    bool supportsBrowserSignIn() const;
    bool supportsDeviceSignIn() const { return supportsBrowserSignIn(); }
    AuthClient *client() const { return m_client; }

    AuthClient::State state() const;
    bool isBusy() const;
    bool isAuthenticated() const { return state() == AuthClient::State::SignedIn; }
    QString identity() const;
    QJsonObject user() const;
    QStringList roles() const;
    QStringList permissions() const;
    QDateTime expiresAt() const;
    bool isOnline() const;
    AuthError lastError() const { return m_lastError; }
    DeviceAuthorization deviceCode() const { return m_deviceCode; }
    QUrl endSessionUrl() const;
    ///@}

    /*! Signs in with \a identity and \a password (AuthClient::signIn()): signedIn(), or
        failed("signIn", error) and lastError. */
    Q_INVOKABLE void signIn(const QString &identity, const QString &password);
    /*! Restores the session kept in the store; nothing stored ends in failed("restore",
        NotSignedIn) without touching lastError. */
    Q_INVOKABLE void restore(const QString &identity = QString());
    /*! Signs out (AuthClient::signOut()): signedOut(), and endSessionUrl for an OpenID
        provider; the local session is wiped even when the server cannot be reached
        (failed("signOut", error) then). */
    Q_INVOKABLE void signOut();
    /*! OpenID Connect in the system browser (authorization code with PKCE): openUrlRequested(url)
        (and the browser opened when openUrlsExternally), then signedIn() once the browser came
        back, or failed("signInWithBrowser", error): AccessDenied, AuthorizationExpired,
        Cancelled after cancelSignIn() (Cancelled leaves lastError alone). */
    Q_INVOKABLE void signInWithBrowser();
    /*! The device code flow: deviceCode is set for the person to approve elsewhere; signedIn()
        once approved, or failed("signInWithDevice", error): AccessDenied, AuthorizationExpired,
        Cancelled. deviceCode is cleared when it ends. */
    Q_INVOKABLE void signInWithDevice();
    /*! Ends the browser or device sign-in in progress with Cancelled. */
    Q_INVOKABLE void cancelSignIn();
    /*! A redirect to the profile's private-use URI scheme: true when it answered the browser
        sign-in in progress. */
    Q_INVOKABLE bool handleRedirect(const QUrl &url);
    /*! Creates an account (does not sign in): registered(user) or failed("register", error). */
    Q_INVOKABLE void registerAccount(const QString &identity, const QString &password,
        const QJsonObject &fields = QJsonObject());
    /*! Whether roles holds \a role. */
    Q_INVOKABLE bool hasRole(const QString &role) const;
    /*! Whether permissions holds \a permission. */
    Q_INVOKABLE bool hasPermission(const QString &permission) const;
    /*! Resets lastError to no error (a form's message dismissed). */
    Q_INVOKABLE void clearError();
    /*! Emits flushed() once every write to the token store so far is done (before quitting:
        a refresh rotates the stored token). */
    Q_INVOKABLE void flush();

    /*! A JSON request to \a path (relative to baseUrl, or absolute) through the authorized
        manager: \a body (an object or array) is sent as JSON. Use the returned object's then():
        `session.request("POST", "/api/bookings", {…}).then(data => …, error => …)`. */
    Q_INVOKABLE Latchkey::ApiRequest *request(
        const QString &method, const QString &path, const QJSValue &body = QJSValue());
    /*! request("GET", \a path). */
    Q_INVOKABLE Latchkey::ApiRequest *get(const QString &path);
    /*! request("POST", \a path, \a body). */
    Q_INVOKABLE Latchkey::ApiRequest *post(const QString &path, const QJSValue &body);

    /*! QQmlParserStatus: the client is built once the component is complete, not for each
        property set while it is created. */
    void classBegin() override;
    /*! QQmlParserStatus: builds the client from the properties set. */
    void componentComplete() override;

Q_SIGNALS:
    /*! The notifier of the property of the same name. */
    ///@{
    void profileChanged();
    void baseUrlChanged();
    void storeChanged();
    void clientChanged();
    void stateChanged();
    void busyChanged();
    void identityChanged();
    void userChanged();
    void expiresAtChanged();
    void onlineChanged();
    void lastErrorChanged();
    void issuerChanged();
    void clientIdChanged();
    void scopesChanged();
    void openUrlsExternallyChanged();
    void deviceCodeChanged();
    void endSessionUrlChanged();
    ///@}
    /*! signInWithBrowser(): the authorization URL to open in the system browser (never in an
        embedded web view). */
    void openUrlRequested(const QUrl &url);

    /*! A sign-in of any kind succeeded. */
    void signedIn();
    /*! restore() brought back the stored session. */
    void restored();
    /*! signOut() ended the session. */
    void signedOut();
    /*! registerAccount() created \a user (the server's answer). */
    void registered(const QJsonObject &user);
    /*! flush(): every write to the token store so far is done. */
    void flushed();
    /*! The server ended the session (rejected refresh token): sign in again. */
    void expired(const Latchkey::AuthError &error);
    /*! A new access token: reason AuthClient.Proactive, Unauthorized (after a 401), Restore or
        Freshness. */
    void refreshed(Latchkey::AuthClient::RefreshReason reason);
    /*! One refresh attempt failed on the network or with a 5xx; another follows in retryInMs. */
    void refreshRetrying(const Latchkey::AuthError &error, int attempt, int retryInMs);
    /*! A refresh failed on the network or with a 5xx after its retries; the session is kept. */
    void refreshFailed(const Latchkey::AuthError &error);
    /*! An operation ("signIn", "signInWithBrowser", "signInWithDevice", "restore", "signOut",
        "register") ended with \a error. */
    void failed(const QString &operation, const Latchkey::AuthError &error);

private:
    void rebuild();
    void destroyClient();
    void installFactory();
    void setLastError(const AuthError &error);
    // Ends \a operation's reply: failed() and lastError on error, \a onSuccess otherwise.
    void track(AuthReply *reply, const QString &operation, bool setsLastError,
        std::function<void(AuthReply *)> onSuccess = {});
    bool checkReady(const QString &operation);
    void setDeviceCode(const DeviceAuthorization &code);
    ServerProfile loadProfile(QString *error) const;

    QString m_profile;
    QUrl m_baseUrl;
    Store m_store = Store::Keychain;
    QUrl m_issuer;
    QString m_clientId;
    QStringList m_scopes;
    bool m_openUrlsExternally = true;
    DeviceAuthorization m_deviceCode;
    bool m_complete = false;
    AuthClient *m_client = nullptr;
    std::shared_ptr<SessionRegistry> m_registry; // of the engine's factory, if ours
    AuthError m_lastError;
};

} // namespace Latchkey
