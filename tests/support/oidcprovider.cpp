#include "oidcprovider.h"

#include "testhelpers.h"

#include <QDeadlineTimer>
#include <QFileInfo>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QStandardPaths>
#include <QUrlQuery>

#include <csignal>
#include <sys/prctl.h>

namespace LatchkeyTest {

namespace {
QString oidcDir()
{
#ifdef LATCHKEY_OIDC_DIR
    return QStringLiteral(LATCHKEY_OIDC_DIR);
#else
    return qEnvironmentVariable("LATCHKEY_OIDC_DIR");
#endif
}

void dieWithParent(QProcess &process)
{
    // A test that crashes must not leave its children behind (CTest would wait on their output).
    process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
}

void endProcess(QProcess &process)
{
    if (process.state() == QProcess::NotRunning)
        return;
    process.terminate();
    if (!process.waitForFinished(5000)) {
        process.kill();
        process.waitForFinished(5000);
    }
}
} // namespace

OidcProvider::OidcProvider()
{
    m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    dieWithParent(m_process);
}

OidcProvider::~OidcProvider()
{
    stop();
}

QString OidcProvider::nodeProgram()
{
    const QString fromEnv = qEnvironmentVariable("LATCHKEY_NODE");
    return fromEnv.isEmpty() ? QStandardPaths::findExecutable(QStringLiteral("node")) : fromEnv;
}

QString OidcProvider::userAgentScript()
{
    return oidcDir() + QStringLiteral("/useragent.mjs");
}

QString OidcProvider::browserScript()
{
    return oidcDir() + QStringLiteral("/browser.sh");
}

bool OidcProvider::available(QString *why)
{
    QString reason;
    if (nodeProgram().isEmpty())
        reason = QStringLiteral("node is not on PATH: run scripts/deps.sh");
    else if (!QFileInfo::exists(oidcDir() + QStringLiteral("/provider.mjs")))
        reason = QStringLiteral("%1/provider.mjs is missing").arg(oidcDir());
    else if (!QFileInfo::exists(
                 oidcDir() + QStringLiteral("/node_modules/oidc-provider/package.json")))
        reason = QStringLiteral("%1/node_modules has no oidc-provider: run scripts/deps.sh")
                     .arg(oidcDir());
    if (why)
        *why = reason;
    return reason.isEmpty();
}

bool OidcProvider::start(const QStringList &extraArgs)
{
    stop();
    if (!available(&m_error))
        return false;
    QStringList args { oidcDir() + QStringLiteral("/provider.mjs"), QStringLiteral("--port"),
        QStringLiteral("0"), QStringLiteral("--test-hooks") };
    if (qEnvironmentVariableIntValue("LATCHKEY_OIDC_VERBOSE"))
        args << QStringLiteral("--verbose");
    args << extraArgs;
    m_process.setWorkingDirectory(oidcDir());
    m_process.start(nodeProgram(), args);
    if (!m_process.waitForStarted(10000)) {
        m_error = QStringLiteral("cannot start node: %1").arg(m_process.errorString());
        return false;
    }
    const QByteArray prefix = QByteArrayLiteral("LISTENING ");
    QDeadlineTimer deadline(30000);
    while (m_process.state() == QProcess::Running && !deadline.hasExpired()) {
        if (!m_process.canReadLine()
            && !m_process.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime()))))
            break;
        while (m_process.canReadLine()) {
            const QByteArray line = m_process.readLine().trimmed();
            if (line.startsWith(prefix)) {
                m_issuer = QUrl(QString::fromUtf8(line.mid(prefix.size())));
                return true;
            }
        }
    }
    m_error = QStringLiteral("provider.mjs did not print its address (state %1, exit code %2)")
                  .arg(int(m_process.state()))
                  .arg(m_process.exitCode());
    endProcess(m_process);
    return false;
}

void OidcProvider::stop()
{
    for (auto &userAgent : m_userAgents)
        endProcess(*userAgent);
    m_userAgents.clear();
    if (m_process.state() != QProcess::NotRunning) {
        // It also ends when its stdin closes; SIGTERM is quicker.
        endProcess(m_process);
    }
    m_issuer.clear();
}

QProcess *OidcProvider::startUserAgent(const QStringList &args)
{
    auto process = std::make_unique<QProcess>();
    dieWithParent(*process);
    process->start(nodeProgram(), QStringList { userAgentScript() } + args);
    m_userAgents.push_back(std::move(process));
    return m_userAgents.back().get();
}

QProcess *OidcProvider::authorize(const QUrl &url, const QStringList &args)
{
    return startUserAgent(QStringList { url.toString(QUrl::FullyEncoded) } + args);
}

QProcess *OidcProvider::approveDevice(
    const QUrl &verificationUri, const QString &userCode, const QStringList &args)
{
    QStringList all { QStringLiteral("--device"), verificationUri.toString(QUrl::FullyEncoded) };
    if (!userCode.isEmpty())
        all << QStringLiteral("--user-code") << userCode;
    return startUserAgent(all + args);
}

QUrl OidcProvider::redirectOf(QProcess *userAgent)
{
    // Read without consuming: the output stays for describe().
    const QByteArray out = userAgent->peek(userAgent->bytesAvailable());
    for (const QByteArray &line : out.split('\n')) {
        if (line.startsWith("REDIRECT "))
            return QUrl::fromEncoded(line.mid(9).trimmed());
    }
    return {};
}

QByteArray OidcProvider::describe(QProcess *userAgent)
{
    return QByteArrayLiteral("user agent: state ") + QByteArray::number(userAgent->state())
        + " exit " + QByteArray::number(userAgent->exitCode())
        + "; stdout: " + userAgent->peek(userAgent->bytesAvailable()).trimmed()
        + "; stderr: " + userAgent->readAllStandardError().trimmed();
}

QByteArray OidcProvider::request(const QString &path, const QByteArray &verb,
    const QByteArray &body, const QByteArray &contentType, const QByteArray &authorization,
    int *status)
{
    QNetworkAccessManager nam;
    QNetworkRequest req(m_issuer.resolved(QUrl(path)));
    if (!contentType.isEmpty())
        req.setHeader(QNetworkRequest::ContentTypeHeader, contentType);
    if (!authorization.isEmpty())
        req.setRawHeader("Authorization", authorization);
    return takeBody(verb == "GET" ? nam.get(req) : nam.post(req, body), status);
}

bool OidcProvider::isActive(const QByteArray &token)
{
    QUrlQuery form;
    form.addQueryItem(QStringLiteral("token"), QString::fromLatin1(token));
    const QByteArray answer = request(QStringLiteral("/token/introspection"), "POST",
        form.toString(QUrl::FullyEncoded).toUtf8(), "application/x-www-form-urlencoded",
        "Basic " + QByteArrayLiteral("latchkey-introspector:introspector-secret").toBase64(),
        nullptr);
    return QJsonDocument::fromJson(answer).object().value(QStringLiteral("active")).toBool();
}

QJsonObject OidcProvider::counters()
{
    return QJsonDocument::fromJson(
        request(QStringLiteral("/test/counters"), "GET", {}, {}, {}, nullptr))
        .object();
}

int OidcProvider::hook(const QString &path, const QByteArray &json)
{
    int status = 0;
    request(path, "POST", json, "application/json", {}, &status);
    return status;
}

void OidcProvider::resetCounters()
{
    hook(QStringLiteral("/test/reset-counters"));
}

void OidcProvider::expireDeviceCodes()
{
    hook(QStringLiteral("/test/expire-device-codes"));
}

void OidcProvider::expireAccessTokens()
{
    hook(QStringLiteral("/test/expire-access-tokens"));
}

void OidcProvider::expireRefreshTokens()
{
    hook(QStringLiteral("/test/expire-refresh-tokens"));
}

void OidcProvider::slowDown(int count)
{
    hook(QStringLiteral("/test/slow-down"), "{\"count\":" + QByteArray::number(count) + '}');
}

} // namespace LatchkeyTest
