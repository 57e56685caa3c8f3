#pragma once

#include <QHash>
#include <QObject>
#include <QTcpServer>
#include <QUrl>

#include <functional>

class QTcpSocket;

namespace Latchkey {

// The one request of a browser sign-in's redirect (RFC 8252 §7.3): listens on the loopback
// interface (127.0.0.1, the port of the redirect URI, or any free one), answers a GET to the
// redirect path with a small page telling the person to go back to the application, and hands
// its URL over once. Anything else — another path, another method, a head larger than 16 KiB,
// a connection silent for 10 s, a request the filter refuses (a port scanner's or another
// local process's guess, without the sign-in's state) — gets an error answer or is closed,
// and changes nothing: the listener keeps waiting for the browser (RFC 8252 §8.3).
// A hand-written reader of one request line: the SDK keeps no HTTP server dependency (Qt's
// own, QHttpServer, is a separate module).
class LoopbackReceiver : public QObject
{
    Q_OBJECT
public:
    explicit LoopbackReceiver(QObject *parent = nullptr);
    ~LoopbackReceiver() override;

    // Listens for \a redirectUri (http, loopback host). False with \a error when the port is
    // taken or the URI is not a loopback http one.
    bool listen(const QUrl &redirectUri, QString *error);
    // The redirect URI with the port actually listened on.
    QUrl redirectUri() const { return m_redirectUri; }
    // Which redirects count: one \a accepts refuses gets a 400 and the listener waits on.
    void setFilter(std::function<bool(const QUrl &)> accepts) { m_accepts = std::move(accepts); }
    void close();

    static constexpr int maxHeadSize = 16 * 1024;
    static constexpr int idleTimeoutMs = 10000;

Q_SIGNALS:
    void received(const QUrl &url);

private:
    void onConnection();
    void onReadable(QTcpSocket *socket);
    void answer(QTcpSocket *socket, int status, const QByteArray &reason, const QString &text);

    QTcpServer m_server;
    QUrl m_redirectUri;
    QHash<QTcpSocket *, QByteArray> m_heads;
    std::function<bool(const QUrl &)> m_accepts;
    bool m_delivered = false;
};

} // namespace Latchkey
