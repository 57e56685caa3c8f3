#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QStringList>

#include <optional>

namespace Latchkey {

// Decodes a JWT's payload for display and gating only. The signature is never checked here:
// nothing read from it is trusted for security; the server decides.
class JwtClaims
{
public:
    static std::optional<JwtClaims> decode(const QByteArray &token);

    QJsonObject claims() const { return m_claims; }
    // Lifetime in seconds from `exp - iat` as the token says it (any double: the caller bounds
    // it), or nothing when either is missing or not a number.
    std::optional<double> lifetimeSeconds() const;
    QStringList roles() const;

private:
    QJsonObject m_claims;
};

} // namespace Latchkey
