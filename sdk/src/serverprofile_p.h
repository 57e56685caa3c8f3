#pragma once

#include <latchkey/serverprofile.h>

#include <QByteArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QMap>
#include <QSharedData>
#include <QString>
#include <QStringList>
#include <QUrl>

namespace Latchkey {

// What a profile says about the wire, as the SDK's own code reads it. Not public: the JSON
// (docs/profiles.md, docs/profile.schema.json) is the contract, these types are how this version
// of the SDK holds it and may change in any release.
namespace Profile {

enum class Encoding { Json, Form };

// Where a token travels or arrives: nowhere, a cookie, a body field, the bearer header.
enum class Carrier { None, Cookie, Body, Bearer };

struct TokenLocation
{
    Carrier in = Carrier::None;
    QString name; // cookie name, or body field name when sending
    QString pointer; // JSON Pointer into a response body when receiving in the body
};

struct Endpoint
{
    QString path; // empty: the server has no such endpoint
    Encoding encoding = Encoding::Json;
    QMap<QString, QString> fields; // logical name → wire field name (login: identity, password)
    QJsonObject extra; // static fields sent with every call (grant_type, client_id, …)
    TokenLocation send; // where the refresh token goes (refresh, logout)
    bool bearer = false; // send the access token as a bearer (logout)
    QByteArray method = "POST"; // HTTP method (changePassword may be PUT)
    QMap<QByteArray, QByteArray> headers; // static headers sent with every call
    QString basicUser; // HTTP Basic client authentication (OAuth2 client_secret_basic)
    QString basicPassword;
};

// One way a server says "this refresh token is dead" (the profile key "refresh.rejectedWhen", a
// list of these): an answer whose HTTP status is in `statuses` and, when `pointer` is set, whose
// JSON body holds one of `values` at `pointer`.
struct RejectionRule
{
    QList<int> statuses; // 4xx statuses
    QString pointer; // empty: the status alone decides
    QList<QJsonValue> values; // strings or numbers, compared exactly
};

// How the client authenticates at an OpenID provider's token endpoint: a public client (none,
// the default for apps), HTTP Basic (client_secret_basic) or the secret in the body
// (client_secret_post). The secret itself comes from the application
// (AuthClient::setClientSecret()), never from a profile.
enum class ClientAuth { None, Basic, Post };

// The "oidc" key: an OpenID Connect provider (or a plain OAuth 2.0 authorization server) signed
// in to through the browser, a device code or client credentials. docs/oidc.md.
struct OpenIdConnect
{
    QUrl issuer; // discovery at issuer + "/.well-known/openid-configuration"
    QString clientId;
    QStringList scopes; // default: openid
    ClientAuth clientAuth = ClientAuth::None;
    QUrl redirectUri; // default http://127.0.0.1/callback (any free port)
    QString prompt; // e.g. "consent"; empty: not sent
    QStringList resources; // RFC 8707 resource indicators
    QMap<QString, QString> authorizationParams; // extra authorization-request parameters
    QMap<QString, QString> tokenParams; // extra token-request parameters
    // Endpoints given by the profile, by name: authorization, token, deviceAuthorization,
    // userinfo, revocation, endSession. Each overrides the discovered one.
    QMap<QString, QUrl> endpoints;
    QStringList identityClaims; // identity(): the first of these claims present
    QUrl postLogoutRedirectUri; // added to the end-session URL
};

} // namespace Profile

class ServerProfileData : public QSharedData
{
public:
    bool valid = false;
    QString errorString; // why the last parse failed; empty for a valid profile
    QJsonObject json;
    QString name;
    Profile::Endpoint login, refresh, logout;
    Profile::Endpoint registration; // the "register" key
    Profile::Endpoint changePassword; // fields: current, new
    QString accessTokenPointer;
    Profile::TokenLocation refreshTokenLocation;
    QString expiresInPointer; // empty: the JWT `exp` claim, else 401s only
    QString idTokenPointer; // where an OpenID Connect ID token arrives; empty: none
    bool hasOidc = false;
    Profile::OpenIdConnect oidc;
    QString userPointer; // empty: the user is read from the JWT claims
    QString mePath;
    // Where the user object is in the answer of mePath: "me": {"path": …, "user": …}; default:
    // the tokens' user pointer if that resolves, else the whole answer.
    QString meUserPointer;
    // Pointers into the user object (then the JWT claims) for roles and permissions.
    QStringList rolesPointers;
    QString permissionsPointer;
    QByteArray apiKeyHeader; // "apiKey": {"header": …}, for AuthClient::setApiKey()
    // How the access token is sent: "authorization": {"header": "Authorization", "scheme":
    // "Bearer"} by default; some servers want "JWT" or "Token".
    QByteArray authorizationHeader;
    QByteArray authorizationScheme;
    QStringList errorMessagePointers;
    QString requirementsPointer;
    QString lockedUntilPointer;
    QString attemptsLeftPointer;
    QString retryAfterPointer;
    // When a refresh answer ends the session (any rule matches); any other failed refresh keeps
    // it. Default: 401, or 400/403 with "error": "invalid_grant" (RFC 6749 §5.2).
    QList<Profile::RejectionRule> refreshRejectedWhen;
};

// The SDK's own code (and the tests, fuzzers and bench built from this tree) reads a profile's
// wire details here. Inline only: the library exports nothing of this, so it works across the
// shared library's boundary as long as the caller is built from the same sources.
class ServerProfilePrivate
{
public:
    static const ServerProfileData &of(const ServerProfile &profile) { return *profile.d; }
    // The OpenID Connect flows make the profile their exchanges speak (the endpoints the
    // provider published) from the one the application gave.
    static ServerProfileData *data(ServerProfile &profile) { return profile.d.data(); }
};

} // namespace Latchkey
