#pragma once

#include <latchkey/latchkey_export.h>
#include <latchkey/tokenstore.h>

#include <memory>

namespace Latchkey {

class KeychainTokenStorePrivate;

/*!
    Keeps secrets in the operating system's keychain through QtKeychain: Secret Service on
    Linux, Keychain on macOS and iOS, Credential Manager on Windows, Keystore on Android.
    QtKeychain's plaintext fallback is never enabled: when no keychain is available, calls fail
    with AuthError::Kind::KeychainUnavailable instead of writing a file.

    The service name defaults to "<organizationName>/<applicationName>" of the application
    (or just the application name), so two apps never share entries.
*/
class LATCHKEY_EXPORT KeychainTokenStore : public TokenStore
{
    Q_OBJECT
public:
    explicit KeychainTokenStore(QObject *parent = nullptr);
    explicit KeychainTokenStore(const QString &service, QObject *parent = nullptr);
    ~KeychainTokenStore() override;

    QString service() const;

    void read(const QString &key, ReadCallback done) override;
    void write(const QString &key, const QByteArray &secret, DoneCallback done) override;
    void remove(const QString &key, DoneCallback done) override;
    /*! "keychain:<service>": every process of the app shares these entries. */
    QString sharedName() const override;

    static QString defaultService();

private:
    std::unique_ptr<KeychainTokenStorePrivate> const d;
};

} // namespace Latchkey
