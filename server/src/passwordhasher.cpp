#include "passwordhasher.h"

#include "securerandom.h"

#include <QCryptographicHash>
#include <QPasswordDigestor>

QByteArray PasswordHasher::newSalt()
{
    return secureRandomBytes(SaltBytes);
}

QByteArray PasswordHasher::derive(const QString &password, const QByteArray &salt, int iterations)
{
    return QPasswordDigestor::deriveKeyPbkdf2(
        QCryptographicHash::Sha256, password.toUtf8(), salt, iterations, KeyBytes);
}

bool PasswordHasher::verify(
    const QString &password, const QByteArray &salt, int iterations, const QByteArray &expected)
{
    if (iterations <= 0 || expected.isEmpty())
        return false;
    return constantTimeEquals(derive(password, salt, iterations), expected);
}

bool PasswordHasher::constantTimeEquals(const QByteArray &a, const QByteArray &b)
{
    if (a.size() != b.size())
        return false;
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}
