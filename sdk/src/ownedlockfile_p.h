#pragma once

#include <QFile>
#include <QString>

#include <chrono>

namespace Latchkey {

// A lock file that only its owner ever removes. The file is QLockFile's (same content: PID,
// program, host, machine and boot ids), so QLockFile::getLockInfo() reads it and a QLockFile
// user judges it the same way; but QLockFile itself cannot hold it for us: its unlock(), and
// so its destructor, deletes the file by name whether or not that name still leads to the file
// it created, and it has no "let go without deleting". Once a holder was overtaken (it stopped
// for longer than the stale time, or the file was removed by hand), that deletes the new
// holder's lock. Here the holder keeps its own descriptor, refreshes the file's time through
// it, and removes the name only while it still leads to that very file.
//
// Synchronous and short: no waiting, no timers (SharedRefreshLock polls and beats the heart).
class OwnedLockFile
{
public:
    enum class Result {
        Locked, // this object created the file and holds it
        Busy, // another live holder has it
        Failed, // the file cannot be created at all (see errorString())
    };

    explicit OwnedLockFile(const QString &path);
    ~OwnedLockFile(); // unlock()
    OwnedLockFile(const OwnedLockFile &) = delete;
    OwnedLockFile &operator=(const OwnedLockFile &) = delete;

    // One try, never waits. A file found there whose holder process is gone, or that nobody
    // touched for longer than \a staleAfter, is removed first (under QLockFile's ".rmlock"
    // convention, so two waiters never remove each other's fresh file).
    Result tryLock(std::chrono::milliseconds staleAfter);
    QString errorString() const { return m_error; }

    bool isLocked() const { return m_file.isOpen(); }
    // Locked, and the path still names the file this object created (nobody overtook it).
    bool isOurs() const;
    // The holder is alive: the file's modification time becomes now. Through our own
    // descriptor, so it never freshens a file that is not ours.
    void touch();
    // Lets go; removes the file only if it is still ours.
    void unlock();

    QString path() const { return m_path; }

private:
    bool create();
    bool isStale(std::chrono::milliseconds staleAfter) const;
    bool removeIfStale(std::chrono::milliseconds staleAfter);

    const QString m_path;
    QFile m_file;
    QString m_error;
};

} // namespace Latchkey
