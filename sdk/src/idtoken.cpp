#include "idtoken_p.h"

#include "jwtclaims_p.h"

#include <QJsonArray>

namespace Latchkey::IdToken {

bool validate(
    const QByteArray &idToken, const Expected &expected, QJsonObject *claims, AuthError *error)
{
    auto fail = [error](const QString &why) {
        *error = AuthError(AuthError::Kind::Protocol,
            QStringLiteral("The provider's ID token was refused: %1").arg(why));
        return false;
    };
    const std::optional<JwtClaims> decoded = JwtClaims::decode(idToken);
    if (!decoded)
        return fail(QStringLiteral("it is not a JWT"));
    const QJsonObject c = decoded->claims();
    if (c.value(QLatin1String("iss")).toString() != expected.issuer)
        return fail(QStringLiteral("it was issued by another issuer"));
    const QJsonValue aud = c.value(QLatin1String("aud"));
    QStringList audiences;
    if (aud.isString())
        audiences << aud.toString();
    for (const QJsonValue &a : aud.toArray())
        audiences << a.toString();
    if (!audiences.contains(expected.clientId))
        return fail(QStringLiteral("it is meant for another client (aud)"));
    const QJsonValue azp = c.value(QLatin1String("azp"));
    if (!azp.isUndefined() && azp.toString() != expected.clientId)
        return fail(QStringLiteral("it was issued to another client (azp)"));
    // Core §3.1.3.7 items 3-4: with other audiences beside this client, azp must say it was
    // issued to this one (otherwise it may be a token for another client, replayed here).
    if (audiences.size() > 1 && azp.isUndefined())
        return fail(QStringLiteral("it has several audiences and no authorized party (azp)"));
    const QJsonValue exp = c.value(QLatin1String("exp"));
    if (!exp.isDouble())
        return fail(QStringLiteral("it has no expiry (exp)"));
    if (exp.toDouble() + double(leewaySecs) < double(expected.nowSecs))
        return fail(QStringLiteral("it has expired"));
    const QJsonValue iat = c.value(QLatin1String("iat"));
    if (iat.isDouble() && iat.toDouble() > double(expected.nowSecs + leewaySecs))
        return fail(QStringLiteral("it was issued in the future (iat): check the clock"));
    if (!expected.nonce.isEmpty()
        && c.value(QLatin1String("nonce")).toString().toLatin1() != expected.nonce)
        return fail(QStringLiteral("its nonce is not this sign-in's"));
    if (c.value(QLatin1String("sub")).toString().isEmpty())
        return fail(QStringLiteral("it names no subject (sub)"));
    *claims = c;
    return true;
}

} // namespace Latchkey::IdToken
