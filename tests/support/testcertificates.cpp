#include "testcertificates.h"

#include <QFile>
#include <QProcess>

namespace LatchkeyTest {

namespace {
const QStringList newKey
    = { QStringLiteral("-newkey"), QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
          QStringLiteral("ec_paramgen_curve:P-256"), QStringLiteral("-nodes") };
}

bool TestCertificates::openssl(const QStringList &arguments)
{
    QProcess process;
    process.setWorkingDirectory(m_dir.path());
    process.start(QStringLiteral("openssl"), arguments);
    if (!process.waitForFinished(30000) || process.exitStatus() != QProcess::NormalExit
        || process.exitCode() != 0) {
        m_error = QStringLiteral("openssl %1 failed: %2 %3")
                      .arg(arguments.join(QLatin1Char(' ')), process.errorString(),
                          QString::fromLocal8Bit(process.readAllStandardError()));
        return false;
    }
    return true;
}

bool TestCertificates::signedByCa(
    const QString &name, const QString &commonName, const QString &altName)
{
    QFile extensions(path(name + QStringLiteral(".ext")));
    if (!extensions.open(QIODevice::WriteOnly))
        return false;
    extensions.write(QStringLiteral("subjectAltName=%1\nbasicConstraints=CA:FALSE\n"
                                    "extendedKeyUsage=serverAuth\n")
                         .arg(altName)
                         .toUtf8());
    extensions.close();
    return openssl(QStringList { QStringLiteral("req") } + newKey
               + QStringList { QStringLiteral("-keyout"), name + QStringLiteral(".key"),
                   QStringLiteral("-out"), name + QStringLiteral(".csr"), QStringLiteral("-subj"),
                   QStringLiteral("/CN=") + commonName })
        && openssl({ QStringLiteral("x509"), QStringLiteral("-req"), QStringLiteral("-in"),
            name + QStringLiteral(".csr"), QStringLiteral("-CA"), QStringLiteral("ca.pem"),
            QStringLiteral("-CAkey"), QStringLiteral("ca.key"), QStringLiteral("-CAcreateserial"),
            QStringLiteral("-days"), QStringLiteral("2"), QStringLiteral("-extfile"),
            name + QStringLiteral(".ext"), QStringLiteral("-out"), name + QStringLiteral(".pem") });
}

bool TestCertificates::create()
{
    if (!m_dir.isValid()) {
        m_error = QStringLiteral("no temporary directory: %1").arg(m_dir.errorString());
        return false;
    }
    const QStringList selfSigned = { QStringLiteral("req"), QStringLiteral("-x509"),
        QStringLiteral("-days"), QStringLiteral("2") };
    return openssl(selfSigned + newKey
               + QStringList { QStringLiteral("-keyout"), QStringLiteral("ca.key"),
                   QStringLiteral("-out"), QStringLiteral("ca.pem"), QStringLiteral("-subj"),
                   QStringLiteral("/CN=Latchkey Test CA"), QStringLiteral("-addext"),
                   QStringLiteral("basicConstraints=critical,CA:TRUE"), QStringLiteral("-addext"),
                   QStringLiteral("keyUsage=critical,keyCertSign,cRLSign") })
        && signedByCa(
            QStringLiteral("server"), QStringLiteral("127.0.0.1"), QStringLiteral("IP:127.0.0.1"))
        && signedByCa(QStringLiteral("other"), QStringLiteral("other.latchkey.test"),
            QStringLiteral("DNS:other.latchkey.test"))
        && openssl(selfSigned + newKey
            + QStringList { QStringLiteral("-keyout"), QStringLiteral("self.key"),
                QStringLiteral("-out"), QStringLiteral("self.pem"), QStringLiteral("-subj"),
                QStringLiteral("/CN=127.0.0.1"), QStringLiteral("-addext"),
                QStringLiteral("subjectAltName=IP:127.0.0.1") });
}

QList<QSslCertificate> TestCertificates::ca() const
{
    return QSslCertificate::fromPath(caFile(), QSsl::Pem);
}

} // namespace LatchkeyTest
