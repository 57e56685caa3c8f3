#pragma once

#include <QProcess>
#include <QSslCertificate>
#include <QStringList>
#include <QUrl>

namespace LatchkeyTest {

// Runs latchkey-server as a real child process on a free loopback port with an in-memory
// database, and offers the test hooks (--test-hooks) and /metrics counters to the tests.
class ServerProcess
{
public:
    ServerProcess();
    ~ServerProcess();

    // Starts the server with `--port 0 --db :memory: --test-hooks` plus extraArgs and waits for
    // its "listening on" line. Returns false (and fills errorString) when it does not start.
    bool start(const QStringList &extraArgs = {});
    // The demo users (--seed-demo) with a password hash cheap enough for tests.
    static QStringList demoArgs()
    {
        return { QStringLiteral("--seed-demo"), QStringLiteral("--pbkdf2-iterations"),
            QStringLiteral("1000") };
    }
    void stop();

    // From the next start() on: serves HTTPS with this PEM certificate and key (--tls-cert,
    // --tls-key), so baseUrl() is https://127.0.0.1:PORT; hook() and metric() trust
    // \a caCertificates (and only them).
    void setTls(const QString &certificateFile, const QString &keyFile,
        const QList<QSslCertificate> &caCertificates);

    QUrl baseUrl() const { return m_baseUrl; }
    QString errorString() const { return m_error; }

    // Blocking helpers (they spin a local event loop): POST a JSON body to a /test/… hook and
    // return the HTTP status; read a counter from /metrics (a full line prefix such as
    // `latchkey_refresh_total{result="ok"}`), -1 when absent.
    int hook(const QString &path, const QByteArray &json = "{}");
    double metric(const QString &series);

private:
    QProcess m_process;
    QStringList m_tlsArgs;
    QList<QSslCertificate> m_caCertificates;
    QUrl m_baseUrl;
    QString m_error;
};

} // namespace LatchkeyTest
