#pragma once

#include <QProcess>
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
    void stop();

    QUrl baseUrl() const { return m_baseUrl; }
    QString errorString() const { return m_error; }

    // Blocking helpers (they spin a local event loop): POST a JSON body to a /test/… hook and
    // return the HTTP status; read a counter from /metrics (a full line prefix such as
    // `latchkey_refresh_total{result="ok"}`), -1 when absent.
    int hook(const QString &path, const QByteArray &json = "{}");
    double metric(const QString &series);

private:
    QProcess m_process;
    QUrl m_baseUrl;
    QString m_error;
};

} // namespace LatchkeyTest
