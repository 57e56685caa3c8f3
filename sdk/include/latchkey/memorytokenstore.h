#pragma once

#include <latchkey/latchkey_export.h>
#include <latchkey/tokenstore.h>

#include <memory>

namespace Latchkey {

class MemoryTokenStorePrivate;

/*!
    Keeps secrets in this object only: a session never outlives the process. For apps that must
    not persist a session (kiosks, shared machines) and for unit tests of other parts.

    Like every TokenStore, its callbacks run later from the event loop of the store's thread,
    never inside the call; an empty callback is allowed.

    \code
    client->setTokenStore(new Latchkey::MemoryTokenStore(client));
    \endcode
*/
class LATCHKEY_EXPORT MemoryTokenStore : public TokenStore
{
    Q_OBJECT

public:
    /*! An empty store. */
    explicit MemoryTokenStore(QObject *parent = nullptr);
    /*! Forgets every secret it holds. */
    ~MemoryTokenStore() override;

    /*! Reports the secret stored under \a key, or an empty one if there is none. */
    void read(const QString &key, ReadCallback done) override;
    /*! Stores \a secret under \a key, replacing what was there. */
    void write(const QString &key, const QByteArray &secret, DoneCallback done) override;
    /*! Removes what is stored under \a key (nothing there is no error). */
    void remove(const QString &key, DoneCallback done) override;

    /*! How many entries the store holds (for tests and diagnostics). */
    int count() const;

private:
    std::unique_ptr<MemoryTokenStorePrivate> const d;
};

} // namespace Latchkey
