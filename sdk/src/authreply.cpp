#include <latchkey/authreply.h>

#include <QTimer>

namespace Latchkey {

AuthReply::AuthReply(QObject *parent)
    : QObject(parent)
{ }

AuthReply::~AuthReply() = default;

void AuthReply::finish(const AuthError &error, const QJsonObject &data)
{
    if (m_finished || m_finishing)
        return;
    m_finishing = true;
    m_error = error;
    m_data = data;
    // Always from the event loop: a caller connects to finished() after the call returns.
    QTimer::singleShot(0, this, [this] {
        m_finished = true;
        Q_EMIT finished();
        if (m_autoDelete)
            deleteLater();
    });
}

} // namespace Latchkey
