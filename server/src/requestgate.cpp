#include "requestgate.h"

#include "serverlog.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTimer>

namespace {

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v';
}

// The value of the first header \a name (lower case) in \a headers, the one QHttpServer
// uses; empty when absent.
QByteArray firstHeader(const QByteArray &headers, const QByteArray &name)
{
    for (const QByteArray &line : headers.split('\n')) {
        const qsizetype colon = line.indexOf(':');
        if (colon > 0 && line.left(colon).trimmed().toLower() == name)
            return line.mid(colon + 1).trimmed();
    }
    return QByteArray();
}

} // namespace

void RequestGate::watch(QTcpSocket *socket, QObject *httpServer, qint64 maxBodyBytes)
{
    new RequestGate(socket, httpServer, maxBodyBytes);
}

RequestGate::RequestGate(QTcpSocket *socket, QObject *httpServer, qint64 maxBodyBytes)
    : QObject(socket)
    , m_socket(socket)
    , m_httpServer(httpServer)
    , m_maxBody(maxBodyBytes)
{
    connect(socket, &QIODevice::readyRead, this, &RequestGate::onReadyRead);
}

RequestGate::Verdict RequestGate::judge(const QByteArray &data, qint64 maxBodyBytes)
{
    // As QHttpServer reads it: whitespace left over from the previous request, the request
    // line, then header lines up to an empty line (CRLF or LF endings).
    qsizetype start = 0;
    while (start < data.size() && isSpace(data.at(start)))
        ++start;
    const qsizetype lineEnd = data.indexOf('\n', start);
    qsizetype headEnd = -1;
    qsizetype headersStart = lineEnd + 1;
    if (lineEnd >= 0) {
        if (data.mid(headersStart, 2) == "\r\n")
            headEnd = headersStart + 2;
        else if (data.mid(headersStart, 1) == "\n")
            headEnd = headersStart + 1;
        else {
            const qsizetype crlf = data.indexOf("\n\r\n", headersStart);
            const qsizetype lf = data.indexOf("\n\n", headersStart);
            if (crlf >= 0 && (lf < 0 || crlf < lf))
                headEnd = crlf + 3;
            else if (lf >= 0)
                headEnd = lf + 2;
        }
    }
    if (headEnd < 0)
        return data.size() - start > MaxHeadBytes ? Verdict::HeadTooLarge : Verdict::Incomplete;
    if (headEnd - start > MaxHeadBytes)
        return Verdict::HeadTooLarge;
    const QByteArray headers = data.mid(headersStart, headEnd - headersStart);
    if (firstHeader(headers, "transfer-encoding").toLower().contains("chunked"))
        return Verdict::LengthRequired;
    const QByteArray length = firstHeader(headers, "content-length");
    bool ok = false;
    const qulonglong bytes = length.toULongLong(&ok);
    if (ok && bytes > qulonglong(maxBodyBytes))
        return Verdict::TooLarge;
    return Verdict::Pass;
}

void RequestGate::onReadyRead()
{
    if (m_refused) {
        m_socket->skip(m_socket->bytesAvailable()); // thrown away, never kept
        return;
    }
    QByteArray data;
    if (!m_socket->isTransactionStarted()) {
        // Between two requests: the unread bytes start with the next one.
        data = m_socket->peek(MaxHeadBytes + 1024);
    } else if (m_headPending) {
        // QHttpServer has read the start of this head in its transaction: look at the whole
        // head from its first byte, then read the same bytes again in a new transaction.
        const qint64 unread = m_socket->bytesAvailable();
        m_socket->rollbackTransaction();
        const qint64 alreadyRead = m_socket->bytesAvailable() - unread;
        data = m_socket->peek(MaxHeadBytes + 1024);
        m_socket->startTransaction();
        m_socket->skip(alreadyRead);
    } else {
        return; // the body of a request whose head passed
    }
    const Verdict verdict = judge(data, m_maxBody);
    m_headPending = verdict == Verdict::Incomplete;
    if (verdict != Verdict::Pass && verdict != Verdict::Incomplete)
        refuse(verdict);
}

void RequestGate::refuse(Verdict verdict)
{
    m_refused = true;
    m_headPending = false;
    // QHttpServer never reads this request, nor anything after it on this connection.
    if (m_httpServer)
        disconnect(m_socket, &QIODevice::readyRead, m_httpServer, nullptr);
    if (m_socket->isTransactionStarted())
        m_socket->commitTransaction(); // what QHttpServer's transaction kept is freed
    m_socket->skip(m_socket->bytesAvailable());

    QByteArray status;
    QString message;
    switch (verdict) {
    case Verdict::TooLarge:
        status = "413 Payload Too Large";
        message = m_maxBody % (1024 * 1024) == 0
            ? QStringLiteral("Request body exceeds %1 MiB.").arg(m_maxBody / (1024 * 1024))
            : QStringLiteral("Request body exceeds %1 bytes.").arg(m_maxBody);
        break;
    case Verdict::LengthRequired:
        status = "411 Length Required";
        message = QStringLiteral("Chunked request bodies are not accepted: send Content-Length.");
        break;
    default:
        status = "431 Request Header Fields Too Large";
        message = QStringLiteral("Request head exceeds %1 bytes.").arg(MaxHeadBytes);
        break;
    }
    qCInfo(lcServer).noquote() << "refused a request from" << m_socket->peerAddress().toString()
                               << "before reading it:" << status;
    const QByteArray body = QJsonDocument(
        QJsonObject { { QStringLiteral("message"),
            message } }).toJson(QJsonDocument::Compact);
    m_socket->write("HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nContent-Length: "
        + QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    QTimer::singleShot(DrainMs, m_socket, [socket = m_socket] { socket->disconnectFromHost(); });
}
