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
    // Lifetime in seconds from `exp - iat`, or -1 when either is missing.
    qint64 lifetimeSeconds() const;
    QStringList roles() const;

private:
    QJsonObject m_claims;
};

} // namespace Latchkey
