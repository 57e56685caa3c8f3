#include "sharedrefreshlock_p.h"

#include "logging_p.h"
#include "ownedlockfile_p.h"

#include <QCryptographicHash>
#include <QDir>
#include <QMutex>
#include <QStandardPaths>

namespace Latchkey {

// Why a heartbeat, and these numbers. A lock that counts as stale after a fixed age (QLockFile's
// stale time) is taken from a holder that is merely slow: a keychain prompt under the lock can
// take minutes. Instead the holder refreshes its file's time every `heartbeat` from its event
// loop, so only a holder that died or stopped (frozen, SIGSTOP, a debugger) leaves the file
// untouched for `staleAfter`. 30 s is six heartbeats: the holder's event loop may stall for 25 s
// (a desktop calls an app "not responding" after 5) and file times may be as coarse as 2 s
// (FAT) before the lock is lost; and a stopped holder blocks the others for 30 s at most.
// A heartbeat is one futimens() on our own descriptor, measured at 3-4 us (Debian 12, ext4 and
// tmpfs), every 5 s, only while a lock is held (one refresh and the storing of its answer).
// setStaleLockTime(0) (the PID alone decides) was rejected: a holder that hangs would block
// every process for as long as it hangs, and one whose PID was reused, for ever. QLockFile's
// flock() would block just as long: measured with Qt 6.4.2 on Linux, another process cannot
// remove a live holder's file past its stale time (removeStaleLock() needs the flock), and on
// file systems without flock() it is removed from under a holder that is merely slow. So
// OwnedLockFile judges by the heartbeat alone, plus a PID check for a holder that died.
namespace {
QMutex timingMutex;
SharedRefreshLock::Timing currentTiming;
} // namespace

void SharedRefreshLock::setTiming(const Timing &timing)
{
    QMutexLocker locker(&timingMutex);
    currentTiming = timing;
}

SharedRefreshLock::Timing SharedRefreshLock::timing()
{
    QMutexLocker locker(&timingMutex);
    return currentTiming;
}

SharedRefreshLock::SharedRefreshLock(QObject *parent)
    : QObject(parent)
{
    connect(&m_poll, &QTimer::timeout, this, &SharedRefreshLock::poll);
    connect(&m_heartbeat, &QTimer::timeout, this, &SharedRefreshLock::heartbeat);
}

SharedRefreshLock::~SharedRefreshLock()
{
    release();
}

QString SharedRefreshLock::lockPath(const QString &name)
{
    QString dir = QStandardPaths::writableLocation(QStandardPaths::RuntimeLocation);
    if (dir.isEmpty())
        dir = QDir::tempPath();
    const QByteArray hash = QCryptographicHash::hash(name.toUtf8(), QCryptographicHash::Sha256);
    return dir + QStringLiteral("/latchkey-refresh-") + QString::fromLatin1(hash.toHex().left(24))
        + QStringLiteral(".lock");
}

void SharedRefreshLock::acquire(const QString &name, std::function<void()> locked,
    std::function<void(const QString &reason)> gaveUp)
{
    release();
    m_timing = timing();
    m_lock = std::make_unique<OwnedLockFile>(lockPath(name));
    m_locked = std::move(locked);
    m_gaveUp = std::move(gaveUp);
    m_waiting = true;
    m_lostReported = false;
    m_deadline = QDeadlineTimer(m_timing.waitLimit);
    m_poll.setInterval(m_timing.poll);
    QTimer::singleShot(0, this, &SharedRefreshLock::poll);
}

void SharedRefreshLock::poll()
{
    if (!m_waiting || !m_lock)
        return;
    switch (m_lock->tryLock(m_timing.staleAfter)) {
    case OwnedLockFile::Result::Locked: {
        m_poll.stop();
        m_waiting = false;
        m_held = true;
        m_heartbeat.start(m_timing.heartbeat);
        auto locked = std::move(m_locked);
        m_locked = nullptr;
        m_gaveUp = nullptr;
        locked();
        return;
    }
    case OwnedLockFile::Result::Busy:
        if (!m_deadline.hasExpired()) {
            if (!m_poll.isActive())
                m_poll.start();
            return;
        }
        giveUp(QStringLiteral("another process is refreshing this session (waited %1 ms for "
                              "its refresh lock)")
                   .arg(m_timing.waitLimit.count()));
        return;
    case OwnedLockFile::Result::Failed:
        giveUp(QStringLiteral("the refresh lock %1 cannot be created: %2")
                   .arg(QDir::toNativeSeparators(m_lock->path()), m_lock->errorString()));
        return;
    }
}

void SharedRefreshLock::giveUp(const QString &reason)
{
    qCWarning(lcAuth) << "not refreshing:" << reason;
    m_poll.stop();
    m_waiting = false;
    m_lock.reset();
    auto gaveUp = std::move(m_gaveUp);
    m_gaveUp = nullptr;
    m_locked = nullptr;
    gaveUp(reason);
}

void SharedRefreshLock::heartbeat()
{
    if (!m_held || !m_lock)
        return;
    if (m_lock->isOurs()) {
        m_lock->touch();
        return;
    }
    m_heartbeat.stop();
    if (!m_lostReported) {
        m_lostReported = true;
        qCWarning(lcAuth) << "the refresh lock" << m_lock->path()
                          << "was taken over (this process stopped responding, or the file was "
                             "removed)";
    }
}

bool SharedRefreshLock::isHeld() const
{
    return m_held && m_lock && m_lock->isOurs();
}

void SharedRefreshLock::release()
{
    m_poll.stop();
    m_heartbeat.stop();
    m_locked = nullptr;
    m_gaveUp = nullptr;
    m_waiting = false;
    m_held = false;
    m_lock.reset(); // removes the file only if it is still ours
}

} // namespace Latchkey
