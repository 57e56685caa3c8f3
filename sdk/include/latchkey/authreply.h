#pragma once

#include <latchkey/autherror.h>
#include <latchkey/latchkey_export.h>

#include <QJsonObject>
#include <QObject>

namespace Latchkey {

/*!
    A job for one asynchronous operation (sign in, restore, sign out, …), in the manner of
    QNetworkReply and QKeychain::Job: connect to finished(), then read error(). It deletes itself
    after finished() unless setAutoDelete(false) was called. finished() is always emitted from
    the event loop, never from inside the call that created the reply.
*/
class LATCHKEY_EXPORT AuthReply : public QObject
{
    Q_OBJECT
    Q_PROPERTY(bool finished READ isFinished NOTIFY finished FINAL)
public:
    explicit AuthReply(QObject *parent = nullptr);
    ~AuthReply() override;

    bool isFinished() const { return m_finished; }
    AuthError error() const { return m_error; }
    /*! What the operation returned, if anything (fetchProfile(): the user object). */
    QJsonObject data() const { return m_data; }
    bool autoDelete() const { return m_autoDelete; }
    void setAutoDelete(bool autoDelete) { m_autoDelete = autoDelete; }

    /*! For producers of replies (AuthClient, token stores): ends the job. Only the first call
        counts; finished() follows from the event loop. */
    void finish(const AuthError &error = AuthError(), const QJsonObject &data = QJsonObject());

Q_SIGNALS:
    void finished();

private:
    AuthError m_error;
    QJsonObject m_data;
    bool m_finished = false;
    bool m_finishing = false;
    bool m_autoDelete = true;
};

} // namespace Latchkey
