#pragma once

#include <QHash>
#include <QObject>
#include <QTcpServer>
#include <QUrl>

#include <functional>

namespace LatchkeyTest {

// A loopback HTTP/1.1 server that writes exactly the bytes a test scripts and then closes the
// connection: for answers QHttpServer cannot give, such as a body cut short before its
// Content-Length. One request per connection; an unscripted path gets a 404.
class RawHttpServer : public QObject
{
    Q_OBJECT
public:
    struct Request
    {
        QByteArray method;
        QString path;
        QByteArray authorization;
        QByteArray body;
    };
    using Handler = std::function<QByteArray(const Request &request)>;

    explicit RawHttpServer(QObject *parent = nullptr);
    bool listen();
    QUrl baseUrl() const { return m_baseUrl; }
    QUrl url(const QString &path) const { return m_baseUrl.resolved(QUrl(path)); }

    void on(const QString &path, Handler handler) { m_handlers.insert(path, std::move(handler)); }
    int count(const QString &path) const { return m_counts.value(path); }

    // A whole answer with Content-Length and "Connection: close".
    static QByteArray answer(int status, const QByteArray &body,
        const QByteArray &contentType = QByteArrayLiteral("application/json"));
    // Headers announcing \a announcedLength bytes, then only \a body (shorter): the connection
    // closes mid-body.
    static QByteArray cutShort(int status, const QByteArray &body, qint64 announcedLength);

private:
    void onConnection();

    QTcpServer m_server;
    QUrl m_baseUrl;
    QHash<QString, Handler> m_handlers;
    QHash<QString, int> m_counts;
};

} // namespace LatchkeyTest
