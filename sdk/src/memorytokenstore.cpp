#include <latchkey/memorytokenstore.h>

#include <QTimer>

namespace Latchkey {

MemoryTokenStore::MemoryTokenStore(QObject *parent)
    : TokenStore(parent)
{ }

MemoryTokenStore::~MemoryTokenStore() = default;

// Callbacks run from the event loop, as the keychain's do, so callers see the same ordering. An
// empty callback is allowed: the call is made, nobody is told.
void MemoryTokenStore::read(const QString &key, ReadCallback done)
{
    const QByteArray secret = m_entries.value(key);
    QTimer::singleShot(0, this, [done = std::move(done), secret] {
        if (done)
            done(secret, AuthError());
    });
}

void MemoryTokenStore::write(const QString &key, const QByteArray &secret, DoneCallback done)
{
    m_entries.insert(key, secret);
    QTimer::singleShot(0, this, [done = std::move(done)] {
        if (done)
            done(AuthError());
    });
}

void MemoryTokenStore::remove(const QString &key, DoneCallback done)
{
    m_entries.remove(key);
    QTimer::singleShot(0, this, [done = std::move(done)] {
        if (done)
            done(AuthError());
    });
}

} // namespace Latchkey
