#pragma once

#include <QByteArray>
#include <QRandomGenerator>

// Cryptographically secure random bytes from the operating system (QRandomGenerator::system()).
inline QByteArray secureRandomBytes(int count)
{
    const int words = (count + 3) / 4;
    QByteArray bytes(words * 4, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(bytes.data()), words);
    bytes.truncate(count);
    return bytes;
}

// base64url without padding: cookie-, header- and URL-safe.
inline QByteArray secureRandomToken(int byteCount)
{
    return secureRandomBytes(byteCount).toBase64(
        QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}
