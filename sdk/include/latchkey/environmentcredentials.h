#pragma once

#include <latchkey/credentialsprovider.h>

#include <memory>

namespace Latchkey {

class EnvironmentCredentialsPrivate;

/*!
    The identity and password from two environment variables, read each time they are asked
    for (a container's secrets, a systemd unit's Environment= or LoadCredential=). A variable
    that is unset or empty is an error naming the variable (never its value).

    \code
    client->setCredentialsProvider(new Latchkey::EnvironmentCredentials(
        QStringLiteral("BOT_IDENTITY"), QStringLiteral("BOT_PASSWORD")));
    \endcode
*/
class LATCHKEY_EXPORT EnvironmentCredentials : public CredentialsProvider
{
    Q_OBJECT
public:
    /*! Reads the identity from the environment variable \a identityVariable and the password
        from \a passwordVariable (their names, not their values). */
    EnvironmentCredentials(const QString &identityVariable, const QString &passwordVariable,
        QObject *parent = nullptr);
    ~EnvironmentCredentials() override;

    /*! The name of the identity's variable. */
    QString identityVariable() const;
    /*! The name of the password's variable. */
    QString passwordVariable() const;

    /*! Reads both variables now and calls \a done before returning. */
    void credentials(Callback done) override;

private:
    std::unique_ptr<EnvironmentCredentialsPrivate> const d;
};

} // namespace Latchkey
