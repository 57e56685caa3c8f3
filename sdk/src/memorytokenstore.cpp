#include <latchkey/memorytokenstore.h>

#include <QHash>
#include <QTimer>

namespace Latchkey {

class MemoryTokenStorePrivate
{
public:
    QHash<QString, QByteArray> entries;
};

MemoryTokenStore::MemoryTokenStore(QObject *parent)
    : TokenStore(parent)
    , d(new MemoryTokenStorePrivate)
{ }

MemoryTokenStore::~MemoryTokenStore() = default;

// Callbacks run from the event loop, as the keychain's do, so callers see the same ordering. An
// empty callback is allowed: the call is made, nobody is told.
void MemoryTokenStore::read(const QString &key, ReadCallback done)
{
    const QByteArray secret = d->entries.value(key);
    QTimer::singleShot(0, this, [done = std::move(done), secret] {
        if (done)
            done(secret, AuthError());
    });
}

void MemoryTokenStore::write(const QString &key, const QByteArray &secret, DoneCallback done)
{
    d->entries.insert(key, secret);
    QTimer::singleShot(0, this, [done = std::move(done)] {
        if (done)
            done(AuthError());
    });
}

void MemoryTokenStore::remove(const QString &key, DoneCallback done)
{
    d->entries.remove(key);
    QTimer::singleShot(0, this, [done = std::move(done)] {
        if (done)
            done(AuthError());
    });
}

int MemoryTokenStore::count() const
{
    return int(d->entries.size());
}

} // namespace Latchkey
