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
    Q_PROPERTY(bool finished READ isFinished NOTIFY finished FINAL) ///< see isFinished()
public:
    ~AuthReply() override;

    /*! Whether finished() was emitted. */
    bool isFinished() const;
    /*! How the operation ended; NoError on success. Meaningful once isFinished(). */
    AuthError error() const;
    /*! What the operation returned, if anything (fetchProfile(): the user object; signOut():
        "endSessionUrl" for an OpenID provider). */
    QJsonObject data() const;
    /*! Whether the reply deletes itself after finished() (default: true). */
    bool autoDelete() const;
    /*! With false the reply outlives finished() and the application deletes it. */
    void setAutoDelete(bool autoDelete);

Q_SIGNALS:
    /*! The operation ended: read error() and data() here. Emitted once, from the event loop. */
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
