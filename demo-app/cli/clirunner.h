#pragma once

#include "clioptions.h"

#include <latchkey/autherror.h>

#include <QObject>
#include <QPointer>

#include <chrono>
#include <functional>

QT_BEGIN_NAMESPACE
class QNetworkReply;
class QTimer;
class QUrl;
QT_END_NAMESPACE

namespace Latchkey {
class AuthClient;
class AuthReply;
struct DeviceAuthorization;
} // namespace Latchkey

namespace LatchkeyCli {

/*!
    Runs one latchkey-cli command against the SDK: builds the AuthClient, restores the session
    (every command but login), performs the command, then waits for AuthClient::flush() so that
    a rotated refresh token reaches the keychain before the process ends. Emits finished() once
    with the exit code. Writes results to stdout and errors to stderr; never a token.
*/
class CliRunner : public QObject
{
    Q_OBJECT
public:
    explicit CliRunner(const CliOptions &options, QObject *parent = nullptr);
    ~CliRunner() override;

    /*! Starts the command from the event loop; finished() follows. */
    void start();

    /*! The exit code for an SDK error: 2 for the session's kinds (a refused or expired
        sign-in included), 3 for the rest, 0 for none. */
    static int exitCodeFor(const Latchkey::AuthError &error);
    /*! The line printed for \a error: its toString(), but a lockout's end said once. */
    static QString describe(const Latchkey::AuthError &error);

    /*! Opens \a url with $BROWSER (a command, split like a shell would, the URL added as its
        last argument), else with xdg-open when it is on the PATH; its stdout goes to
        /dev/null. False when there is neither or it could not be started. */
    static bool openInBrowser(const QUrl &url);

Q_SIGNALS:
    void finished(int exitCode);

private:
    void run();
    void login();
    void loginWithPassword();
    void loginWithBrowser();
    void loginWithDevice();
    void loginWithClientCredentials();
    /*! Reports the outcome of a sign-in: "Signed in as …" and exit 0, or the error. */
    void reportSignIn(Latchkey::AuthReply *reply);
    void showDeviceCode(const Latchkey::DeviceAuthorization &code);
    /*! The session of every command but login: restored from the keychain, or with
        --client-credentials made anew. */
    Latchkey::AuthReply *startSession();
    void status();
    void request();
    void logout();
    void onRequestFinished(QNetworkReply *reply);
    /*! Restores the stored session, then calls next; on failure reports and finishes. */
    void withSession(const std::function<void()> &next);
    /*! Prints "latchkey-cli: <error>" to stderr and finishes with its exit code. */
    void fail(const Latchkey::AuthError &error);
    /*! Prints "latchkey-cli: <error>" to stderr, and for a keychain that is missing or locked
        the way out. */
    void reportError(const Latchkey::AuthError &error);
    /*! Waits for pending keychain writes, then emits finished(exitCode). */
    void finish(int exitCode);
    /*! Emits finished(exitCode), once. */
    void done(int exitCode);

    CliOptions m_options;
    QPointer<Latchkey::AuthClient> m_client;
    // After the watchdog fired, how long a pending keychain write may still take.
    static constexpr int flushGraceMs = 5000;
    // login --browser and --device without --timeout: how long the exchanges after the
    // approval (token, userinfo, the keychain) may take beyond the wait for the approval.
    static constexpr std::chrono::seconds signInGrace { 60 };
    QTimer *m_watchdog = nullptr;
    QString m_lastReported;
    bool m_finishing = false;
    bool m_done = false;
};

/*! Writes to stdout or stderr as UTF-8 (stderr lines get the "latchkey-cli: " prefix). */
void printOut(const QString &text);
void printOutBytes(const QByteArray &bytes);
void printError(const QString &message);

} // namespace LatchkeyCli
