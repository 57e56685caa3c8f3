#include "ownedlockfile_p.h"

#include "logging_p.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QFileInfo>
#include <QLockFile>
#include <QSysInfo>

#ifdef Q_OS_UNIX
#include <cerrno>
#include <signal.h>
#include <sys/stat.h>
#endif

namespace Latchkey {

OwnedLockFile::OwnedLockFile(const QString &path)
    : m_path(path)
{ }

OwnedLockFile::~OwnedLockFile()
{
    unlock();
}

OwnedLockFile::Result OwnedLockFile::tryLock(std::chrono::milliseconds staleAfter)
{
    if (isLocked())
        return Result::Locked;
    for (int tries = 0; tries < 3; ++tries) {
        if (create())
            return Result::Locked;
        // Not created: another holder's file is there (unless it just went, or the directory
        // refuses us: try again, then tell which).
        if (QFileInfo::exists(m_path) && !removeIfStale(staleAfter))
            return Result::Busy;
    }
    return QFileInfo::exists(m_path) ? Result::Busy : Result::Failed;
}

bool OwnedLockFile::create()
{
    m_file.setFileName(m_path);
    if (!m_file.open(QIODevice::ReadWrite | QIODevice::NewOnly,
            QFileDevice::ReadOwner | QFileDevice::WriteOwner)) {
        m_error = m_file.errorString();
        return false;
    }
    // What QLockFile writes, in its order: PID, program, host name, machine id, boot id.
    const QByteArray content = QByteArray::number(QCoreApplication::applicationPid()) + '\n'
        + QFileInfo(QCoreApplication::applicationFilePath()).fileName().toUtf8() + '\n'
        + QSysInfo::machineHostName().toUtf8() + '\n' + QSysInfo::machineUniqueId() + '\n'
        + QSysInfo::bootUniqueId() + '\n';
    if (m_file.write(content) != content.size() || !m_file.flush()) {
        m_error = m_file.errorString();
        m_file.remove(); // ours: created a moment ago, not yet readable as a lock
        return false;
    }
    m_error.clear();
    return true;
}

bool OwnedLockFile::isStale(std::chrono::milliseconds staleAfter) const
{
    const QFileInfo info(m_path);
    if (!info.exists())
        return false;
    // A live holder refreshes the file's time (SharedRefreshLock's heartbeat): one left
    // untouched for longer than staleAfter belongs to a holder that died or stopped.
    const qint64 age = info.lastModified().msecsTo(QDateTime::currentDateTimeUtc());
    if (staleAfter.count() > 0 && age > staleAfter.count())
        return true;
    // A holder that died on this machine is known at once, by its PID.
    qint64 pid = 0;
    QString host;
    if (!QLockFile(m_path).getLockInfo(&pid, &host, nullptr))
        return false; // still being written, or not a lock file: its age decides
    if (!host.isEmpty() && host != QSysInfo::machineHostName())
        return false;
#ifdef Q_OS_UNIX
    return ::kill(pid_t(pid), 0) == -1 && errno == ESRCH;
#else
    return false;
#endif
}

bool OwnedLockFile::removeIfStale(std::chrono::milliseconds staleAfter)
{
    if (!isStale(staleAfter))
        return false;
    // Judged again under QLockFile's ".rmlock" convention: another waiter may have removed it
    // and made its own meanwhile, and that one must stay.
    QLockFile remover(m_path + QStringLiteral(".rmlock"));
    if (!remover.tryLock(0) || !isStale(staleAfter))
        return false;
    qCWarning(lcAuth) << "the refresh lock" << m_path
                      << "was left by a holder that is gone or stopped responding: taking it over";
    return QFile::remove(m_path);
}

bool OwnedLockFile::isOurs() const
{
    if (!m_file.isOpen())
        return false;
#ifdef Q_OS_UNIX
    // The same file: the one our descriptor holds open (its inode cannot be reused meanwhile).
    struct stat mine;
    struct stat named;
    if (::fstat(m_file.handle(), &mine) != 0
        || ::stat(QFile::encodeName(m_path).constData(), &named) != 0)
        return false;
    return mine.st_dev == named.st_dev && mine.st_ino == named.st_ino;
#else
    // Windows: QFile opens without FILE_SHARE_DELETE, so nobody removes or replaces the file
    // while we hold it open.
    return true;
#endif
}

void OwnedLockFile::touch()
{
    if (m_file.isOpen())
        m_file.setFileTime(QDateTime::currentDateTimeUtc(), QFileDevice::FileModificationTime);
}

void OwnedLockFile::unlock()
{
    if (!m_file.isOpen())
        return;
    // Removers of stale files judge and remove under the ".rmlock": checking and removing under
    // it too, we can never remove a file a remover has just put in place of ours. Should a
    // remover hold it right now, it is taking this file away (ours looked stale): leave it.
    QLockFile remover(m_path + QStringLiteral(".rmlock"));
    if (remover.tryLock(0)) {
        if (isOurs())
            QFile::remove(m_path);
        else
            qCWarning(lcAuth) << "the refresh lock" << m_path
                              << "was taken over while held: leaving the new holder's file";
    }
    m_file.close();
}

} // namespace Latchkey
