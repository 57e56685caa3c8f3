#pragma once

#include <latchkey/autherror.h>
#include <latchkey/latchkey_export.h>

#include <QJsonObject>
#include <QObject>

#include <memory>

namespace Latchkey {

class AuthClient;
class AuthClientPrivate;
class AuthReplyPrivate;

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
    ~AuthReply() override;

    bool isFinished() const;
    AuthError error() const;
    /*! What the operation returned, if anything (fetchProfile(): the user object; signOut():
        "endSessionUrl" for an OpenID provider). */
    QJsonObject data() const;
    bool autoDelete() const;
    void setAutoDelete(bool autoDelete);

Q_SIGNALS:
    void finished();

private:
    // Made and ended by AuthClient only.
    friend class AuthClient;
    friend class AuthClientPrivate;
    explicit AuthReply(QObject *parent);
    // Ends the job. Only the first call counts; finished() follows from the event loop.
    void finish(const AuthError &error = AuthError(), const QJsonObject &data = QJsonObject());

    std::unique_ptr<AuthReplyPrivate> const d;
};

} // namespace Latchkey
