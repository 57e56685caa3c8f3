#include "sharedrefreshlock_p.h"

#include "logging_p.h"

#include <QCryptographicHash>
#include <QDir>
#include <QLockFile>
#include <QStandardPaths>

namespace Latchkey {

SharedRefreshLock::SharedRefreshLock(QObject *parent)
    : QObject(parent)
{
    m_poll.setInterval(pollInterval);
    connect(&m_poll, &QTimer::timeout, this, &SharedRefreshLock::poll);
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

void SharedRefreshLock::acquire(const QString &name, std::function<void()> locked)
{
    release();
    m_lock = std::make_unique<QLockFile>(lockPath(name));
    // A holder that died leaves a lock QLockFile recognizes by its PID; one that hangs is
    // overtaken after the longest a refresh may take (the auth call's own timeout).
    m_lock->setStaleLockTime(std::chrono::seconds(35));
    m_locked = std::move(locked);
    m_deadline = QDeadlineTimer(waitLimit);
    QTimer::singleShot(0, this, &SharedRefreshLock::poll);
}

void SharedRefreshLock::poll()
{
    if (!m_locked || !m_lock)
        return;
    const bool got = m_lock->tryLock(0);
    if (!got && !m_deadline.hasExpired()) {
        if (!m_poll.isActive())
            m_poll.start();
        return;
    }
    m_poll.stop();
    m_held = got;
    if (!got)
        qCWarning(lcAuth) << "another refresh of this session held its lock for"
                          << waitLimit.count() << "ms: refreshing without it";
    auto locked = std::move(m_locked);
    m_locked = nullptr;
    locked();
}

void SharedRefreshLock::release()
{
    m_poll.stop();
    m_locked = nullptr;
    if (m_lock && m_held)
        m_lock->unlock();
    m_held = false;
    m_lock.reset();
}

} // namespace Latchkey
