#include <latchkey/environmentcredentials.h>

namespace Latchkey {

class EnvironmentCredentialsPrivate
{
public:
    QString identityVariable;
    QString passwordVariable;
};

EnvironmentCredentials::EnvironmentCredentials(
    const QString &identityVariable, const QString &passwordVariable, QObject *parent)
    : CredentialsProvider(parent)
    , d(new EnvironmentCredentialsPrivate { identityVariable, passwordVariable })
{ }

EnvironmentCredentials::~EnvironmentCredentials() = default;

QString EnvironmentCredentials::identityVariable() const
{
    return d->identityVariable;
}

QString EnvironmentCredentials::passwordVariable() const
{
    return d->passwordVariable;
}

void EnvironmentCredentials::credentials(Callback done)
{
    const QString identity = qEnvironmentVariable(qPrintable(d->identityVariable)).trimmed();
    const QByteArray password = qgetenv(qPrintable(d->passwordVariable));
    for (const auto &[name, empty] : { std::pair { d->identityVariable, identity.isEmpty() },
             std::pair { d->passwordVariable, password.isEmpty() } }) {
        if (empty) {
            done(QString(), QByteArray(),
                AuthError(AuthError::Kind::Protocol,
                    QStringLiteral("The environment variable %1 is not set").arg(name)));
            return;
        }
    }
    done(identity, password, AuthError());
}

} // namespace Latchkey
