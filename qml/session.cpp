#include "session.h"

#include "apirequest.h"
#include "networkaccessmanagerfactory.h"
#include "sessionregistry_p.h"

#include <latchkey/apiurl.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/authreply.h>
#include <latchkey/keychaintokenstore.h>
#include <latchkey/memorytokenstore.h>
#include <latchkey/serverprofile.h>

#include <QDesktopServices>
#include <QGuiApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QQmlEngine>

namespace Latchkey {

Q_DECLARE_LOGGING_CATEGORY(lcQml)

QmlSession::QmlSession(QObject *parent)
    : QObject(parent)
{ }

QmlSession::~QmlSession()
{
    destroyClient();
}

void QmlSession::setProfile(const QString &nameOrFile)
{
    if (m_profile == nameOrFile)
        return;
    m_profile = nameOrFile;
    Q_EMIT profileChanged();
    rebuild();
}

void QmlSession::setBaseUrl(const QUrl &url)
{
    if (m_baseUrl == url)
        return;
    m_baseUrl = url;
    Q_EMIT baseUrlChanged();
    rebuild();
}

void QmlSession::setStore(Store store)
{
    if (m_store == store)
        return;
    m_store = store;
    Q_EMIT storeChanged();
    rebuild();
}

void QmlSession::setIssuer(const QUrl &issuer)
{
    if (m_issuer == issuer)
        return;
    m_issuer = issuer;
    Q_EMIT issuerChanged();
    rebuild();
}

void QmlSession::setClientId(const QString &clientId)
{
    if (m_clientId == clientId)
        return;
    m_clientId = clientId;
    Q_EMIT clientIdChanged();
    rebuild();
}

void QmlSession::setScopes(const QStringList &scopes)
{
    if (m_scopes == scopes)
        return;
    m_scopes = scopes;
    Q_EMIT scopesChanged();
    rebuild();
}

void QmlSession::setOpenUrlsExternally(bool open)
{
    if (m_openUrlsExternally == open)
        return;
    m_openUrlsExternally = open;
    Q_EMIT openUrlsExternallyChanged();
}

void QmlSession::classBegin()
{
    installFactory();
}

void QmlSession::componentComplete()
{
    m_complete = true;
    installFactory();
    rebuild();
}

void QmlSession::installFactory()
{
    if (m_registry)
        return;
    if (QmlNetworkAccessManagerFactory *factory
        = QmlNetworkAccessManagerFactory::install(qmlEngine(this))) {
        m_registry = factory->registry();
        if (m_client)
            m_registry->add(m_client);
    }
}

void QmlSession::destroyClient()
{
    if (!m_client)
        return;
    if (m_registry)
        m_registry->remove(m_client); // before the client goes: managers on other threads
    // Not deleted at once: the client leaves this Session now and deletes itself once its
    // token-store queue is idle, so a rotated refresh token queued for the keychain still lands
    // (and, before SDK commit 470d51a, a keychain job deleted mid-flight crashed QtKeychain's
    // libsecret backend). Operations it still runs finish unobserved; at exit it is simply
    // never deleted.
    AuthClient *client = std::exchange(m_client, nullptr);
    client->disconnect(this);
    client->setUrlOpener({}); // it captures this Session
    client->cancelSignIn(); // a browser sign-in would keep its loopback listener for minutes
    setDeviceCode(DeviceAuthorization());
    client->setParent(nullptr);
    AuthReply *flushed = client->flush();
    connect(flushed, &AuthReply::finished, client, &QObject::deleteLater);
}

void QmlSession::rebuild()
{
    if (!m_complete)
        return;
    const bool hadClient = m_client != nullptr;
    const AuthClient::State oldState = state();
    const QString oldIdentity = identity();
    destroyClient();

    if (!m_profile.isEmpty() && m_baseUrl.isValid() && !m_baseUrl.isEmpty()) {
        QString error;
        const ServerProfile profile = loadProfile(&error);
        if (!profile.isValid()) {
            setLastError(AuthError(AuthError::Kind::Protocol,
                QStringLiteral("Cannot use the server profile \"%1\": %2").arg(m_profile, error)));
        } else {
            m_client = new AuthClient(profile, m_baseUrl, this);
            if (m_store == Store::Memory)
                m_client->setTokenStore(new MemoryTokenStore(m_client));
            AuthClient *c = m_client;
            connect(c, &AuthClient::stateChanged, this, &QmlSession::stateChanged);
            connect(c, &AuthClient::busyChanged, this, &QmlSession::busyChanged);
            connect(c, &AuthClient::identityChanged, this, &QmlSession::identityChanged);
            connect(c, &AuthClient::userChanged, this, &QmlSession::userChanged);
            connect(c, &AuthClient::expiresAtChanged, this, &QmlSession::expiresAtChanged);
            connect(c, &AuthClient::onlineChanged, this, &QmlSession::onlineChanged);
            connect(c, &AuthClient::signedIn, this, &QmlSession::signedIn);
            connect(c, &AuthClient::sessionRestored, this, &QmlSession::restored);
            connect(c, &AuthClient::signedOut, this, &QmlSession::signedOut);
            connect(c, &AuthClient::tokenRefreshed, this, &QmlSession::refreshed);
            connect(c, &AuthClient::refreshFailed, this, &QmlSession::refreshFailed);
            connect(c, &AuthClient::refreshRetrying, this, &QmlSession::refreshRetrying);
            connect(c, &AuthClient::sessionExpired, this, [this](const AuthError &error) {
                setLastError(error);
                Q_EMIT expired(error);
            });
            connect(c, &AuthClient::signedIn, this, &QmlSession::endSessionUrlChanged);
            // The code is used up: gone before signedIn() reaches QML.
            connect(c, &AuthClient::stateChanged, this, [this](AuthClient::State state) {
                if (state != AuthClient::State::SigningIn)
                    setDeviceCode(DeviceAuthorization());
            });
            connect(c, &AuthClient::signedOut, this, &QmlSession::endSessionUrlChanged);
            connect(c, &AuthClient::openUrlRequested, this, &QmlSession::openUrlRequested);
            connect(c, &AuthClient::deviceCodeReceived, this, &QmlSession::setDeviceCode);
            // After openUrlRequested(): the desktop's browser unless the application opens it.
            c->setUrlOpener([this](const QUrl &url) {
                if (!m_openUrlsExternally)
                    return true;
                if (!qGuiApp) {
                    qCWarning(lcQml,
                        "openUrlsExternally needs a QGuiApplication; open the URL "
                        "from onOpenUrlRequested instead");
                    return false;
                }
                return QDesktopServices::openUrl(url);
            });
            if (m_registry)
                m_registry->add(c);
            if (m_lastError.kind() == AuthError::Kind::Protocol)
                setLastError(AuthError()); // a configuration error of the previous setup
        }
    }

    if (hadClient || m_client)
        Q_EMIT clientChanged();
    if (state() != oldState) {
        Q_EMIT stateChanged();
        Q_EMIT busyChanged();
    }
    if (identity() != oldIdentity)
        Q_EMIT identityChanged();
    Q_EMIT userChanged();
    Q_EMIT expiresAtChanged();
    Q_EMIT onlineChanged();
    Q_EMIT endSessionUrlChanged();
}

ServerProfile QmlSession::loadProfile(QString *error) const
{
    ServerProfile profile = ServerProfile::load(m_profile, error);
    if (!profile.isValid() || !profile.isOpenIdConnect()
        || (m_issuer.isEmpty() && m_clientId.isEmpty() && m_scopes.isEmpty()))
        return profile;
    QJsonObject root = profile.toJson();
    QJsonObject oidc = root.value(QLatin1String("oidc")).toObject();
    if (!m_issuer.isEmpty())
        oidc.insert(QLatin1String("issuer"), m_issuer.toString());
    if (!m_clientId.isEmpty())
        oidc.insert(QLatin1String("clientId"), m_clientId);
    if (!m_scopes.isEmpty())
        oidc.insert(QLatin1String("scopes"), QJsonArray::fromStringList(m_scopes));
    root.insert(QLatin1String("oidc"), oidc);
    return ServerProfile::fromJsonObject(root, error);
}

bool QmlSession::supportsPasswordSignIn() const
{
    return m_client && m_client->profile().hasPasswordSignIn();
}

bool QmlSession::supportsBrowserSignIn() const
{
    return m_client && m_client->profile().isOpenIdConnect();
}

QUrl QmlSession::endSessionUrl() const
{
    return m_client ? m_client->endSessionUrl() : QUrl();
}

void QmlSession::setDeviceCode(const DeviceAuthorization &code)
{
    if (code.userCode == m_deviceCode.userCode
        && code.verificationUri == m_deviceCode.verificationUri
        && code.expiresAt == m_deviceCode.expiresAt)
        return;
    m_deviceCode = code;
    Q_EMIT deviceCodeChanged();
}

AuthClient::State QmlSession::state() const
{
    return m_client ? m_client->state() : AuthClient::State::SignedOut;
}

bool QmlSession::isBusy() const
{
    return m_client && m_client->isBusy();
}

QString QmlSession::identity() const
{
    return m_client ? m_client->identity() : QString();
}

QJsonObject QmlSession::user() const
{
    return m_client ? m_client->user() : QJsonObject();
}

QStringList QmlSession::roles() const
{
    return m_client ? m_client->roles() : QStringList();
}

QStringList QmlSession::permissions() const
{
    return m_client ? m_client->permissions() : QStringList();
}

QDateTime QmlSession::expiresAt() const
{
    return m_client ? m_client->expiresAt() : QDateTime();
}

bool QmlSession::isOnline() const
{
    return !m_client || m_client->isOnline();
}

bool QmlSession::hasRole(const QString &role) const
{
    return m_client && m_client->hasRole(role);
}

bool QmlSession::hasPermission(const QString &permission) const
{
    return m_client && m_client->hasPermission(permission);
}

void QmlSession::setLastError(const AuthError &error)
{
    if (error == m_lastError)
        return;
    m_lastError = error;
    Q_EMIT lastErrorChanged();
}

void QmlSession::clearError()
{
    setLastError(AuthError());
}

void QmlSession::flush()
{
    if (!m_client) {
        QMetaObject::invokeMethod(this, &QmlSession::flushed, Qt::QueuedConnection);
        return;
    }
    connect(m_client->flush(), &AuthReply::finished, this, &QmlSession::flushed);
}

bool QmlSession::checkReady(const QString &operation)
{
    if (m_client)
        return true;
    AuthError error = m_lastError.kind() == AuthError::Kind::Protocol
        ? m_lastError
        : AuthError(AuthError::Kind::Protocol,
            QStringLiteral("The session has no server: set profile and baseUrl"));
    setLastError(error);
    // Like the SDK's replies: never from inside the call.
    QMetaObject::invokeMethod(
        this, [this, operation, error] { Q_EMIT failed(operation, error); }, Qt::QueuedConnection);
    return false;
}

void QmlSession::track(AuthReply *reply, const QString &operation, bool setsLastError,
    std::function<void(AuthReply *)> onSuccess)
{
    connect(reply, &AuthReply::finished, this, [this, reply, operation, setsLastError, onSuccess] {
        const AuthError error = reply->error();
        if (error.isError()) {
            if (setsLastError)
                setLastError(error);
            Q_EMIT failed(operation, error);
        } else if (onSuccess) {
            onSuccess(reply);
        }
    });
}

void QmlSession::signIn(const QString &identity, const QString &password)
{
    if (!checkReady(QStringLiteral("signIn")))
        return;
    clearError();
    track(m_client->signIn(identity, password), QStringLiteral("signIn"), true);
}

void QmlSession::signInWithBrowser()
{
    const QString operation = QStringLiteral("signInWithBrowser");
    if (!checkReady(operation))
        return;
    clearError();
    AuthReply *reply = m_client->signInWithBrowser();
    connect(reply, &AuthReply::finished, this, [this, reply, operation] {
        const AuthError error = reply->error();
        if (!error.isError())
            return;
        if (error.kind() != AuthError::Kind::Cancelled) // the person's own choice
            setLastError(error);
        Q_EMIT failed(operation, error);
    });
}

void QmlSession::signInWithDevice()
{
    const QString operation = QStringLiteral("signInWithDevice");
    if (!checkReady(operation))
        return;
    clearError();
    AuthReply *reply = m_client->signInWithDevice();
    connect(reply, &AuthReply::finished, this, [this, reply, operation] {
        setDeviceCode(DeviceAuthorization());
        const AuthError error = reply->error();
        if (!error.isError())
            return;
        if (error.kind() != AuthError::Kind::Cancelled)
            setLastError(error);
        Q_EMIT failed(operation, error);
    });
}

void QmlSession::cancelSignIn()
{
    if (m_client)
        m_client->cancelSignIn();
}

bool QmlSession::handleRedirect(const QUrl &url)
{
    return m_client && m_client->handleRedirect(url);
}

void QmlSession::restore(const QString &identity)
{
    if (!checkReady(QStringLiteral("restore")))
        return;
    clearError();
    AuthReply *reply = m_client->restore(identity);
    connect(reply, &AuthReply::finished, this, [this, reply] {
        const AuthError error = reply->error();
        if (!error.isError())
            return;
        // Nothing stored is not something to show; everything else (expired, offline) is.
        if (error.kind() != AuthError::Kind::NotSignedIn)
            setLastError(error);
        Q_EMIT failed(QStringLiteral("restore"), error);
    });
}

void QmlSession::signOut()
{
    if (!checkReady(QStringLiteral("signOut")))
        return;
    clearError();
    track(m_client->signOut(), QStringLiteral("signOut"), true);
}

void QmlSession::registerAccount(
    const QString &identity, const QString &password, const QJsonObject &fields)
{
    if (!checkReady(QStringLiteral("register")))
        return;
    clearError();
    track(m_client->registerAccount(identity, password, fields), QStringLiteral("register"), true,
        [this](AuthReply *reply) { Q_EMIT registered(reply->data()); });
}

ApiRequest *QmlSession::request(const QString &method, const QString &path, const QJSValue &body)
{
    const QUrl url = apiUrl(m_baseUrl, path); // as the SDK and the CLI join paths
    QByteArray data;
    if (!body.isUndefined() && !body.isNull()) {
        const QVariant value = body.toVariant(QJSValue::ConvertJSObjects);
        data = body.isString() ? body.toString().toUtf8()
                               : QJsonDocument::fromVariant(value).toJson(QJsonDocument::Compact);
    }
    QNetworkAccessManager *nam = m_client
        ? static_cast<QNetworkAccessManager *>(m_client->networkAccessManager())
        : nullptr;
    auto *request
        = new ApiRequest(qmlEngine(this), m_client ? m_client->profile() : ServerProfile(), nam,
            method.toUpper().toLatin1(), url, data, this);
    QJSEngine::setObjectOwnership(request, QJSEngine::JavaScriptOwnership);
    return request;
}

ApiRequest *QmlSession::get(const QString &path)
{
    return request(QStringLiteral("GET"), path);
}

ApiRequest *QmlSession::post(const QString &path, const QJSValue &body)
{
    return request(QStringLiteral("POST"), path, body);
}

} // namespace Latchkey
