#pragma once

#include <QProcess>
#include <QSslCertificate>
#include <QStringList>
#include <QUrl>

namespace LatchkeyTest {

// Runs latchkey-server as a real child process on a free loopback port with an in-memory
// database (or a file: setDatabase()), and offers the test hooks (--test-hooks) and /metrics
// counters to the tests. restart() stops it and starts it again on the same port and database.
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
    // Stops the server (if running) and starts it again with the same arguments on the port it
    // had, so clients find it where it was; with a file database, with everything it kept.
    bool restart();
    // From the next start() on: the database file instead of :memory:.
    void setDatabase(const QString &path) { m_database = path; }

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
    QStringList m_extraArgs;
    QString m_database = QStringLiteral(":memory:");
    int m_port = 0;
    QList<QSslCertificate> m_caCertificates;
    QUrl m_baseUrl;
    QString m_error;
};

} // namespace LatchkeyTest
