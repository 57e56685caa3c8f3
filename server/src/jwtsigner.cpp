#include "jwtsigner.h"

#include "passwordhasher.h"

#include <QJsonDocument>
#include <QMessageAuthenticationCode>

namespace {
constexpr auto b64Options = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;

bool decodeB64Url(const QByteArray &text, QByteArray *out)
{
    const auto result = QByteArray::fromBase64Encoding(
        text, QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
    if (!result)
        return false;
    *out = result.decoded;
    return true;
}

bool decodeJsonObject(const QByteArray &part, QJsonObject *out)
{
    QByteArray raw;
    if (!decodeB64Url(part, &raw))
        return false;
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(raw, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return false;
    *out = doc.object();
    return true;
}
} // namespace

JwtSigner::JwtSigner(QByteArray secret)
    : m_secret(std::move(secret))
{ }

QByteArray JwtSigner::base64Url(const QByteArray &data)
{
    return data.toBase64(b64Options);
}

QByteArray JwtSigner::mac(const QByteArray &signingInput) const
{
    return QMessageAuthenticationCode::hash(signingInput, m_secret, QCryptographicHash::Sha256);
}

QByteArray JwtSigner::sign(const QJsonObject &claims) const
{
    const QJsonObject header { { QStringLiteral("alg"), QStringLiteral("HS256") },
        { QStringLiteral("typ"), QStringLiteral("JWT") } };
    const QByteArray signingInput = base64Url(QJsonDocument(header).toJson(QJsonDocument::Compact))
        + '.' + base64Url(QJsonDocument(claims).toJson(QJsonDocument::Compact));
    return signingInput + '.' + base64Url(mac(signingInput));
}

JwtSigner::Verified JwtSigner::verify(const QByteArray &token, qint64 nowSeconds) const
{
    Verified result;
    const QList<QByteArray> parts = token.split('.');
    if (parts.size() != 3 || token.size() > 8192)
        return result; // Malformed
    QJsonObject header;
    QJsonObject claims;
    QByteArray signature;
    if (!decodeJsonObject(parts[0], &header) || !decodeJsonObject(parts[1], &claims)
        || !decodeB64Url(parts[2], &signature))
        return result;
    if (header.value(QLatin1String("alg")).toString() != QLatin1String("HS256")) {
        result.error = Error::UnsupportedAlgorithm;
        return result;
    }
    const QByteArray signingInput = parts[0] + '.' + parts[1];
    if (!PasswordHasher::constantTimeEquals(mac(signingInput), signature)) {
        result.error = Error::BadSignature;
        return result;
    }
    const QJsonValue exp = claims.value(QLatin1String("exp"));
    if (!exp.isDouble()) {
        result.error = Error::Malformed;
        return result;
    }
    // `exp` has whole seconds while a token is issued at any moment of one: refused only once
    // the second of `exp` is over (RFC 7519 §4.1.4 allows that leeway), a token lives at least
    // the expires_in its answer promises, never up to a second less.
    if (qint64(exp.toDouble()) < nowSeconds) {
        result.error = Error::Expired;
        return result;
    }
    result.error = Error::None;
    result.claims = claims;
    return result;
}

QString JwtSigner::describe(Error error)
{
    switch (error) {
    case Error::None:
        return {};
    case Error::Malformed:
        return QStringLiteral("The access token is malformed");
    case Error::UnsupportedAlgorithm:
        return QStringLiteral("The access token algorithm is not HS256");
    case Error::BadSignature:
        return QStringLiteral("The access token signature is invalid");
    case Error::Expired:
        return QStringLiteral("The access token expired");
    }
    return {};
}
