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
    EnvironmentCredentials(const QString &identityVariable, const QString &passwordVariable,
        QObject *parent = nullptr);
    ~EnvironmentCredentials() override;

    QString identityVariable() const;
    QString passwordVariable() const;

    void credentials(Callback done) override;

private:
    std::unique_ptr<EnvironmentCredentialsPrivate> const d;
};

} // namespace Latchkey
