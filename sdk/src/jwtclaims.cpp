#include "jwtclaims_p.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace Latchkey {

std::optional<JwtClaims> JwtClaims::decode(const QByteArray &token)
{
    const QList<QByteArray> parts = token.split('.');
    if (parts.size() != 3)
        return std::nullopt;
    const auto payload = QByteArray::fromBase64Encoding(
        parts.at(1), QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
    if (!payload)
        return std::nullopt;
    const QJsonDocument doc = QJsonDocument::fromJson(*payload);
    if (!doc.isObject())
        return std::nullopt;
    JwtClaims result;
    result.m_claims = doc.object();
    return result;
}

std::optional<double> JwtClaims::lifetimeSeconds() const
{
    const QJsonValue exp = m_claims.value(QLatin1String("exp"));
    const QJsonValue iat = m_claims.value(QLatin1String("iat"));
    if (!exp.isDouble() || !iat.isDouble())
        return std::nullopt;
    // In double: an absurd exp (1e300) must not go through an integer conversion.
    return exp.toDouble() - iat.toDouble();
}

QStringList JwtClaims::roles() const
{
    QStringList result;
    const QJsonValue roles = m_claims.value(QLatin1String("roles"));
    if (roles.isArray()) {
        for (const QJsonValue &role : roles.toArray())
            result << role.toString();
    } else if (m_claims.value(QLatin1String("role")).isString()) {
        result << m_claims.value(QLatin1String("role")).toString();
    }
    return result;
}

} // namespace Latchkey
