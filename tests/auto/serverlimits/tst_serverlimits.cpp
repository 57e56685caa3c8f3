// latchkey-server refuses what it would otherwise hold in memory: QHttpServer 6.4 reads every
// request body (and head) whole before a handler sees it, so the server judges each request's
// head first (RequestGate). Raw sockets, so the test decides exactly which bytes are sent.
#include "authserver.h"
#include "requestgate.h"

#include <QTcpServer>
#include <QTcpSocket>
#include <QtTest>

#include <memory>

class TestServerLimits : public QObject
{
    Q_OBJECT

    std::unique_ptr<AuthServer> m_server;
    std::unique_ptr<QTcpSocket> m_socket;
    QByteArray m_received;

    // A connection to the server; what it answers accumulates in m_received.
    bool connectRaw()
    {
        m_socket = std::make_unique<QTcpSocket>();
        m_received.clear();
        connect(m_socket.get(), &QIODevice::readyRead, this,
            [this] { m_received += m_socket->readAll(); });
        m_socket->connectToHost(m_server->baseUrl().host(), m_server->port());
        QSignalSpy connected(m_socket.get(), &QAbstractSocket::connected);
        return m_socket->state() == QAbstractSocket::ConnectedState || connected.wait(10000);
    }

    void send(const QByteArray &bytes)
    {
        m_socket->write(bytes);
        m_socket->flush();
    }

    // The status lines answered so far, in order (an answer's body has no line end of its
    // own, so the next status line may follow it directly).
    QList<QByteArray> statusLines() const
    {
        QList<QByteArray> lines;
        for (qsizetype at = m_received.indexOf("HTTP/1.1 "); at >= 0;
             at = m_received.indexOf("HTTP/1.1 ", at + 1)) {
            const qsizetype end = m_received.indexOf("\r\n", at);
            lines.append(m_received.mid(at, end < 0 ? -1 : end - at));
        }
        return lines;
    }

    // The connection QHttpServer serves on the server's side (the only one).
    QTcpSocket *serverSide() const
    {
        const QList<QTcpServer *> servers = m_server->servers();
        if (servers.isEmpty())
            return nullptr;
        const auto sockets = servers.first()->findChildren<QTcpSocket *>();
        return sockets.size() == 1 ? sockets.first() : nullptr;
    }

    static QByteArray loginHead(qint64 contentLength)
    {
        return "POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Content-Type: application/json\r\nContent-Length: "
            + QByteArray::number(contentLength) + "\r\n\r\n";
    }

private Q_SLOTS:
    void init()
    {
        ServerConfig config;
        config.port = 0;
        config.databasePath = QStringLiteral(":memory:");
        config.pbkdf2Iterations = 1000;
        config.seedDemo = true;
        m_server = std::make_unique<AuthServer>(config);
        QString error;
        QVERIFY2(m_server->start(&error), qPrintable(error));
        QVERIFY(connectRaw());
    }
    void cleanup()
    {
        m_socket.reset();
        m_server.reset();
    }

    // The head announces one byte more than the limit and no body byte is ever sent: the
    // answer comes at once (a server that read bodies first would wait for ever).
    void oversizedBodyIsRefusedBeforeItIsRead()
    {
        send(loginHead(AuthServer::MaxBodyBytes + 1));
        QTRY_COMPARE_WITH_TIMEOUT(statusLines().size(), 1, 10000);
        QCOMPARE(statusLines().first(), QByteArrayLiteral("HTTP/1.1 413 Payload Too Large"));
        QVERIFY(m_received.contains("Connection: close"));
        QVERIFY(m_received.contains("\"message\":\"Request body exceeds 1 MiB.\""));
        // Ten gigabytes announced: the same, nothing is allocated for them.
        QVERIFY(connectRaw());
        send(loginHead(10LL * 1024 * 1024 * 1024));
        QTRY_COMPARE_WITH_TIMEOUT(statusLines().size(), 1, 10000);
        QCOMPARE(statusLines().first(), QByteArrayLiteral("HTTP/1.1 413 Payload Too Large"));
    }

    // The head arrives in two pieces, and QHttpServer has read the first before the second
    // (with Content-Length) comes: the gate still judges the whole head.
    void headInPiecesIsCheckedWhole()
    {
        const QByteArray head = loginHead(AuthServer::MaxBodyBytes + 1);
        const qsizetype cut = head.indexOf("Content-Len") + 5;
        send(head.left(cut));
        QTRY_VERIFY_WITH_TIMEOUT(serverSide() && serverSide()->isTransactionStarted()
                && serverSide()->bytesAvailable() == 0,
            10000); // QHttpServer took the first piece
        send(head.mid(cut));
        QTRY_COMPARE_WITH_TIMEOUT(statusLines().size(), 1, 10000);
        QCOMPARE(statusLines().first(), QByteArrayLiteral("HTTP/1.1 413 Payload Too Large"));
    }

    // On a connection kept alive, a small request is answered and the oversized one behind it
    // (in the same packet) is refused.
    void pipelinedOversizedRequestIsRefused()
    {
        send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            + loginHead(AuthServer::MaxBodyBytes + 1));
        QTRY_COMPARE_WITH_TIMEOUT(statusLines().size(), 2, 10000);
        QCOMPARE(statusLines().at(0), QByteArrayLiteral("HTTP/1.1 200 OK"));
        QCOMPARE(statusLines().at(1), QByteArrayLiteral("HTTP/1.1 413 Payload Too Large"));
    }

    // A chunked body has no length to judge beforehand: 411, before any chunk is read.
    void chunkedBodyIsRefused()
    {
        send("POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(statusLines().size(), 1, 10000);
        QCOMPARE(statusLines().first(), QByteArrayLiteral("HTTP/1.1 411 Length Required"));
    }

    // A head that never ends is not collected without bound either.
    void endlessHeadIsRefused()
    {
        send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: ");
        const QByteArray filler(8 * 1024, 'a');
        for (qsizetype sent = 0; sent <= RequestGate::MaxHeadBytes; sent += filler.size())
            send(filler);
        QTRY_COMPARE_WITH_TIMEOUT(statusLines().size(), 1, 10000);
        QCOMPARE(statusLines().first(),
            QByteArrayLiteral("HTTP/1.1 431 Request Header Fields Too Large"));
    }

    // Up to the limit, a body is read and handled as before (here: not JSON, so 400), and the
    // connection serves the next request.
    void bodyWithinTheLimitIsServed()
    {
        send(loginHead(AuthServer::MaxBodyBytes) + QByteArray(AuthServer::MaxBodyBytes, ' ')
            + "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(statusLines().size(), 2, 10000);
        QCOMPARE(statusLines().at(0), QByteArrayLiteral("HTTP/1.1 400 Bad Request"));
        QCOMPARE(statusLines().at(1), QByteArrayLiteral("HTTP/1.1 200 OK"));
    }
};

QTEST_GUILESS_MAIN(TestServerLimits)
#include "tst_serverlimits.moc"
