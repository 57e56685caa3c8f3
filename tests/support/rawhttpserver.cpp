#include "rawhttpserver.h"

#include <QHostAddress>
#include <QTcpSocket>

namespace LatchkeyTest {

namespace {

QByteArray reason(int status)
{
    switch (status) {
    case 200:
        return QByteArrayLiteral("OK");
    case 401:
        return QByteArrayLiteral("Unauthorized");
    case 404:
        return QByteArrayLiteral("Not Found");
    default:
        return QByteArrayLiteral("Status");
    }
}

QByteArray head(int status, const QByteArray &contentType, qint64 length)
{
    return "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason(status)
        + "\r\nContent-Type: " + contentType + "\r\nContent-Length: " + QByteArray::number(length)
        + "\r\nConnection: close\r\n\r\n";
}

} // namespace

RawHttpServer::RawHttpServer(QObject *parent)
    : QObject(parent)
{
    connect(&m_server, &QTcpServer::newConnection, this, &RawHttpServer::onConnection);
}

bool RawHttpServer::listen()
{
    if (!m_server.listen(QHostAddress::LocalHost, 0))
        return false;
    m_baseUrl = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_server.serverPort()));
    return true;
}

QByteArray RawHttpServer::answer(int status, const QByteArray &body, const QByteArray &contentType)
{
    return head(status, contentType, body.size()) + body;
}

QByteArray RawHttpServer::cutShort(int status, const QByteArray &body, qint64 announcedLength)
{
    Q_ASSERT(announcedLength > body.size());
    return head(status, QByteArrayLiteral("application/json"), announcedLength) + body;
}

void RawHttpServer::onConnection()
{
    while (QTcpSocket *socket = m_server.nextPendingConnection()) {
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] {
            // Read until the headers and the announced body are in, then answer once.
            QByteArray buffered = socket->property("buffered").toByteArray() + socket->readAll();
            socket->setProperty("buffered", buffered);
            const qsizetype end = buffered.indexOf("\r\n\r\n");
            if (end < 0 || socket->property("answered").toBool())
                return;
            const QList<QByteArray> lines = buffered.left(end).split('\n');
            Request request;
            qint64 length = 0;
            const QList<QByteArray> first = lines.value(0).trimmed().split(' ');
            request.method = first.value(0);
            request.path = QUrl(QString::fromLatin1(first.value(1))).path();
            for (const QByteArray &line : lines.mid(1)) {
                const qsizetype colon = line.indexOf(':');
                const QByteArray name = line.left(colon).trimmed().toLower();
                const QByteArray value = line.mid(colon + 1).trimmed();
                if (name == "content-length")
                    length = value.toLongLong();
                else if (name == "authorization")
                    request.authorization = value;
            }
            if (buffered.size() - (end + 4) < length)
                return;
            request.body = buffered.mid(end + 4, length);
            socket->setProperty("answered", true);
            m_counts[request.path] += 1;
            const auto handler = m_handlers.constFind(request.path);
            socket->write(handler == m_handlers.constEnd() ? answer(404, QByteArrayLiteral("{}"))
                                                           : (*handler)(request));
            socket->disconnectFromHost(); // after the bytes are written
        });
    }
}

} // namespace LatchkeyTest
