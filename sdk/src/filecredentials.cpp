#include <latchkey/filecredentials.h>

#include <QFile>

namespace Latchkey {

class FileCredentialsPrivate
{
public:
    QString path;
};

FileCredentials::FileCredentials(const QString &path, QObject *parent)
    : CredentialsProvider(parent)
    , d(new FileCredentialsPrivate { path })
{ }

FileCredentials::~FileCredentials() = default;

QString FileCredentials::path() const
{
    return d->path;
}

void FileCredentials::credentials(Callback done)
{
    auto refuse = [&done](const QString &message) {
        done(QString(), QByteArray(), AuthError(AuthError::Kind::Protocol, message));
    };
    QFile file(d->path);
#ifdef Q_OS_UNIX
    // Like ssh with a private key: a password others may read is no secret any more.
    const QFile::Permissions open = QFile::ReadGroup | QFile::WriteGroup | QFile::ExeGroup
        | QFile::ReadOther | QFile::WriteOther | QFile::ExeOther;
    const QFile::Permissions permissions = file.permissions();
    if (file.exists() && (permissions & open)) {
        // Qt's owner, group and other bits are one hex digit each, in the order of an octal mode.
        const int bits = int(permissions);
        const int mode = (((bits >> 12) & 7) << 6) | (((bits >> 4) & 7) << 3) | (bits & 7);
        refuse(QStringLiteral("The credentials file %1 is open to its group or others (mode "
                              "%2): refusing to use it; make it the owner's only (chmod 600)")
                   .arg(d->path, QString::number(mode, 8).rightJustified(4, QLatin1Char('0'))));
        return;
    }
#endif
    if (!file.open(QIODevice::ReadOnly)) {
        refuse(QStringLiteral("Cannot read the credentials file %1: %2")
                   .arg(d->path, file.errorString()));
        return;
    }
    // Two lines; only the line ending is cut from the password (it may hold spaces).
    auto line = [&file] {
        QByteArray text = file.readLine(64 * 1024);
        while (text.endsWith('\n') || text.endsWith('\r'))
            text.chop(1);
        return text;
    };
    const QString identity = QString::fromUtf8(line()).trimmed();
    const QByteArray password = line();
    if (identity.isEmpty() || password.isEmpty()) {
        refuse(QStringLiteral("The credentials file %1 must hold the identity on its first line "
                              "and the password on its second")
                   .arg(d->path));
        return;
    }
    done(identity, password, AuthError());
}

} // namespace Latchkey
