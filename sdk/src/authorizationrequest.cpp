#include "authorizationrequest_p.h"

#include <QCryptographicHash>
#include <QRandomGenerator>
#include <QUrlQuery>

namespace Latchkey {

namespace {
constexpr auto base64url = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;
}

QByteArray AuthorizationRequest::randomToken()
{
    QByteArray bytes(32, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(
        reinterpret_cast<quint32 *>(bytes.data()), bytes.size() / int(sizeof(quint32)));
    return bytes.toBase64(base64url);
}

QByteArray AuthorizationRequest::challengeFor(const QByteArray &verifier)
{
    return QCryptographicHash::hash(verifier, QCryptographicHash::Sha256).toBase64(base64url);
}

AuthorizationRequest::AuthorizationRequest(
    const Profile::OpenIdConnect &settings, const OidcMetadata &metadata, const QUrl &redirectUri)
    : m_redirectUri(redirectUri)
    , m_verifier(randomToken())
    , m_state(randomToken())
    , m_nonce(randomToken())
{
    QUrlQuery query(metadata.authorization);
    auto add = [&query](const QString &key, const QString &value) {
        query.removeAllQueryItems(key);
        query.addQueryItem(key, QString::fromLatin1(QUrl::toPercentEncoding(value)));
    };
    add(QStringLiteral("response_type"), QStringLiteral("code"));
    add(QStringLiteral("client_id"), settings.clientId);
    add(QStringLiteral("redirect_uri"), redirectUri.toString(QUrl::FullyEncoded));
    add(QStringLiteral("scope"), settings.scopes.join(QLatin1Char(' ')));
    add(QStringLiteral("state"), QString::fromLatin1(m_state));
    add(QStringLiteral("nonce"), QString::fromLatin1(m_nonce));
    add(QStringLiteral("code_challenge"), QString::fromLatin1(challengeFor(m_verifier)));
    add(QStringLiteral("code_challenge_method"), QStringLiteral("S256"));
    if (!settings.prompt.isEmpty())
        add(QStringLiteral("prompt"), settings.prompt);
    for (const QString &resource : settings.resources)
        query.addQueryItem(
            QStringLiteral("resource"), QString::fromLatin1(QUrl::toPercentEncoding(resource)));
    for (auto it = settings.authorizationParams.begin(); it != settings.authorizationParams.end();
         ++it)
        add(it.key(), it.value());
    m_url = metadata.authorization;
    m_url.setQuery(query.query(QUrl::FullyEncoded), QUrl::StrictMode);
}

bool AuthorizationRequest::isRedirect(const QUrl &url) const
{
    return isValid() && url.scheme() == m_redirectUri.scheme() && url.host() == m_redirectUri.host()
        && url.port() == m_redirectUri.port() && url.path() == m_redirectUri.path();
}

bool AuthorizationRequest::hasState(const QUrl &redirect) const
{
    return isValid()
        && QUrlQuery(redirect)
               .queryItemValue(QStringLiteral("state"), QUrl::FullyDecoded)
               .toLatin1()
        == m_state;
}

AuthError oauthError(const QString &error, const QString &description, int httpStatus)
{
    const QString text = (description.isEmpty() ? error : description).left(300);
    if (error == QLatin1String("access_denied"))
        return AuthError(AuthError::Kind::AccessDenied,
            QStringLiteral("The sign-in was refused: %1").arg(text), httpStatus);
    if (error == QLatin1String("expired_token"))
        return AuthError(AuthError::Kind::AuthorizationExpired,
            QStringLiteral("The code expired before it was approved: %1").arg(text), httpStatus);
    if (error == QLatin1String("temporarily_unavailable") || error == QLatin1String("server_error"))
        return AuthError(AuthError::Kind::Server,
            QStringLiteral("The provider failed: %1").arg(text), httpStatus);
    return AuthError(AuthError::Kind::Protocol,
        QStringLiteral("The provider refused the request: %1").arg(text), httpStatus);
}

bool AuthorizationRequest::accept(const QUrl &redirect, const QUrl &issuer, QString *code,
    AuthError *error, bool issRequired) const
{
    // The query is form-encoded (RFC 6749 §4.1.2, Appendix B): '+' is a space.
    const QUrlQuery query(
        redirect.query(QUrl::FullyEncoded).replace(QLatin1Char('+'), QLatin1String("%20")));
    auto value = [&query](const char *key) {
        return query.queryItemValue(QLatin1String(key), QUrl::FullyDecoded);
    };
    // RFC 6749 §10.12: an answer without our state is not an answer to this request, whatever
    // it says (a forged redirect, or one of an older sign-in).
    if (value("state").toLatin1() != m_state) {
        *error = AuthError(AuthError::Kind::Protocol,
            QStringLiteral("The redirect does not answer this sign-in (its state does not "
                           "match): ignored"));
        return false;
    }
    // RFC 9207: an issuer that names itself must be the one asked (mix-up attacks); one that
    // says it always does must.
    if (issRequired && !query.hasQueryItem(QStringLiteral("iss"))) {
        *error = AuthError(AuthError::Kind::Protocol,
            QStringLiteral("The redirect does not name its issuer although the provider says "
                           "it always does"));
        return false;
    }
    if (query.hasQueryItem(QStringLiteral("iss")) && !issuer.isEmpty()
        && value("iss") != issuer.toString()) {
        *error = AuthError(AuthError::Kind::Protocol,
            QStringLiteral("The redirect comes from another issuer (%1)")
                .arg(value("iss").left(200)));
        return false;
    }
    if (query.hasQueryItem(QStringLiteral("error"))) {
        *error = oauthError(value("error"), value("error_description"));
        return false;
    }
    *code = value("code");
    if (code->isEmpty()) {
        *error
            = AuthError(AuthError::Kind::Protocol, QStringLiteral("The redirect carries no code"));
        return false;
    }
    return true;
}

} // namespace Latchkey
