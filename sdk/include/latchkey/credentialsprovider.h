#pragma once

#include <latchkey/autherror.h>
#include <latchkey/latchkey_export.h>

#include <QByteArray>
#include <QObject>
#include <QString>

#include <functional>

namespace Latchkey {

/*!
    Where a headless service finds the identity and password it signs in with, for
    AuthClient::setCredentialsProvider(): the client asks for them each time it signs in by
    itself (at start-up when restore() finds no session, and whenever the server rejects the
    session), so a password changed in its source is picked up at the next sign-in.

    Latchkey ships EnvironmentCredentials, FileCredentials and KeychainCredentials. Subclass for
    anything else (a secrets manager, a vault agent).

    \code
    class VaultCredentials : public Latchkey::CredentialsProvider
    {
    public:
        void credentials(Callback done) override
        {
            fetchFromVault([done](const QByteArray &password) {
                done(QStringLiteral("bot@example.com"), password, Latchkey::AuthError());
            });
        }
    };
    \endcode
*/
class LATCHKEY_EXPORT CredentialsProvider : public QObject
{
    Q_OBJECT
public:
    /*! The identity and password, or an error saying why there are none (then the identity and
        password are ignored, nothing is sent to the server and the client stops signing in by
        itself: AuthClient::credentialsRejected()). Never log the password. */
    using Callback = std::function<void(
        const QString &identity, const QByteArray &password, const AuthError &error)>;

    /*! A provider owned by \a parent (AuthClient::setCredentialsProvider() adopts one without
        a parent). */
    explicit CredentialsProvider(QObject *parent = nullptr);
    ~CredentialsProvider() override;

    /*! Calls \a done once, before returning or later from the event loop of this object's
        thread. */
    virtual void credentials(Callback done) = 0;
};

} // namespace Latchkey
