#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QMetaType>
#include <QString>

namespace Latchkey {

// The bounds put on the lifetime a server announces for an access token (`expires_in`, or the
// JWT's `exp - iat`). Shorter would refresh in a loop; longer is no lifetime a client can plan
// with. Outside them: clamped; not a positive number: ignored.
namespace TokenLifetime {
constexpr qint64 minMs = 1000; // 1 s
constexpr qint64 maxMs = qint64(10) * 365 * 24 * 60 * 60 * 1000; // 10 years of 365 days
} // namespace TokenLifetime

// What a login or refresh answer carries.
struct TokenSet
{
    QByteArray access;
    QByteArray refresh; // empty: the server did not rotate it; keep the old one
    qint64 lifetimeMs = -1; // -1: unknown (opaque token without expires_in): rely on 401s
    // Set when the announced lifetime was clamped into TokenLifetime or ignored: what was
    // wrong, for a warning (no token in it). parseTokens() warns once per process itself.
    QString lifetimeNote;
    QJsonObject user;
    QJsonObject claims;
    QByteArray idToken; // an OpenID Connect ID token, when the answer had one
};

} // namespace Latchkey

Q_DECLARE_METATYPE(Latchkey::TokenSet)
