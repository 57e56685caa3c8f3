#pragma once

#include "latchkeyqml_export.h"

#include <latchkey/authclient.h>
#include <latchkey/autherror.h>

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
    Q_PROPERTY(QString profile READ profile WRITE setProfile NOTIFY profileChanged FINAL)
    Q_PROPERTY(QUrl baseUrl READ baseUrl WRITE setBaseUrl NOTIFY baseUrlChanged FINAL)
    Q_PROPERTY(Store store READ store WRITE setStore NOTIFY storeChanged FINAL)
    Q_PROPERTY(bool ready READ isReady NOTIFY clientChanged FINAL)
    Q_PROPERTY(Latchkey::AuthClient *client READ client NOTIFY clientChanged FINAL)

    // The session, mirrored from the client
    Q_PROPERTY(Latchkey::AuthClient::State state READ state NOTIFY stateChanged FINAL)
    Q_PROPERTY(bool busy READ isBusy NOTIFY busyChanged FINAL)
    Q_PROPERTY(bool authenticated READ isAuthenticated NOTIFY stateChanged FINAL)
    Q_PROPERTY(QString identity READ identity NOTIFY identityChanged FINAL)
    Q_PROPERTY(QJsonObject user READ user NOTIFY userChanged FINAL)
    Q_PROPERTY(QStringList roles READ roles NOTIFY userChanged FINAL)
    Q_PROPERTY(QStringList permissions READ permissions NOTIFY userChanged FINAL)
    Q_PROPERTY(QDateTime expiresAt READ expiresAt NOTIFY expiresAtChanged FINAL)
    /*! False while a session is kept that the server has not confirmed (a start without
        network): authenticated, identity and user known, requests fail at once; Latchkey
        reconnects by itself, and restore() tries at once. */
    Q_PROPERTY(bool online READ isOnline NOTIFY onlineChanged FINAL)
    Q_PROPERTY(Latchkey::AuthError lastError READ lastError NOTIFY lastErrorChanged FINAL)

public:
    /*! Where the refresh token is kept between runs. */
    enum class Store {
        Keychain, ///< the OS keychain (default): the session survives a restart
        Memory, ///< this process only
    };
    Q_ENUM(Store)

    explicit QmlSession(QObject *parent = nullptr);
    ~QmlSession() override;

    QString profile() const { return m_profile; }
    void setProfile(const QString &nameOrFile);
    QUrl baseUrl() const { return m_baseUrl; }
    void setBaseUrl(const QUrl &url);
    Store store() const { return m_store; }
    void setStore(Store store);
    bool isReady() const { return m_client != nullptr; }
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

    Q_INVOKABLE void signIn(const QString &identity, const QString &password);
    /*! Restores the session kept in the store; nothing stored ends in failed("restore",
        NotSignedIn) without touching lastError. */
    Q_INVOKABLE void restore(const QString &identity = QString());
    Q_INVOKABLE void signOut();
    /*! Creates an account (does not sign in): registered(user) or failed("register", error). */
    Q_INVOKABLE void registerAccount(const QString &identity, const QString &password,
        const QJsonObject &fields = QJsonObject());
    Q_INVOKABLE bool hasRole(const QString &role) const;
    Q_INVOKABLE bool hasPermission(const QString &permission) const;
    Q_INVOKABLE void clearError();
    /*! Emits flushed() once every write to the token store so far is done (before quitting:
        a refresh rotates the stored token). */
    Q_INVOKABLE void flush();

    /*! A JSON request to \a path (relative to baseUrl, or absolute) through the authorized
        manager: \a body (an object or array) is sent as JSON. Use the returned object's then():
        `session.request("POST", "/api/bookings", {…}).then(data => …, error => …)`. */
    Q_INVOKABLE Latchkey::ApiRequest *request(
        const QString &method, const QString &path, const QJSValue &body = QJSValue());
    Q_INVOKABLE Latchkey::ApiRequest *get(const QString &path);
    Q_INVOKABLE Latchkey::ApiRequest *post(const QString &path, const QJSValue &body);

    void classBegin() override;
    void componentComplete() override;

Q_SIGNALS:
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

    void signedIn();
    void restored();
    void signedOut();
    void registered(const QJsonObject &user);
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
    /*! An operation ("signIn", "restore", "signOut", "register") ended with \a error. */
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

    QString m_profile;
    QUrl m_baseUrl;
    Store m_store = Store::Keychain;
    bool m_complete = false;
    AuthClient *m_client = nullptr;
    std::shared_ptr<SessionRegistry> m_registry; // of the engine's factory, if ours
    AuthError m_lastError;
};

} // namespace Latchkey
