#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>

// HS256 JSON Web Tokens: HMAC-SHA256 through QMessageAuthenticationCode, base64url through
// QByteArray. verify() checks the header's alg, the signature (constant time) and exp.
class JwtSigner
{
public:
    enum class Error { None, Malformed, UnsupportedAlgorithm, BadSignature, Expired };

    struct Verified
    {
        Error error = Error::Malformed;
        QJsonObject claims;
    };

    explicit JwtSigner(QByteArray secret);

    QByteArray sign(const QJsonObject &claims) const;
    Verified verify(const QByteArray &token, qint64 nowSeconds) const;

    // The RFC 6750 error_description for an error.
    static QString describe(Error error);

    static QByteArray base64Url(const QByteArray &data);

private:
    QByteArray mac(const QByteArray &signingInput) const;

    QByteArray m_secret;
};
