#pragma once

#include <latchkey/latchkey_export.h>

#include <QDeadlineTimer>
#include <QObject>
#include <QTimer>

#include <chrono>
#include <functional>
#include <memory>

namespace Latchkey {

class OwnedLockFile;

// Serializes the refreshes of one stored session across the processes of one app (and the
// clients of one process): two processes that restored the same keychain entry must not both
// present the same refresh token, or a rotating server revokes the whole family. A lock file in
// the runtime directory, named by a hash of (store, entry): it holds no secret.
//
// The rules it keeps: a refresh never runs without the lock (acquire() gives up instead); a
// holder whose event loop runs is never overtaken, however long it holds (a heartbeat); a
// holder that died, or stopped for staleAfter, is overtaken, so it blocks nobody for ever; and
// letting go never removes another holder's file (see OwnedLockFile).
//
// Exported for tests/auto/sharedlock only; not an installed header.
class LATCHKEY_EXPORT SharedRefreshLock : public QObject
{
    Q_OBJECT
public:
    struct Timing
    {
        // How long acquire() waits for another holder before it gives up.
        std::chrono::milliseconds waitLimit { 15000 };
        // How often a holder refreshes its file's time, from its event loop.
        std::chrono::milliseconds heartbeat { 5000 };
        // A file untouched for this long belongs to a holder that died or hangs: overtaken.
        std::chrono::milliseconds staleAfter { 30000 };
        // How often a waiter looks again.
        std::chrono::milliseconds poll { 20 };
    };
    // For every lock acquired from now on, in every thread (tests shorten it).
    static void setTiming(const Timing &timing);
    static Timing timing();

    explicit SharedRefreshLock(QObject *parent = nullptr);
    ~SharedRefreshLock() override; // release()

    // Takes the lock named \a name without blocking the event loop. Later, from the event
    // loop, calls exactly one of: \a locked once the lock is held, or \a gaveUp with a sentence
    // saying why it is not (another holder kept it for waitLimit; the file cannot be created).
    // Neither is called after release(). A second acquire() releases the first.
    void acquire(const QString &name, std::function<void()> locked,
        std::function<void(const QString &reason)> gaveUp);
    // Lets go of the lock (or stops waiting). Removes the lock file only if it is still ours.
    void release();

    bool isBusy() const { return m_waiting || m_held; }
    // Held, and still ours on disk: nobody overtook it (false once it was taken over).
    bool isHeld() const;

    static QString lockPath(const QString &name);

private:
    void poll();
    void heartbeat();
    void giveUp(const QString &reason);

    std::unique_ptr<OwnedLockFile> m_lock;
    Timing m_timing;
    QTimer m_poll;
    QTimer m_heartbeat;
    QDeadlineTimer m_deadline;
    std::function<void()> m_locked;
    std::function<void(const QString &)> m_gaveUp;
    bool m_waiting = false;
    bool m_held = false;
    bool m_lostReported = false;
};

} // namespace Latchkey
