#pragma once

#include <QByteArray>
#include <QString>

// PBKDF2-HMAC-SHA256 through QPasswordDigestor, 16-byte random salt per user, 32-byte key.
// The iteration count is stored per user so it can be raised without breaking old hashes.
class PasswordHasher
{
public:
    static constexpr int SaltBytes = 16;
    static constexpr int KeyBytes = 32;

    static QByteArray newSalt();
    static QByteArray derive(const QString &password, const QByteArray &salt, int iterations);
    static bool verify(const QString &password, const QByteArray &salt, int iterations,
        const QByteArray &expected);

    // Compares without an early exit, so the time does not depend on where a mismatch is.
    static bool constantTimeEquals(const QByteArray &a, const QByteArray &b);
};
