#pragma once

#include <latchkey/tokenstore.h>

#include <QObject>
#include <QPointer>

#include <deque>
#include <functional>

namespace Latchkey {

// Runs token-store operations one at a time, in order, so a rotation written just before a
// sign-out's removal can never land after it; and tells when everything queued is done.
class StoreQueue : public QObject
{
    Q_OBJECT
public:
    explicit StoreQueue(QObject *parent = nullptr);

    void setStore(TokenStore *store);
    TokenStore *store() const { return m_store; }

    void read(const QString &key, TokenStore::ReadCallback done);
    void write(const QString &key, const QByteArray &secret, TokenStore::DoneCallback done = {});
    void remove(const QString &key, TokenStore::DoneCallback done = {});
    // \a done runs once every operation queued before this call has finished.
    void whenIdle(std::function<void()> done);

    bool isIdle() const { return !m_running && m_queue.empty(); }

private:
    // A store call: starts it on \a store with the callback that reports its outcome.
    using Call = std::function<void(TokenStore *store, TokenStore::ReadCallback answer)>;
    void call(Call call, TokenStore::ReadCallback done);
    void enqueue(std::function<void(std::function<void()> next)> op);
    void next();

    QPointer<TokenStore> m_store;
    std::deque<std::function<void(std::function<void()>)>> m_queue;
    bool m_running = false;
    std::function<void()> m_abandon; // fails the call in flight when its store is deleted
    QObject *m_callStore = nullptr; // the store of the call in flight (compared, never used)
};

} // namespace Latchkey
