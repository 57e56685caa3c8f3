#pragma once

#include <latchkey/latchkey_export.h>

#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QMap>
#include <QSharedDataPointer>
#include <QString>
#include <QStringList>
#include <QUrl>

namespace Latchkey {

class ServerProfileData;
class ServerProfilePrivate;

/*!
    How one server speaks: the paths of its auth endpoints, how requests are encoded, where the
    tokens travel and where the answers put them. A value type, read from JSON (the format is
    documented in docs/profiles.md):

    \code
    QString error;
    auto profile = Latchkey::ServerProfile::builtin(QStringLiteral("latchkey"), &error);
    auto custom = Latchkey::ServerProfile::fromFile(QStringLiteral("acme.json"), &error);
    if (!custom.isValid())
        qWarning() << error; // names the key and what was expected
    \endcode
*/
class LATCHKEY_EXPORT ServerProfile
{
public:
    enum class Encoding { Json, Form };
    /*! Where a token travels or arrives: nowhere, a cookie, a body field, the bearer header. */
    enum class Carrier { None, Cookie, Body, Bearer };

    struct TokenLocation
    {
        Carrier in = Carrier::None;
        QString name; ///< cookie name, or body field name when sending
        QString pointer; ///< JSON Pointer into a response body when receiving in the body
    };

    struct Endpoint
    {
        QString path; ///< empty: the server has no such endpoint
        Encoding encoding = Encoding::Json;
        QMap<QString, QString>
            fields; ///< logical name → wire field name (login: identity, password)
        QJsonObject extra; ///< static fields sent with every call (grant_type, client_id, …)
        TokenLocation send; ///< where the refresh token goes (refresh, logout)
        bool bearer = false; ///< send the access token as a bearer (logout)
        QByteArray method = "POST"; ///< HTTP method (changePassword may be PUT)
        QMap<QByteArray, QByteArray> headers; ///< static headers sent with every call
        QString basicUser; ///< HTTP Basic client authentication (OAuth2 client_secret_basic)
        QString basicPassword;
    };

    /*! One way a server says "this refresh token is dead" (the profile key
        "refresh.rejectedWhen", a list of these): an answer whose HTTP status is in \a statuses
        and, when \a pointer is set, whose JSON body holds one of \a values at \a pointer. */
    struct RejectionRule
    {
        QList<int> statuses; ///< 4xx statuses
        QString pointer; ///< empty: the status alone decides
        QList<QJsonValue> values; ///< strings or numbers, compared exactly
    };

    /*! How the client authenticates at an OpenID provider's token endpoint: a public client
        (none, the default for apps), HTTP Basic (client_secret_basic) or the secret in the body
        (client_secret_post). The secret itself comes from the application
        (AuthClient::setClientSecret()), never from a profile. */
    enum class ClientAuth { None, Basic, Post };

    /*! The "oidc" key: an OpenID Connect provider (or a plain OAuth 2.0 authorization server)
        signed in to through the browser, a device code or client credentials. docs/oidc.md. */
    struct OpenIdConnect
    {
        QUrl issuer; ///< discovery at issuer + "/.well-known/openid-configuration"
        QString clientId;
        QStringList scopes; ///< default: openid
        ClientAuth clientAuth = ClientAuth::None;
        QUrl redirectUri; ///< default http://127.0.0.1/callback (any free port)
        QString prompt; ///< e.g. "consent"; empty: not sent
        QStringList resources; ///< RFC 8707 resource indicators
        QMap<QString, QString> authorizationParams; ///< extra authorization-request parameters
        QMap<QString, QString> tokenParams; ///< extra token-request parameters
        /*! Endpoints given by the profile, by name: authorization, token, deviceAuthorization,
            userinfo, revocation, endSession. Each overrides the discovered one. */
        QMap<QString, QUrl> endpoints;
        QStringList identityClaims; ///< identity(): the first of these claims present
        QUrl postLogoutRedirectUri; ///< added to the end-session URL
    };

    ServerProfile();
    ServerProfile(const ServerProfile &other);
    ServerProfile &operator=(const ServerProfile &other);
    ~ServerProfile();

    /*! Parses a profile; on failure returns an invalid profile and, if \a error is given, a
        message naming the offending key and what was expected. */
    static ServerProfile fromJson(const QByteArray &json, QString *error = nullptr);
    static ServerProfile fromJsonObject(const QJsonObject &object, QString *error = nullptr);
    static ServerProfile fromFile(const QString &path, QString *error = nullptr);
    /*! A profile compiled into the library: see builtinNames(). */
    static ServerProfile builtin(const QString &name, QString *error = nullptr);
    static QStringList builtinNames();
    /*! A built-in name, else a file path. */
    static ServerProfile load(const QString &nameOrPath, QString *error = nullptr);
    /*! The built-in "oidc" profile for \a issuer and \a clientId; \a scopes replace its
        default (openid profile email offline_access) when given. */
    static ServerProfile openIdConnect(
        const QUrl &issuer, const QString &clientId, const QStringList &scopes = QStringList());

    /*! Whether the profile has an "oidc" key: sign in through the browser, a device code or
        client credentials (AuthClient::signInWithBrowser() and the others). */
    bool isOpenIdConnect() const;
    OpenIdConnect openIdConnect() const;

    bool isValid() const;
    QString name() const;

    Endpoint login() const;
    Endpoint refresh() const;
    Endpoint logout() const;
    Endpoint registration() const; ///< the "register" key
    Endpoint changePassword() const; ///< fields: current, new
    /*! When a refresh answer ends the session (any rule matches); any other failed refresh keeps
        it. Default: 401, or 400/403 with "error": "invalid_grant" (RFC 6749 §5.2). */
    QList<RejectionRule> refreshRejectedWhen() const;

    QString accessTokenPointer() const;
    TokenLocation refreshTokenLocation() const;
    QString expiresInPointer() const; ///< empty: the JWT `exp` claim, else 401s only
    QString idTokenPointer() const; ///< where an OpenID Connect ID token arrives; empty: none
    QString userPointer() const; ///< empty: the user is read from the JWT claims
    QString mePath() const;
    /*! Where the user object is in the answer of mePath(): "me": {"path": …, "user": …};
        default: the tokens' user pointer if that resolves, else the whole answer. */
    QString meUserPointer() const;
    /*! Pointers into the user object (then the JWT claims) for roles and permissions. */
    QStringList rolesPointers() const;
    QString permissionsPointer() const;
    /*! The header that carries an API key (setApiKey()): "apiKey": {"header": …}. */
    QByteArray apiKeyHeader() const;
    /*! How the access token is sent: "authorization": {"header": "Authorization",
        "scheme": "Bearer"} by default; some servers want "JWT" or "Token". */
    QByteArray authorizationHeader() const;
    QByteArray authorizationScheme() const;

    QStringList errorMessagePointers() const;
    QString requirementsPointer() const;
    QString lockedUntilPointer() const;
    QString attemptsLeftPointer() const;
    QString retryAfterPointer() const;

    QJsonObject toJson() const;

private:
    friend class ServerProfilePrivate;
    QSharedDataPointer<ServerProfileData> d;
};

} // namespace Latchkey
