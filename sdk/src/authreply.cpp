#include <latchkey/authreply.h>

#include <QTimer>

namespace Latchkey {

class AuthReplyPrivate
{
public:
    AuthError error;
    QJsonObject data;
    bool finished = false;
    bool finishing = false;
    bool autoDelete = true;
};

AuthReply::AuthReply(QObject *parent)
    : QObject(parent)
    , d(new AuthReplyPrivate)
{ }

AuthReply::~AuthReply() = default;

bool AuthReply::isFinished() const
{
    return d->finished;
}

AuthError AuthReply::error() const
{
    return d->error;
}

QJsonObject AuthReply::data() const
{
    return d->data;
}

bool AuthReply::autoDelete() const
{
    return d->autoDelete;
}

void AuthReply::setAutoDelete(bool autoDelete)
{
    d->autoDelete = autoDelete;
}

void AuthReply::finish(const AuthError &error, const QJsonObject &data)
{
    if (d->finished || d->finishing)
        return;
    d->finishing = true;
    d->error = error;
    d->data = data;
    // Always from the event loop: a caller connects to finished() after the call returns.
    QTimer::singleShot(0, this, [this] {
        d->finished = true;
        Q_EMIT finished();
        if (d->autoDelete)
            deleteLater();
    });
}

} // namespace Latchkey
