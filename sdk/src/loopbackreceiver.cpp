#include "loopbackreceiver_p.h"

#include "logging_p.h"
#include "wireformat_p.h"

#include <QTcpSocket>
#include <QTimer>

namespace Latchkey {

LoopbackReceiver::LoopbackReceiver(QObject *parent)
    : QObject(parent)
{
    connect(&m_server, &QTcpServer::newConnection, this, &LoopbackReceiver::onConnection);
}

LoopbackReceiver::~LoopbackReceiver()
{
    close();
}

bool LoopbackReceiver::listen(const QUrl &redirectUri, QString *error)
{
    if (redirectUri.scheme() != QLatin1String("http")
        || !WireFormat::isLoopbackHost(redirectUri.host())) {
        *error = QStringLiteral("The redirect URI %1 is not a loopback http URI")
                     .arg(redirectUri.toDisplayString());
        return false;
    }
    // RFC 8252 §8.3: the loopback IP literal, not "localhost" (which may resolve elsewhere).
    const QHostAddress address = redirectUri.host() == QLatin1String("::1")
        ? QHostAddress(QHostAddress::LocalHostIPv6)
        : QHostAddress(QHostAddress::LocalHost);
    const int port = redirectUri.port(0);
    if (!m_server.listen(address, quint16(port))) {
        *error = QStringLiteral("Cannot listen for the browser's redirect on port %1: %2")
                     .arg(port)
                     .arg(m_server.errorString());
        return false;
    }
    m_redirectUri = redirectUri;
    m_redirectUri.setPort(m_server.serverPort());
    if (m_redirectUri.path().isEmpty())
        m_redirectUri.setPath(QStringLiteral("/"));
    qCDebug(lcAuth) << "waiting for the browser's redirect on" << m_redirectUri.toDisplayString();
    return true;
}

void LoopbackReceiver::close()
{
    m_server.close();
    const auto sockets = m_heads.keys();
    m_heads.clear();
    for (QTcpSocket *socket : sockets) {
        socket->disconnect(this);
        socket->abort();
        socket->deleteLater();
    }
}

void LoopbackReceiver::onConnection()
{
    while (QTcpSocket *socket = m_server.nextPendingConnection()) {
        m_heads.insert(socket, QByteArray());
        auto *idle = new QTimer(socket);
        idle->setSingleShot(true);
        idle->start(idleTimeoutMs);
        connect(idle, &QTimer::timeout, this, [this, socket] {
            m_heads.remove(socket);
            socket->abort();
            socket->deleteLater();
        });
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadable(socket); });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
            if (m_heads.remove(socket))
                socket->deleteLater();
        });
    }
}

void LoopbackReceiver::onReadable(QTcpSocket *socket)
{
    auto it = m_heads.find(socket);
    if (it == m_heads.end())
        return;
    it->append(socket->read(maxHeadSize + 1 - it->size()));
    const qsizetype end = it->indexOf("\r\n\r\n");
    if (end < 0) {
        if (it->size() > maxHeadSize)
            answer(socket, 431, "Request Header Fields Too Large", QStringLiteral("Too large."));
        return;
    }
    const QByteArray requestLine = it->left(it->indexOf("\r\n"));
    const QList<QByteArray> parts = requestLine.split(' ');
    if (parts.size() != 3 || !parts[2].startsWith("HTTP/1.")) {
        answer(socket, 400, "Bad Request", QStringLiteral("Bad request."));
        return;
    }
    QUrl url = m_redirectUri;
    const QUrl target = QUrl::fromEncoded(parts[1], QUrl::StrictMode);
    if (!parts[1].startsWith('/') || !target.isValid() || target.path() != m_redirectUri.path()) {
        answer(socket, 404, "Not Found", QStringLiteral("Not found."));
        return;
    }
    if (parts[0] != "GET") {
        answer(socket, 405, "Method Not Allowed", QStringLiteral("Method not allowed."));
        return;
    }
    if (m_delivered) {
        answer(socket, 410, "Gone",
            QStringLiteral("This sign-in is already complete. You can close this tab."));
        return;
    }
    url.setQuery(target.query(QUrl::FullyEncoded), QUrl::StrictMode);
    if (m_accepts && !m_accepts(url)) {
        answer(socket, 400, "Bad Request",
            QStringLiteral("This is not the answer of the sign-in in progress."));
        return;
    }
    m_delivered = true;
    answer(socket, 200, "OK",
        QStringLiteral("The application has the answer of your sign-in. You can close this tab "
                       "and go back to it."));
    m_server.close(); // one redirect per sign-in
    Q_EMIT received(url);
}

void LoopbackReceiver::answer(
    QTcpSocket *socket, int status, const QByteArray &reason, const QString &text)
{
    m_heads.remove(socket);
    const QByteArray body = QByteArrayLiteral("<!doctype html><html><head><meta charset=\"utf-8\">"
                                              "<title>Sign-in</title></head><body><p>")
        + text.toHtmlEscaped().toUtf8() + QByteArrayLiteral("</p></body></html>\n");
    socket->write("HTTP/1.1 " + QByteArray::number(status) + ' ' + reason
        + "\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\n"
          "Connection: close\r\nContent-Length: "
        + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    // The answer outlives the listener: a sign-in that ends on this very request (the person
    // refused) closes it at once, and the browser must still get its page. The socket goes
    // once it is written and closed, or after the idle timeout.
    socket->disconnect(this);
    socket->setParent(nullptr);
    QTimer::singleShot(idleTimeoutMs, socket, [socket] { socket->abort(); });
    socket->disconnectFromHost();
    connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    if (socket->state() == QAbstractSocket::UnconnectedState)
        socket->deleteLater();
}

} // namespace Latchkey
