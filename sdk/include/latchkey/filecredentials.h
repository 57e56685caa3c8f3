#pragma once

#include <latchkey/credentialsprovider.h>

#include <memory>

namespace Latchkey {

class FileCredentialsPrivate;

/*!
    The identity and password from a file, read each time they are asked for: the identity on
    the first line, the password on the second (the whole line but its line ending, spaces
    included). On Unix a file that its group or others may read or write is refused
    (AuthError::Kind::Protocol, the message says which mode it has and to chmod 600 it), as ssh
    refuses a private key anyone can read; so is a file that cannot be read, or that lacks
    either line.

    \code
    // printf '%s\n%s\n' bot@example.com "$PASSWORD" > bot.credentials; chmod 600 bot.credentials
    client->setCredentialsProvider(
        new Latchkey::FileCredentials(QStringLiteral("/etc/mybot/bot.credentials")));
    \endcode
*/
class LATCHKEY_EXPORT FileCredentials : public CredentialsProvider
{
    Q_OBJECT
public:
    /*! Reads the file at \a path each time credentials() is called. */
    explicit FileCredentials(const QString &path, QObject *parent = nullptr);
    ~FileCredentials() override;

    /*! The path given to the constructor. */
    QString path() const;

    /*! Reads the file now and calls \a done before returning. */
    void credentials(Callback done) override;

private:
    std::unique_ptr<FileCredentialsPrivate> const d;
};

} // namespace Latchkey
