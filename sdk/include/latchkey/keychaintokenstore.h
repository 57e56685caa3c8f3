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

    On Linux a keyring that is locked is told apart from one without a session (QtKeychain
    reads a locked item as "not found"): reads and writes then fail with KeychainUnavailable
    and a message that says the keychain is locked, and nothing stored is touched.

    A secret longer than chunkSize() is split over several entries and joined again on read;
    see setChunkSize().
*/
class LATCHKEY_EXPORT KeychainTokenStore : public TokenStore
{
    Q_OBJECT
public:
    /*! A store under defaultService(). */
    explicit KeychainTokenStore(QObject *parent = nullptr);
    /*! A store under \a service (defaultService() when empty). */
    explicit KeychainTokenStore(const QString &service, QObject *parent = nullptr);
    ~KeychainTokenStore() override;

    /*! The keychain service name the entries are kept under. */
    QString service() const;

    /*! See TokenStore::read(); a locked or absent keychain fails with KeychainUnavailable. */
    void read(const QString &key, ReadCallback done) override;
    /*! See TokenStore::write(); splits \a secret when longer than chunkSize(). */
    void write(const QString &key, const QByteArray &secret, DoneCallback done) override;
    /*! See TokenStore::remove(); removes every piece of a split secret. */
    void remove(const QString &key, DoneCallback done) override;
    /*! "keychain:<service>": every process of the app shares these entries. */
    QString sharedName() const override;

    /*! "<organizationName>/<applicationName>" of the application, or the application name
        alone when it has no organization name. */
    static QString defaultService();

    /*! The longest secret kept in one keychain entry, in bytes; 0 means no limit. */
    int chunkSize() const;
    /*! Splits a secret longer than \a bytes over numbered entries "<key> #a1", "<key> #a2", …
        (or "#b1", … : a new secret goes to the other series), the entry under the key itself
        then holding how many there are and a SHA-256 of the whole; read() joins them again,
        whatever the chunk size of the store that wrote them. A piece that is missing or does
        not fit reads as no secret, and the rest is removed; a shorter secret written later,
        and remove(), remove every piece. 0 (or less) keeps every secret in one entry.
        The default is defaultChunkSize(). */
    void setChunkSize(int bytes);
    /*! 2,560 on Windows (the Credential Manager keeps at most that many bytes), 245 on Android
        (QtKeychain encrypts an entry in one RSA block there), 0 elsewhere. */
    static int defaultChunkSize();

private:
    std::unique_ptr<KeychainTokenStorePrivate> const d;
};

} // namespace Latchkey
