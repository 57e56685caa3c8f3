#pragma once

#include <latchkey/autherror.h>

#include <QByteArray>
#include <QJsonObject>
#include <QString>

namespace Latchkey {

// The checks of an ID token that need no key (OpenID Connect Core §3.1.3.7): issuer,
// audience (and authorized party), expiry, nonce. Its signature is not verified: received
// directly from the token endpoint over TLS, the TLS server validation stands in for it
// (§3.1.3.7 item 6). Nothing here trusts a claim beyond who the user is for display.
namespace IdToken {

struct Expected
{
    QString issuer;
    QString clientId;
    QByteArray nonce; // empty: not checked (a refresh's ID token carries none)
    qint64 nowSecs = 0; // seconds since the epoch
};

// Leeway for clocks that disagree a little.
constexpr qint64 leewaySecs = 120;

// The token's claims, or false with a Protocol error saying which check failed (no value of
// the token in it).
bool validate(
    const QByteArray &idToken, const Expected &expected, QJsonObject *claims, AuthError *error);

} // namespace IdToken
} // namespace Latchkey
