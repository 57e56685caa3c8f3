#pragma once

#include <latchkey/credentialsprovider.h>

#include <memory>

namespace Latchkey {

class KeychainCredentialsPrivate;
class TokenStore;

/*!
    A fixed identity, and its password from an entry of a TokenStore (by default a
    KeychainTokenStore: the OS keychain, under the application's service name). The entry is
    read each time the password is asked for; an empty or missing entry, or a store that
    fails, is an error. Put the password there once with setPassword() (or any tool that
    writes the store's entries).

    \code
    auto *credentials = new Latchkey::KeychainCredentials(
        QStringLiteral("bot@example.com"), QStringLiteral("bot password"));
    client->setCredentialsProvider(credentials);
    \endcode
*/
class LATCHKEY_EXPORT KeychainCredentials : public CredentialsProvider
{
    Q_OBJECT
public:
    /*! Signs in as \a identity with the password stored under \a key in tokenStore(). */
    KeychainCredentials(const QString &identity, const QString &key, QObject *parent = nullptr);
    ~KeychainCredentials() override;

    /*! The identity given to the constructor. */
    QString identity() const;
    /*! The store's key of the password. */
    QString key() const;

    /*! Replaces the store the password is read from (default: a KeychainTokenStore). A store
        without a parent is adopted. */
    void setTokenStore(TokenStore *store);
    /*! The store the password is read from (see setTokenStore()). */
    TokenStore *tokenStore() const;

    /*! Keeps \a password in the store under key(); \a done (may be empty) gets the store's
        error. */
    void setPassword(const QByteArray &password, std::function<void(const AuthError &)> done);

    /*! Reads the password from the store; \a done follows when the store answered. */
    void credentials(Callback done) override;

private:
    std::unique_ptr<KeychainCredentialsPrivate> const d;
};

} // namespace Latchkey
