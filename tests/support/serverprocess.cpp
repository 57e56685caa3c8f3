#include "serverprocess.h"

#include "testhelpers.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <QSslConfiguration>

#include <csignal>
#include <sys/prctl.h>

namespace LatchkeyTest {

namespace {
QByteArray blockingRequest(const QUrl &url, const QByteArray &verb, const QByteArray &body,
    const QList<QSslCertificate> &caCertificates, int *status)
{
    QNetworkAccessManager nam;
    QNetworkRequest req(url);
    if (!caCertificates.isEmpty()) {
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.setCaCertificates(caCertificates);
        req.setSslConfiguration(tls);
    }
    req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    return takeBody(verb == "GET" ? nam.get(req) : nam.post(req, body), status);
}
} // namespace

ServerProcess::ServerProcess()
{
    m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    // A test that crashes must not leave its server behind (CTest would wait on its output).
    m_process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
}

ServerProcess::~ServerProcess()
{
    stop();
}

bool ServerProcess::start(const QStringList &extraArgs)
{
#ifdef LATCHKEY_SERVER_PATH
    const QString program = QStringLiteral(LATCHKEY_SERVER_PATH);
#else
    const QString program = qEnvironmentVariable("LATCHKEY_SERVER");
#endif
    QStringList args { QStringLiteral("--port"), QString::number(m_port), QStringLiteral("--db"),
        m_database, QStringLiteral("--test-hooks") };
    args << m_tlsArgs << extraArgs;
    m_extraArgs = extraArgs;
    m_process.start(program, args);
    if (!m_process.waitForStarted(10000)) {
        m_error = QStringLiteral("cannot start %1: %2").arg(program, m_process.errorString());
        return false;
    }
    static const QRegularExpression listening(QStringLiteral("^listening on (https?://\\S+)"));
    while (m_process.state() == QProcess::Running) {
        if (!m_process.canReadLine() && !m_process.waitForReadyRead(30000))
            break;
        while (m_process.canReadLine()) {
            const QString line = QString::fromUtf8(m_process.readLine()).trimmed();
            const auto match = listening.match(line);
            if (match.hasMatch()) {
                m_baseUrl = QUrl(match.captured(1));
                return true;
            }
        }
    }
    m_error = QStringLiteral("latchkey-server did not print its address (exit code %1)")
                  .arg(m_process.exitCode());
    return false;
}

bool ServerProcess::restart()
{
    stop();
    m_port = m_baseUrl.port();
    const bool started = start(m_extraArgs);
    m_port = 0;
    return started;
}

void ServerProcess::setTls(const QString &certificateFile, const QString &keyFile,
    const QList<QSslCertificate> &caCertificates)
{
    m_tlsArgs
        = { QStringLiteral("--tls-cert"), certificateFile, QStringLiteral("--tls-key"), keyFile };
    m_caCertificates = caCertificates;
}

void ServerProcess::stop()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    m_process.terminate();
    if (!m_process.waitForFinished(5000)) {
        m_process.kill();
        m_process.waitForFinished(5000);
    }
}

int ServerProcess::hook(const QString &path, const QByteArray &json)
{
    int status = 0;
    blockingRequest(m_baseUrl.resolved(QUrl(path)), "POST", json, m_caCertificates, &status);
    return status;
}

double ServerProcess::metric(const QString &series)
{
    const QByteArray text = blockingRequest(
        m_baseUrl.resolved(QUrl(QStringLiteral("/metrics"))), "GET", {}, m_caCertificates, nullptr);
    const QByteArray prefix = series.toUtf8() + ' ';
    for (const QByteArray &line : text.split('\n')) {
        if (line.startsWith(prefix))
            return line.mid(prefix.size()).trimmed().toDouble();
    }
    return -1;
}

} // namespace LatchkeyTest
