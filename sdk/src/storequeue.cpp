#include "storequeue_p.h"

#include <QTimer>

namespace Latchkey {

StoreQueue::StoreQueue(QObject *parent)
    : QObject(parent)
{ }

void StoreQueue::setStore(TokenStore *store)
{
    m_store = store;
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

void StoreQueue::read(const QString &key, TokenStore::ReadCallback done)
{
    enqueue([this, key, done = std::move(done)](std::function<void()> finished) {
        if (!m_store) {
            done(QByteArray(), noStore());
            finished();
            return;
        }
        m_store->read(key,
            [self = QPointer<StoreQueue>(this), done, finished](
                const QByteArray &secret, const AuthError &error) {
                if (!self)
                    return; // the client is gone, and what it asked with it
                done(secret, error);
                finished();
            });
    });
}

void StoreQueue::write(const QString &key, const QByteArray &secret, TokenStore::DoneCallback done)
{
    enqueue([this, key, secret, done = std::move(done)](std::function<void()> finished) {
        if (!m_store) {
            if (done)
                done(noStore());
            finished();
            return;
        }
        m_store->write(key, secret,
            [self = QPointer<StoreQueue>(this), done, finished](const AuthError &error) {
                if (!self)
                    return;
                if (done)
                    done(error);
                finished();
            });
    });
}

void StoreQueue::remove(const QString &key, TokenStore::DoneCallback done)
{
    enqueue([this, key, done = std::move(done)](std::function<void()> finished) {
        if (!m_store) {
            if (done)
                done(noStore());
            finished();
            return;
        }
        m_store->remove(
            key, [self = QPointer<StoreQueue>(this), done, finished](const AuthError &error) {
                if (!self)
                    return;
                if (done)
                    done(error);
                finished();
            });
    });
}

void StoreQueue::whenIdle(std::function<void()> done)
{
    enqueue([done = std::move(done)](std::function<void()> finished) {
        done();
        finished();
    });
}

} // namespace Latchkey
