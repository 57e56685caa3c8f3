#pragma once

#include "wireformat_p.h"

#include <QObject>
#include <QPointer>
#include <QSslConfiguration>

#include <chrono>
#include <functional>

class QNetworkAccessManager;

namespace Latchkey {

// One auth exchange (login, refresh, logout, me) over a plain QNetworkAccessManager: bounded
// in size (1 MiB) and time, cookies kept out of any jar, the answer handed to a callback that
// runs in the context object's thread and is dropped if the context is gone. An exchange that
// moves no data for its timeout ends as a transport failure with QNetworkReply::TimeoutError.
class AuthCall : public QObject
{
    Q_OBJECT
public:
    using Callback = std::function<void(const HttpResult &result)>;

    static constexpr qint64 maxBodySize = 1 << 20;
    static constexpr std::chrono::milliseconds defaultTimeout { 30000 };

    // What the client sets for all its exchanges.
    struct Settings
    {
        // Abandoned after this long without any data moving (Qt's transfer timeout).
        std::chrono::milliseconds timeout = defaultTimeout;
        // For https requests; a null configuration leaves the request's (Qt's default).
        QSslConfiguration tls;
    };

    // Sends with the prepared request's verb (its endpoint's "method", POST by default).
    static AuthCall *post(QNetworkAccessManager *nam, const PreparedRequest &prepared,
        const Settings &settings, QObject *context, Callback done);
    // GET sends no body; any other verb sends prepared.body.
    static AuthCall *send(QNetworkAccessManager *nam, const QByteArray &verb,
        const PreparedRequest &prepared, const Settings &settings, QObject *context, Callback done);
    void abort();

    // Opens the connection a request to \a url will use (TCP, and for https TLS with \a tls,
    // Qt's default when null) without sending anything: its handshake overlaps other work.
    static void preconnect(
        QNetworkAccessManager *nam, const QUrl &url, const QSslConfiguration &tls);

private:
    AuthCall(QNetworkReply *reply, int timeoutMs, QObject *context, Callback done);
    void onReadyRead();
    void onFinished();

    QNetworkReply *m_reply;
    int m_timeoutMs;
    QPointer<QObject> m_context;
    Callback m_done;
    HttpResult m_result;
};

} // namespace Latchkey
