#include "storequeue_p.h"

#include <QTimer>

namespace Latchkey {

StoreQueue::StoreQueue(QObject *parent)
    : QObject(parent)
{ }

void StoreQueue::setStore(TokenStore *store)
{
    m_store = store;
    if (!store)
        return;
    // A store deleted with a call in flight never answers it: that call fails, and the queue
    // goes on, instead of every later read, write, flush() waiting forever. Watched also after
    // another store replaced it, as long as its call is in flight.
    connect(store, &QObject::destroyed, this, [this](QObject *gone) {
        if (m_store == gone)
            m_store = nullptr;
        if (m_callStore != gone)
            return;
        m_callStore = nullptr;
        if (auto abandon = std::exchange(m_abandon, {}))
            abandon();
    });
}

void StoreQueue::enqueue(std::function<void(std::function<void()>)> op)
{
    m_queue.push_back(std::move(op));
    if (!m_running)
        next();
}

void StoreQueue::next()
{
    if (m_queue.empty()) {
        m_running = false;
        return;
    }
    m_running = true;
    m_abandon = nullptr;
    m_callStore = nullptr;
    auto op = std::move(m_queue.front());
    m_queue.pop_front();
    QPointer<StoreQueue> self(this);
    op([self] {
        if (self)
            self->next();
    });
}

namespace {
AuthError noStore()
{
    return AuthError(AuthError::Kind::KeychainUnavailable, QStringLiteral("No token store"));
}
} // namespace

void StoreQueue::call(Call call, TokenStore::ReadCallback done)
{
    enqueue([this, call = std::move(call), done = std::move(done)](std::function<void()> finished) {
        // The outcome is reported once: by the store, or as its absence if it is deleted first.
        auto once = std::make_shared<bool>(false);
        auto report = [once, done, finished](const QByteArray &secret, const AuthError &error) {
            if (*once)
                return;
            *once = true;
            if (done)
                done(secret, error);
            finished();
        };
        if (!m_store) {
            report(QByteArray(), noStore());
            return;
        }
        m_callStore = m_store;
        m_abandon = [report] {
            report(QByteArray(),
                AuthError(AuthError::Kind::KeychainUnavailable,
                    QStringLiteral("The token store was deleted before it answered")));
        };
        call(m_store,
            [self = QPointer<StoreQueue>(this), report](
                const QByteArray &secret, const AuthError &error) {
                if (self) // the client is gone, and what it asked with it
                    report(secret, error);
            });
    });
}

void StoreQueue::read(const QString &key, TokenStore::ReadCallback done)
{
    call([key](TokenStore *store, TokenStore::ReadCallback answer) { store->read(key, answer); },
        std::move(done));
}

void StoreQueue::write(const QString &key, const QByteArray &secret, TokenStore::DoneCallback done)
{
    call(
        [key, secret](TokenStore *store, TokenStore::ReadCallback answer) {
            store->write(key, secret, [answer](const AuthError &error) { answer({}, error); });
        },
        [done](const QByteArray &, const AuthError &error) {
            if (done)
                done(error);
        });
}

void StoreQueue::remove(const QString &key, TokenStore::DoneCallback done)
{
    call(
        [key](TokenStore *store, TokenStore::ReadCallback answer) {
            store->remove(key, [answer](const AuthError &error) { answer({}, error); });
        },
        [done](const QByteArray &, const AuthError &error) {
            if (done)
                done(error);
        });
}

void StoreQueue::whenIdle(std::function<void()> done)
{
    enqueue([done = std::move(done)](std::function<void()> finished) {
        if (done)
            done();
        finished();
    });
}

} // namespace Latchkey
