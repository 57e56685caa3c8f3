#pragma once

#include <QHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QHttpServerResponse>
#include <QList>
#include <QSslCertificate>
#include <QSslKey>
#include <QUrl>

namespace LatchkeyTest {

// An in-process HTTP server on a free loopback port for tests that must script what the server
// says (malformed answers, huge bodies, redirects, known token values). It records every
// request it sees, so a test can check which carried a bearer.
class ScriptedServer
{
public:
    struct Seen
    {
        QByteArray method;
        QString path;
        QByteArray authorization;
        QByteArray cookie;
        QByteArray body;
    };

    ScriptedServer();
    bool listen();
    QUrl baseUrl() const { return m_baseUrl; }
    QUrl url(const QString &path) const { return m_baseUrl.resolved(QUrl(path)); }

    // Registers a handler for one path (any method). The request is recorded first.
    template<typename Handler> void on(const QString &path, Handler handler)
    {
        m_server.route(path, [this, handler](const QHttpServerRequest &request) {
            record(request);
            return handler(request);
        });
    }

    // Registers a handler (any method) that answers through the responder it is given: at
    // once, or later (a test may keep the responder to answer when it says so, or never).
    // Not a QFuture: Qt 6.4 writes a future's answer to the socket even after the client
    // closed it (a crash); a kept responder can be checked first (responder.socket() under a
    // QPointer) and dropped safely.
    template<typename Handler> void onDeferred(const QString &path, Handler handler)
    {
        m_server.route(
            path, [this, handler](const QHttpServerRequest &request, QHttpServerResponder &&r) {
                record(request);
                handler(request, std::move(r));
            });
    }

    // Serves https with this certificate and key instead of http; call before listen().
    void useTls(const QSslCertificate &certificate, const QSslKey &key);

    QList<Seen> seen() const { return m_seen; }
    void forgetSeen() { m_seen.clear(); }
    int count(const QString &path) const;

    static QHttpServerResponse json(const QByteArray &body, int status = 200);

private:
    void record(const QHttpServerRequest &request);

    QHttpServer m_server;
    QUrl m_baseUrl;
    bool m_tls = false;
    QList<Seen> m_seen;
};

} // namespace LatchkeyTest
