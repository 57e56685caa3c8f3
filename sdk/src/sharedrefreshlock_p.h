#pragma once

#include <QDeadlineTimer>
#include <QObject>
#include <QTimer>

#include <chrono>
#include <functional>
#include <memory>

class QLockFile;

namespace Latchkey {

// Serializes the refreshes of one stored session across the processes of one app (and the
// clients of one process): two processes that restored the same keychain entry must not both
// present the same refresh token, or a rotating server revokes the whole family. A QLockFile in
// the runtime directory, named by a hash of (store, entry): it holds no secret.
class SharedRefreshLock : public QObject
{
    Q_OBJECT
public:
    explicit SharedRefreshLock(QObject *parent = nullptr);
    ~SharedRefreshLock() override;

    // Calls \a locked from the event loop once the lock is held, or after waitLimit without it
    // (a warning; a refresh is better than none). Never blocks the event loop.
    void acquire(const QString &name, std::function<void()> locked);
    void release();
    bool isBusy() const { return bool(m_locked) || m_held; }

    static QString lockPath(const QString &name);
    static constexpr std::chrono::milliseconds waitLimit { 15000 };
    static constexpr std::chrono::milliseconds pollInterval { 20 };

private:
    void poll();

    std::unique_ptr<QLockFile> m_lock;
    QTimer m_poll;
    QDeadlineTimer m_deadline;
    std::function<void()> m_locked;
    bool m_held = false;
};

} // namespace Latchkey
