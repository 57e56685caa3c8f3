#include "oauth2endpoint.h"

#include "authservice.h"
#include "httputil.h"
#include "routeddialect.h"

#include <QHttpServerRequest>
#include <QUrl>

using HttpUtil::Status;

namespace {
const QString tokenPath = QStringLiteral("/oauth/token");
const QString revokePath = QStringLiteral("/oauth/revoke");

// application/x-www-form-urlencoded: '+' is a space, then percent-decoding. A repeated
// parameter is an error (RFC 6749 §3.2); so is anything that is not valid UTF-8 text.
bool parseForm(const QByteArray &body, QMap<QString, QString> *form, QString *error)
{
    const QByteArrayList pairs = body.split('&');
    for (const QByteArray &pair : pairs) {
        if (pair.isEmpty())
            continue;
        const qsizetype eq = pair.indexOf('=');
        QByteArray rawName = eq < 0 ? pair : pair.left(eq);
        QByteArray rawValue = eq < 0 ? QByteArray() : pair.mid(eq + 1);
        const QString name = QUrl::fromPercentEncoding(rawName.replace('+', ' '));
        const QString value = QUrl::fromPercentEncoding(rawValue.replace('+', ' '));
        if (form->contains(name)) {
            *error = QStringLiteral("Parameter %1 is repeated.").arg(name);
            return false;
        }
        form->insert(name, value);
    }
    return true;
}

QHttpServerResponse noStore(QHttpServerResponse response)
{
    response.setHeader(QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-store"));
    response.setHeader(QByteArrayLiteral("Pragma"), QByteArrayLiteral("no-cache"));
    return response;
}
} // namespace

OAuth2Endpoint::OAuth2Endpoint(AuthService &auth, QStringList clientIds)
    : m_auth(auth)
    , m_clientIds(std::move(clientIds))
{ }

QHttpServerResponse OAuth2Endpoint::error(
    int status, const QString &code, const QString &description)
{
    return noStore(HttpUtil::json(
        { { QStringLiteral("error"), code }, { QStringLiteral("error_description"), description } },
        static_cast<Status>(status)));
}

std::optional<QHttpServerResponse> OAuth2Endpoint::handle(const QHttpServerRequest &request)
{
    const QString path = request.url().path();
    if (path != tokenPath && path != revokePath)
        return std::nullopt;
    if (request.method() != QHttpServerRequest::Method::Post) {
        QHttpServerResponse response
            = error(405, QStringLiteral("invalid_request"), QStringLiteral("Use POST."));
        response.setHeader(QByteArrayLiteral("Allow"), QByteArrayLiteral("POST"));
        return response;
    }
    const QByteArray type = request.value(QByteArrayLiteral("Content-Type")).trimmed().toLower();
    if (!type.startsWith("application/x-www-form-urlencoded")) {
        return error(400, QStringLiteral("invalid_request"),
            QStringLiteral("The body must be application/x-www-form-urlencoded."));
    }
    Form form;
    QString problem;
    if (!parseForm(request.body(), &form, &problem))
        return error(400, QStringLiteral("invalid_request"), problem);
    if (auto rejected = checkClient(request, form))
        return std::move(*rejected);
    return path == tokenPath ? token(request, form) : revoke(request, form);
}

std::optional<QHttpServerResponse> OAuth2Endpoint::checkClient(
    const QHttpServerRequest &request, const Form &form)
{
    QString clientId = form.value(QStringLiteral("client_id"));
    bool viaBasic = false;
    const QByteArray authorization = request.value(QByteArrayLiteral("Authorization")).trimmed();
    if (authorization.toLower().startsWith("basic ")) {
        // RFC 6749 §2.3.1: client_id:client_secret, each form-encoded. Public clients only, so
        // the secret must be empty.
        viaBasic = true;
        QByteArray pair = QByteArray::fromBase64(authorization.mid(6).trimmed());
        const qsizetype colon = pair.indexOf(':');
        QByteArray id = colon < 0 ? pair : pair.left(colon);
        const QByteArray secret = colon < 0 ? QByteArray() : pair.mid(colon + 1);
        const QString basicId = QUrl::fromPercentEncoding(id.replace('+', ' '));
        if (!secret.isEmpty() || (!clientId.isEmpty() && clientId != basicId))
            clientId.clear(); // treated as unknown below
        else
            clientId = basicId;
    }
    if (!clientId.isEmpty() && m_clientIds.contains(clientId))
        return std::nullopt;
    QHttpServerResponse response = error(401, QStringLiteral("invalid_client"),
        clientId.isEmpty() && !viaBasic ? QStringLiteral("client_id is required.")
                                        : QStringLiteral("Unknown client."));
    if (viaBasic) {
        response.setHeader(
            QByteArrayLiteral("WWW-Authenticate"), QByteArrayLiteral("Basic realm=\"latchkey\""));
    }
    return response;
}

QHttpServerResponse OAuth2Endpoint::token(const QHttpServerRequest &request, const Form &form)
{
    const QString grantType = form.value(QStringLiteral("grant_type"));
    TokenGrant grant;
    if (grantType.isEmpty()) {
        return error(
            400, QStringLiteral("invalid_request"), QStringLiteral("grant_type is required."));
    } else if (grantType == QLatin1String("password")) {
        const QString username = form.value(QStringLiteral("username"));
        const QString password = form.value(QStringLiteral("password"));
        if (username.isEmpty() || password.isEmpty()) {
            return error(400, QStringLiteral("invalid_request"),
                QStringLiteral("username and password are required."));
        }
        const LoginResult result
            = m_auth.login(username, password, RoutedDialect::clientAddress(request));
        switch (result.status) {
        case LoginResult::Status::Ok:
            grant = result.grant;
            break;
        case LoginResult::Status::InvalidCredentials:
            return error(400, QStringLiteral("invalid_grant"),
                QStringLiteral("Invalid username or password."));
        case LoginResult::Status::Locked: {
            const QString until = RoutedDialect::isoUtc(result.lockedUntil);
            QHttpServerResponse response = noStore(
                HttpUtil::json({ { QStringLiteral("error"), QStringLiteral("invalid_grant") },
                                   { QStringLiteral("error_description"),
                                       QStringLiteral("Account locked until %1").arg(until) },
                                   { QStringLiteral("locked_until"), until } },
                    Status::BadRequest));
            response.setHeader(
                QByteArrayLiteral("Retry-After"), QByteArray::number(result.lockedForSeconds));
            return response;
        }
        case LoginResult::Status::RateLimited: {
            const qint64 wait = result.rate.retryAfterSeconds;
            QHttpServerResponse response = noStore(HttpUtil::json(
                { { QStringLiteral("error"), QStringLiteral("temporarily_unavailable") },
                    { QStringLiteral("error_description"),
                        QStringLiteral("Too many sign-in attempts. Try again in %1 seconds.")
                            .arg(wait) },
                    { QStringLiteral("retry_after"), wait } },
                Status::TooManyRequests));
            response.setHeader(QByteArrayLiteral("Retry-After"), QByteArray::number(wait));
            return response;
        }
        }
    } else if (grantType == QLatin1String("refresh_token")) {
        const QString refreshToken = form.value(QStringLiteral("refresh_token"));
        if (refreshToken.isEmpty()) {
            return error(400, QStringLiteral("invalid_request"),
                QStringLiteral("refresh_token is required."));
        }
        const RefreshResult result = m_auth.refresh(refreshToken);
        switch (result.status) {
        case RefreshResult::Status::Ok:
            grant = result.grant;
            break;
        case RefreshResult::Status::Injected:
            return error(result.injectedStatus,
                result.injectedStatus < 500 ? QStringLiteral("invalid_grant")
                                            : QStringLiteral("temporarily_unavailable"),
                QStringLiteral("Injected failure"));
        case RefreshResult::Status::Missing:
        case RefreshResult::Status::Invalid:
        case RefreshResult::Status::Reused:
            return error(400, QStringLiteral("invalid_grant"),
                QStringLiteral("The refresh token is invalid, expired or revoked."));
        }
    } else {
        return error(400, QStringLiteral("unsupported_grant_type"),
            QStringLiteral("Supported grant types: password, refresh_token."));
    }
    return noStore(HttpUtil::json({
        { QStringLiteral("access_token"), grant.accessToken },
        { QStringLiteral("token_type"), QStringLiteral("Bearer") },
        { QStringLiteral("expires_in"), grant.expiresIn },
        { QStringLiteral("refresh_token"), grant.refreshToken },
    }));
}

QHttpServerResponse OAuth2Endpoint::revoke(const QHttpServerRequest &, const Form &form)
{
    const QString token = form.value(QStringLiteral("token"));
    if (token.isEmpty())
        return error(400, QStringLiteral("invalid_request"), QStringLiteral("token is required."));
    // RFC 7009 §2.2: 200 whether or not the token was known. Refresh tokens revoke their family;
    // access tokens are stateless JWTs and simply run out.
    m_auth.logout(token);
    return noStore(
        QHttpServerResponse(QByteArrayLiteral("application/json"), QByteArray(), Status::Ok));
}
