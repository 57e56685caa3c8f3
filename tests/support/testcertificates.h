#pragma once

#include <QSslCertificate>
#include <QString>
#include <QTemporaryDir>

namespace LatchkeyTest {

// Certificates made at test time with the openssl command (EC P-256, valid two days) in a
// temporary directory: a CA; a server certificate for 127.0.0.1 signed by it; a self-signed one
// for 127.0.0.1; and one for another host name (other.latchkey.test) signed by the CA. Each
// certificate file is PEM with its unencrypted PEM key beside it (<name>.pem, <name>.key).
class TestCertificates
{
public:
    // Runs openssl; false (and errorString()) when it is missing or fails.
    bool create();
    QString errorString() const { return m_error; }

    QString caFile() const { return path(QStringLiteral("ca.pem")); }
    QList<QSslCertificate> ca() const;

    QString serverCertificate() const { return path(QStringLiteral("server.pem")); }
    QString serverKey() const { return path(QStringLiteral("server.key")); }
    QString selfSignedCertificate() const { return path(QStringLiteral("self.pem")); }
    QString selfSignedKey() const { return path(QStringLiteral("self.key")); }
    QString otherHostCertificate() const { return path(QStringLiteral("other.pem")); }
    QString otherHostKey() const { return path(QStringLiteral("other.key")); }

    QString path(const QString &name) const { return m_dir.filePath(name); }

private:
    bool openssl(const QStringList &arguments);
    bool signedByCa(const QString &name, const QString &commonName, const QString &altName);

    QTemporaryDir m_dir;
    QString m_error;
};

} // namespace LatchkeyTest
