#pragma once

#include "wireformat_p.h"

#include <QObject>
#include <QPointer>

#include <functional>

class QNetworkAccessManager;

namespace Latchkey {

// One auth exchange (login, refresh, logout, me) over a plain QNetworkAccessManager: bounded
// in size (1 MiB) and time, cookies kept out of any jar, the answer handed to a callback that
// runs in the context object's thread and is dropped if the context is gone.
class AuthCall : public QObject
{
    Q_OBJECT
public:
    using Callback = std::function<void(const HttpResult &result)>;

    static constexpr qint64 maxBodySize = 1 << 20;
    static constexpr int timeoutMs = 30000;

    static AuthCall *post(QNetworkAccessManager *nam, const PreparedRequest &prepared,
        QObject *context, Callback done);
    // GET sends no body; any other verb sends prepared.body.
    static AuthCall *send(QNetworkAccessManager *nam, const QByteArray &verb,
        const PreparedRequest &prepared, QObject *context, Callback done);
    void abort();

private:
    AuthCall(QNetworkReply *reply, QObject *context, Callback done);
    void onReadyRead();
    void onFinished();

    QNetworkReply *m_reply;
    QPointer<QObject> m_context;
    Callback m_done;
    HttpResult m_result;
};

} // namespace Latchkey
