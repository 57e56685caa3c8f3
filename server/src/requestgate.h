#pragma once

#include <QObject>
#include <QPointer>
#include <QTcpServer>

class QTcpSocket;

// Looks at the head of every request on a connection before QHttpServer reads it, and refuses
// a body it would otherwise read whole into memory: QHttpServer 6.4 reads every request body
// (whatever its Content-Length, and chunked ones without end) before a handler sees it, and
// has no limit on the head either.
//
//   Content-Length over the limit       -> 413, the body is never read
//   Transfer-Encoding: chunked           -> 411 (a length is needed to bound it beforehand)
//   a head longer than MaxHeadBytes      -> 431
//
// The refusal carries "Connection: close"; what the client still sends is read and thrown away
// for DrainMs (closing on unread data would reset the connection and could lose the answer),
// then the connection is closed.
//
// It works from the outside of QHttpServer, on the public QIODevice API: its readyRead slot is
// connected before QHttpServer's (GatedServer hands a connection over only after watch()), so
// it runs first. Between two requests QHttpServer has no read transaction open, and the unread
// bytes start with the next request: they are peeked at. When a head arrives in pieces,
// QHttpServer has read its start inside a transaction: the gate rolls the transaction back,
// peeks at the whole head, and reads the same bytes again in a new transaction, which leaves
// QHttpServer exactly where it was.
class RequestGate : public QObject
{
    Q_OBJECT
public:
    static constexpr qsizetype MaxHeadBytes = 64 * 1024;
    static constexpr int DrainMs = 2000;

    // Watches \a socket (and is deleted with it). \a httpServer is the QAbstractHttpServer
    // the socket goes to: its slot is disconnected when a request is refused.
    static void watch(QTcpSocket *socket, QObject *httpServer, qint64 maxBodyBytes);

    enum class Verdict { Pass, Incomplete, TooLarge, LengthRequired, HeadTooLarge };
    // What to do with a request whose first bytes are \a data (from the request line on).
    static Verdict judge(const QByteArray &data, qint64 maxBodyBytes);

private:
    RequestGate(QTcpSocket *socket, QObject *httpServer, qint64 maxBodyBytes);
    void onReadyRead();
    void refuse(Verdict verdict);

    QTcpSocket *m_socket;
    QPointer<QObject> m_httpServer;
    qint64 m_maxBody;
    bool m_headPending = false; // a request whose head was incomplete when last looked at
    bool m_refused = false;
};

// A QTcpServer or QSslServer whose connections pass a RequestGate before the HTTP server
// sees them: QAbstractHttpServer::bind() takes it, and QAbstractHttpServer takes each
// connection through nextPendingConnection().
template<class Server> class GatedServer : public Server
{
public:
    GatedServer(QObject *httpServer, qint64 maxBodyBytes)
        : m_httpServer(httpServer)
        , m_maxBody(maxBodyBytes)
    { }

    QTcpSocket *nextPendingConnection() override
    {
        QTcpSocket *socket = Server::nextPendingConnection();
        if (socket)
            RequestGate::watch(socket, m_httpServer, m_maxBody);
        return socket;
    }

private:
    QObject *m_httpServer;
    qint64 m_maxBody;
};
