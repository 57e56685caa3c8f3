#include "wireformat_p.h"

#include "jsonpointer_p.h"
#include "jwtclaims_p.h"

#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QUrlQuery>

namespace Latchkey::WireFormat {

namespace {

constexpr auto kJson = "application/json";
constexpr auto kForm = "application/x-www-form-urlencoded";

QUrl endpointUrl(const QUrl &baseUrl, const QString &path)
{
    QUrl url = baseUrl;
    QString basePath = url.path();
    if (basePath.endsWith(QLatin1Char('/')))
        basePath.chop(1);
    url.setPath(basePath + path);
    return url;
}

PreparedRequest build(
    const ServerProfile::Endpoint &endpoint, const QUrl &baseUrl, QJsonObject fields)
{
    for (auto it = endpoint.extra.begin(); it != endpoint.extra.end(); ++it)
        fields.insert(it.key(), it.value());
    PreparedRequest prepared;
    prepared.request = QNetworkRequest(endpointUrl(baseUrl, endpoint.path));
    prepared.request.setRawHeader(
        QByteArrayLiteral("Accept"), QByteArrayLiteral("application/json"));
    if (endpoint.encoding == ServerProfile::Encoding::Form) {
        QUrlQuery query;
        for (auto it = fields.begin(); it != fields.end(); ++it) {
            const QJsonValue v = it.value();
            query.addQueryItem(it.key(), v.isString() ? v.toString() : v.toVariant().toString());
        }
        // QUrlQuery leaves '+' alone; in a form body it would read as a space.
        prepared.body = query.query(QUrl::FullyEncoded).toUtf8().replace('+', "%2B");
        prepared.request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray(kForm));
    } else {
        prepared.body = QJsonDocument(fields).toJson(QJsonDocument::Compact);
        prepared.request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray(kJson));
    }
    // The auth exchanges keep their cookies out of any cookie jar: a refresh token delivered as
    // a cookie goes to the token store, and is sent back only by us.
    prepared.request.setAttribute(
        QNetworkRequest::CookieLoadControlAttribute, QNetworkRequest::Manual);
    prepared.request.setAttribute(
        QNetworkRequest::CookieSaveControlAttribute, QNetworkRequest::Manual);
    prepared.request.setAttribute(
        QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    prepared.request.setAttribute(QNetworkRequest::CacheSaveControlAttribute, false);
    prepared.request.setAttribute(
        QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    for (auto it = endpoint.headers.begin(); it != endpoint.headers.end(); ++it)
        prepared.request.setRawHeader(it.key(), it.value());
    if (!endpoint.basicUser.isEmpty()) {
        const QString credentials = endpoint.basicUser + QLatin1Char(':') + endpoint.basicPassword;
        prepared.request.setRawHeader(QByteArrayLiteral("Authorization"),
            QByteArrayLiteral("Basic ") + credentials.toUtf8().toBase64());
    }
    return prepared;
}

// The refresh token goes in the body (a field of \a fields) or in a header (after build()).
QJsonObject withBodyToken(
    QJsonObject fields, const ServerProfile::TokenLocation &send, const QByteArray &refreshToken)
{
    if (send.in == ServerProfile::Carrier::Body && !refreshToken.isEmpty())
        fields.insert(send.name, QString::fromUtf8(refreshToken));
    return fields;
}

void attachHeaderToken(PreparedRequest &prepared, const ServerProfile::TokenLocation &send,
    const QByteArray &refreshToken)
{
    if (refreshToken.isEmpty())
        return;
    if (send.in == ServerProfile::Carrier::Cookie) {
        prepared.request.setRawHeader(
            QByteArrayLiteral("Cookie"), send.name.toUtf8() + '=' + refreshToken);
    } else if (send.in == ServerProfile::Carrier::Bearer) {
        prepared.request.setRawHeader(
            QByteArrayLiteral("Authorization"), QByteArrayLiteral("Bearer ") + refreshToken);
    }
}

QString firstString(const QJsonValue &doc, const QStringList &pointers)
{
    for (const QString &p : pointers) {
        const QJsonValue v = JsonPointer::resolve(doc, p);
        if (v.isString() && !v.toString().isEmpty())
            return v.toString();
    }
    return QString();
}

int parseRetryAfter(const QByteArray &header)
{
    if (header.isEmpty())
        return -1;
    bool ok = false;
    const int seconds = header.trimmed().toInt(&ok);
    if (ok)
        return qMax(0, seconds);
    const QDateTime when
        = QDateTime::fromString(QString::fromLatin1(header.trimmed()), Qt::RFC2822Date);
    if (when.isValid())
        return int(qMax<qint64>(0, QDateTime::currentDateTimeUtc().secsTo(when)));
    return -1;
}

} // namespace

PreparedRequest request(
    const ServerProfile::Endpoint &endpoint, const QUrl &baseUrl, const QJsonObject &fields)
{
    return build(endpoint, baseUrl, fields);
}

PreparedRequest jsonRequest(const QUrl &baseUrl, const QString &path, const QJsonObject &body)
{
    ServerProfile::Endpoint endpoint;
    endpoint.path = path;
    return build(endpoint, baseUrl, body);
}

QJsonValue valueAt(const QByteArray &body, const QString &pointer)
{
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    if (doc.isNull())
        return QJsonValue(QJsonValue::Undefined);
    const QJsonValue root = doc.isObject() ? QJsonValue(doc.object()) : QJsonValue(doc.array());
    return JsonPointer::resolve(root, pointer);
}

bool isLoopbackHost(const QString &host)
{
    if (host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0)
        return true;
    const QHostAddress address(host);
    return !address.isNull() && address.isLoopback();
}

PreparedRequest login(const ServerProfile &profile, const QUrl &baseUrl, const QString &identity,
    const QString &password)
{
    const ServerProfile::Endpoint e = profile.login();
    QJsonObject fields;
    fields.insert(e.fields.value(QStringLiteral("identity")), identity);
    fields.insert(e.fields.value(QStringLiteral("password")), password);
    return build(e, baseUrl, fields);
}

PreparedRequest refresh(
    const ServerProfile &profile, const QUrl &baseUrl, const QByteArray &refreshToken)
{
    const ServerProfile::Endpoint e = profile.refresh();
    PreparedRequest prepared = build(e, baseUrl, withBodyToken({}, e.send, refreshToken));
    attachHeaderToken(prepared, e.send, refreshToken);
    return prepared;
}

PreparedRequest logout(const ServerProfile &profile, const QUrl &baseUrl,
    const QByteArray &accessToken, const QByteArray &refreshToken)
{
    const ServerProfile::Endpoint e = profile.logout();
    PreparedRequest prepared = build(e, baseUrl, withBodyToken({}, e.send, refreshToken));
    if (e.bearer && !accessToken.isEmpty()) {
        prepared.request.setRawHeader(
            profile.authorizationHeader(), profile.authorizationScheme() + ' ' + accessToken);
    }
    attachHeaderToken(prepared, e.send, refreshToken);
    return prepared;
}

bool parseTokens(
    const ServerProfile &profile, const HttpResult &result, TokenSet *tokens, AuthError *error)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(result.body, &parseError);
    if (parseError.error != QJsonParseError::NoError || !(doc.isObject() || doc.isArray())) {
        *error = AuthError(AuthError::Kind::Protocol,
            QStringLiteral("expected a JSON body with the tokens, got %1")
                .arg(result.body.isEmpty()
                        ? QStringLiteral("an empty body")
                        : QStringLiteral("malformed JSON (%1)").arg(parseError.errorString())),
            result.status);
        return false;
    }
    const QJsonValue root = doc.isObject() ? QJsonValue(doc.object()) : QJsonValue(doc.array());

    const QJsonValue access = JsonPointer::resolve(root, profile.accessTokenPointer());
    if (!access.isString() || access.toString().isEmpty()) {
        *error = AuthError(AuthError::Kind::Protocol,
            QStringLiteral("expected an access token (a string) at \"%1\"")
                .arg(profile.accessTokenPointer()),
            result.status);
        return false;
    }
    tokens->access = access.toString().toUtf8();

    const ServerProfile::TokenLocation rt = profile.refreshTokenLocation();
    if (rt.in == ServerProfile::Carrier::Body) {
        const QJsonValue v = JsonPointer::resolve(root, rt.pointer);
        if (v.isString())
            tokens->refresh = v.toString().toUtf8();
        else if (!v.isUndefined() && !v.isNull()) {
            *error = AuthError(AuthError::Kind::Protocol,
                QStringLiteral("expected the refresh token (a string) at \"%1\"").arg(rt.pointer),
                result.status);
            return false;
        }
    } else if (rt.in == ServerProfile::Carrier::Cookie) {
        for (const QNetworkCookie &cookie : result.cookies) {
            if (QString::fromUtf8(cookie.name()) == rt.name && !cookie.value().isEmpty())
                tokens->refresh = cookie.value();
        }
    }

    if (const auto claims = JwtClaims::decode(tokens->access))
        tokens->claims = claims->claims();

    if (!profile.expiresInPointer().isEmpty()) {
        const QJsonValue v = JsonPointer::resolve(root, profile.expiresInPointer());
        if (v.isDouble() && v.toDouble() > 0)
            tokens->lifetimeMs = qint64(v.toDouble() * 1000);
        else if (v.isString() && v.toString().toDouble() > 0)
            tokens->lifetimeMs = qint64(v.toString().toDouble() * 1000);
    }
    if (tokens->lifetimeMs < 0) {
        if (const auto claims = JwtClaims::decode(tokens->access)) {
            const qint64 lifetime = claims->lifetimeSeconds();
            if (lifetime > 0)
                tokens->lifetimeMs = lifetime * 1000;
        }
    }

    if (!profile.userPointer().isEmpty()) {
        const QJsonValue user = JsonPointer::resolve(root, profile.userPointer());
        if (user.isObject())
            tokens->user = user.toObject();
    }
    return true;
}

bool isRejection(const HttpResult &result)
{
    // 400 is how RFC 6749 says invalid_grant; 401/403 how most JSON APIs say it.
    return result.status == 400 || result.status == 401 || result.status == 403;
}

AuthError errorFor(const ServerProfile &profile, const HttpResult &result, Exchange exchange)
{
    if (result.tooLarge) {
        return AuthError(AuthError::Kind::Protocol,
            QStringLiteral("the server's answer is larger than Latchkey accepts "
                           "for an auth exchange (1 MiB)"),
            result.status);
    }
    if (result.transportFailed()) {
        return AuthError(AuthError::Kind::Network, result.networkErrorString)
            .setNetworkError(result.networkError);
    }
    const QJsonDocument doc = QJsonDocument::fromJson(result.body);
    const QJsonValue root = doc.isObject() ? QJsonValue(doc.object()) : QJsonValue();
    QString message = firstString(root, profile.errorMessagePointers());
    if (message.isEmpty())
        message = QStringLiteral("the server answered HTTP %1").arg(result.status);
    const int status = result.status;

    const QJsonValue requirements = JsonPointer::resolve(root, profile.requirementsPointer());
    const QJsonValue lockedUntil = JsonPointer::resolve(root, profile.lockedUntilPointer());
    int retryAfter = parseRetryAfter(result.retryAfterHeader);
    if (retryAfter < 0) {
        const QJsonValue v = JsonPointer::resolve(root, profile.retryAfterPointer());
        if (v.isDouble())
            retryAfter = int(v.toDouble());
    }

    if (status == 429)
        return AuthError(AuthError::Kind::RateLimited, message, status).setRetryAfter(retryAfter);
    if (status == 423 || lockedUntil.isString()) {
        return AuthError(AuthError::Kind::AccountLocked, message, status)
            .setLockedUntil(QDateTime::fromString(lockedUntil.toString(), Qt::ISODate))
            .setRetryAfter(retryAfter);
    }
    if (status >= 500) {
        return AuthError(AuthError::Kind::Server, message, status).setRetryAfter(retryAfter);
    }
    if (requirements.isArray()) {
        QStringList list;
        for (const QJsonValue &r : requirements.toArray())
            list << r.toString();
        return AuthError(AuthError::Kind::PasswordPolicy, message, status).setRequirements(list);
    }
    if (status == 409)
        return AuthError(AuthError::Kind::AlreadyExists, message, status);
    switch (exchange) {
    case Exchange::Login:
        if (status == 400 || status == 401 || status == 403)
            return AuthError(AuthError::Kind::InvalidCredentials, message, status);
        break;
    case Exchange::Refresh:
        if (isRejection(result))
            return AuthError(AuthError::Kind::SessionExpired, message, status);
        break;
    case Exchange::ChangePassword:
        if (status == 400 || status == 401 || status == 403)
            return AuthError(AuthError::Kind::InvalidCredentials, message, status);
        break;
    case Exchange::Register:
        break;
    case Exchange::Logout:
    case Exchange::Me:
        if (status == 401)
            return AuthError(AuthError::Kind::SessionExpired, message, status);
        break;
    }
    return AuthError(AuthError::Kind::Protocol, message, status);
}

} // namespace Latchkey::WireFormat
