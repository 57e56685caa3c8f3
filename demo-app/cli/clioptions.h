#pragma once

#include <QByteArray>
#include <QList>
#include <QSslCertificate>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <chrono>

namespace Latchkey {
class ServerProfile;
}

namespace LatchkeyCli {

/*! The exit codes of latchkey-cli (also in README.md and `latchkey-cli --help`). */
enum ExitCode : int {
    ExitOk = 0,
    ExitHttpError = 1, ///< the API answered with a status >= 400
    ExitNotSignedIn = 2, ///< not signed in, session expired, bad credentials, account locked
    ExitNetwork = 3, ///< network or protocol error, keychain unavailable, server failure, …
    ExitUsage = 64, ///< bad command line (EX_USAGE)
};

/*! What one invocation asks for, parsed and checked; no I/O beyond reading a --data @FILE and
    the --ca-file. */
struct CliOptions
{
    enum class Command { Login, Status, Get, Post, Put, Delete, Logout };
    enum class Store { Keychain, Memory };
    /*! How a session is started: login with a password, or an OpenID provider's grants
        (--browser, --device, --client-credentials). A client-credentials session is never
        stored: it is made anew by the command that needs it, in the same process. */
    enum class SignIn { Password, Browser, Device, ClientCredentials };

    QString profile = QStringLiteral("latchkey"); ///< a built-in profile name or a JSON file
    QUrl baseUrl;
    QString account; ///< empty: the last identity signed in for this profile and base URL
    Store store = Store::Keychain;
    Command command = Command::Status;
    SignIn signIn = SignIn::Password;
    QString identity; ///< login with a password
    /// --issuer, --client-id, --scopes: set the same keys of the profile's "oidc" object (added
    /// when the profile has none); empty: the profile's own
    QUrl issuer;
    QString clientId;
    QStringList scopes;
    QString path; ///< get, post, put, delete: a path on the API (or a full URL)
    QByteArray data; ///< post, put
    bool verbose = false;
    std::chrono::seconds timeout { 60 }; ///< 0: no limit
    bool timeoutGiven = false; ///< --timeout was on the command line
    /// --ca-file: CA certificates trusted besides the system's (empty: the system's only)
    QList<QSslCertificate> caCertificates;

    bool needsSession() const { return command != Command::Login; }
    bool isRequest() const
    {
        return command == Command::Get || command == Command::Post || command == Command::Put
            || command == Command::Delete;
    }
    QByteArray verb() const;

    /*! How long login --browser waits for the browser's redirect: --timeout when given (and not
        0), else 5 minutes. */
    std::chrono::seconds redirectTimeout() const;

    /*! The profile named by --profile with --issuer, --client-id and --scopes applied, checked:
        an OpenID Connect profile must name its provider and client, and the OpenID sign-ins
        need one. On failure returns an invalid profile and the message in \a error. */
    Latchkey::ServerProfile serverProfile(QString *error) const;

    /*! The outcome of parse(): run, or exit at once with exitCode after printing output
        (help, version: stdout, code 0) or error (usage errors: stderr, code 64). */
    struct ParseResult
    {
        bool run = false;
        int exitCode = ExitOk;
        QString output;
        QString error;
    };

    /*! Parses argv (arguments[0] is the program). \a defaultBaseUrl is used when --base-url is
        absent (the caller passes $LATCHKEY_BASE_URL or the built-in default). */
    static ParseResult parse(
        const QStringList &arguments, const QString &defaultBaseUrl, CliOptions *options);
};

} // namespace LatchkeyCli
