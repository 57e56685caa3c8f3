#include <latchkey/keychaincredentials.h>
#include <latchkey/keychaintokenstore.h>

#include <QPointer>

namespace Latchkey {

class KeychainCredentialsPrivate
{
public:
    QString identity;
    QString key;
    QPointer<TokenStore> store;
};

KeychainCredentials::KeychainCredentials(
    const QString &identity, const QString &key, QObject *parent)
    : CredentialsProvider(parent)
    , d(new KeychainCredentialsPrivate { identity.trimmed(), key, nullptr })
{ }

KeychainCredentials::~KeychainCredentials() = default;

QString KeychainCredentials::identity() const
{
    return d->identity;
}

QString KeychainCredentials::key() const
{
    return d->key;
}

void KeychainCredentials::setTokenStore(TokenStore *store)
{
    if (store && !store->parent())
        store->setParent(this);
    d->store = store;
}

TokenStore *KeychainCredentials::tokenStore() const
{
    if (!d->store)
        d->store = new KeychainTokenStore(const_cast<KeychainCredentials *>(this));
    return d->store;
}

void KeychainCredentials::setPassword(
    const QByteArray &password, std::function<void(const AuthError &)> done)
{
    tokenStore()->write(d->key, password, [done = std::move(done)](const AuthError &error) {
        if (done)
            done(error);
    });
}

void KeychainCredentials::credentials(Callback done)
{
    if (d->identity.isEmpty()) {
        done(QString(), QByteArray(),
            AuthError(AuthError::Kind::Protocol, QStringLiteral("No identity to sign in with")));
        return;
    }
    tokenStore()->read(d->key,
        [identity = d->identity, key = d->key, done = std::move(done)](
            const QByteArray &password, const AuthError &error) {
            if (error.isError()) {
                done(QString(), QByteArray(), error);
                return;
            }
            if (password.isEmpty()) {
                done(QString(), QByteArray(),
                    AuthError(AuthError::Kind::Protocol,
                        QStringLiteral("No password is stored under \"%1\"").arg(key)));
                return;
            }
            done(identity, password, AuthError());
        });
}

} // namespace Latchkey
