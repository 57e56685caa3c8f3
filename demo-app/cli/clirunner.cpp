#include "clirunner.h"

#include "passwordprompt.h"

#include <latchkey/apiurl.h>
#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/authreply.h>
#include <latchkey/deviceauthorization.h>
#include <latchkey/memorytokenstore.h>
#include <latchkey/serverprofile.h>

#include <QCoreApplication>
#include <QDateTime>
#include <QMetaEnum>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QProcess>
#include <QSslConfiguration>
#include <QStandardPaths>
#include <QTimer>
#include <QUrlQuery>

#include <algorithm>
#include <cstdio>

#ifdef Q_OS_WIN
#include <io.h>
#else
#include <sys/stat.h>
#include <unistd.h>
#endif

using Latchkey::AuthClient;
using Latchkey::AuthError;
using Latchkey::AuthReply;

namespace LatchkeyCli {

namespace {
bool isTerminal(FILE *stream)
{
#ifdef Q_OS_WIN
    return _isatty(_fileno(stream)) != 0;
#else
    return isatty(fileno(stream)) != 0;
#endif
}

// stdout's last byte was not a newline (a body printed as it came).
bool stdoutLineOpen = false;

void writeTo(FILE *stream, const QByteArray &bytes)
{
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stream);
    std::fflush(stream);
    if (stream == stdout && !bytes.isEmpty())
        stdoutLineOpen = !bytes.endsWith('\n');
}

// stdout and stderr end up in the same place: one terminal, or one file or pipe (2>&1).
bool stdoutSharedWithStderr()
{
    if (isTerminal(stdout) && isTerminal(stderr))
        return true;
#ifdef Q_OS_WIN
    return false; // no inode to compare: a body read with 2>&1 may meet the error line
#else
    struct stat out
    {
    }, err {};
    return fstat(STDOUT_FILENO, &out) == 0 && fstat(STDERR_FILENO, &err) == 0
        && out.st_dev == err.st_dev && out.st_ino == err.st_ino;
#endif
}
} // namespace

void printOut(const QString &text)
{
    writeTo(stdout, text.toUtf8());
}

void printOutBytes(const QByteArray &bytes)
{
    writeTo(stdout, bytes);
    // A body without a final newline would run into the shell prompt; pipes get it untouched.
    if (stdoutLineOpen && isTerminal(stdout))
        writeTo(stdout, QByteArrayLiteral("\n"));
}

void printError(const QString &message)
{
    // Nor does the error line run into such a body where both are read together (2>&1); a body
    // read on its own (stdout to a file or pipe of its own) stays byte for byte as it came.
    if (stdoutLineOpen && stdoutSharedWithStderr()) {
        writeTo(stdout, QByteArrayLiteral("\n"));
    }
    writeTo(stderr, QByteArrayLiteral("latchkey-cli: ") + message.toUtf8() + '\n');
}

CliRunner::CliRunner(const CliOptions &options, QObject *parent)
    : QObject(parent)
    , m_options(options)
{ }

CliRunner::~CliRunner() = default;

void CliRunner::start()
{
    if (m_options.timeout.count() > 0) {
        std::chrono::milliseconds limit = m_options.timeout;
        // The browser sign-in waits for the person up to its own redirect timeout, which ends
        // it with AuthorizationExpired (exit 2); the watchdog only bounds what follows.
        if (m_options.command == CliOptions::Command::Login
            && m_options.signIn == CliOptions::SignIn::Browser)
            limit = m_options.redirectTimeout() + signInGrace;
        m_watchdog = new QTimer(this);
        m_watchdog->setSingleShot(true);
        connect(m_watchdog, &QTimer::timeout, this, [this] {
            printError(QStringLiteral("Timed out after %1 s.").arg(m_watchdog->interval() / 1000));
            if (!m_client) {
                done(ExitNetwork);
                return;
            }
            // A rotated refresh token may be on its way to the keychain: let it land (a few
            // seconds at most), or the next run presents a spent one.
            m_finishing = true;
            connect(m_client->flush(), &AuthReply::finished, this, [this] { done(ExitNetwork); });
            QTimer::singleShot(flushGraceMs, this, [this] { done(ExitNetwork); });
        });
        m_watchdog->start(limit);
    }
    QTimer::singleShot(0, this, &CliRunner::run);
}

int CliRunner::exitCodeFor(const AuthError &error)
{
    switch (error.kind()) {
    case AuthError::Kind::NoError:
        return ExitOk;
    case AuthError::Kind::NotSignedIn:
    case AuthError::Kind::SessionExpired:
    case AuthError::Kind::InvalidCredentials:
    case AuthError::Kind::AccountLocked:
    case AuthError::Kind::AccessDenied:
    case AuthError::Kind::AuthorizationExpired:
        return ExitNotSignedIn;
    default:
        return ExitNetwork;
    }
}

bool CliRunner::openInBrowser(const QUrl &url)
{
    QStringList command;
    const QString browser = qEnvironmentVariable("BROWSER");
    if (!browser.isEmpty()) {
        command = QProcess::splitCommand(browser);
    } else {
        const QString xdgOpen = QStandardPaths::findExecutable(QStringLiteral("xdg-open"));
        if (!xdgOpen.isEmpty())
            command << xdgOpen;
    }
    if (command.isEmpty())
        return false;
    QProcess process;
    process.setProgram(command.takeFirst());
    process.setArguments(command << url.toString(QUrl::FullyEncoded));
    // stdout carries the command's result only; the browser's chatter would mix into it.
    process.setStandardInputFile(QProcess::nullDevice());
    process.setStandardOutputFile(QProcess::nullDevice());
    return process.startDetached();
}

void CliRunner::run()
{
    QString profileError;
    const auto profile = m_options.serverProfile(&profileError);
    if (!profile.isValid()) {
        printError(profileError);
        finish(ExitUsage);
        return;
    }
    const QByteArray clientSecret = qgetenv("LATCHKEY_CLIENT_SECRET");
    if (m_options.signIn == CliOptions::SignIn::ClientCredentials && clientSecret.isEmpty()) {
        printError(QStringLiteral("No client secret: --client-credentials takes it from "
                                  "LATCHKEY_CLIENT_SECRET."));
        finish(ExitUsage);
        return;
    }

    m_client = new AuthClient(profile, m_options.baseUrl, this);
    if (m_options.store == CliOptions::Store::Memory)
        m_client->setTokenStore(new Latchkey::MemoryTokenStore(m_client));
    // Ride out a blip (a few 502/503s, honouring Retry-After) but answer soon when the server is
    // gone: four attempts 0.5, 1 and 2 s apart (with jitter) take about 3.5 s; --timeout bounds
    // all.
    m_client->setRefreshRetry(4, std::chrono::milliseconds(500));
    if (!m_options.caCertificates.isEmpty()) {
        // Besides the system's, not instead: setting CA certificates turns off Qt's loading of
        // the system's on demand.
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.setCaCertificates(QSslConfiguration::systemCaCertificates() + m_options.caCertificates);
        m_client->setSslConfiguration(tls);
    }
    // A confidential client (oidc.clientAuth basic or post) authenticates its code exchanges and
    // refreshes with its secret; never stored. The SDK sends it only where the profile's
    // clientAuth says (a public client's never leaves the process).
    if (profile.isOpenIdConnect() && !clientSecret.isEmpty())
        m_client->setClientSecret(clientSecret);

    switch (m_options.command) {
    case CliOptions::Command::Login:
        login();
        break;
    case CliOptions::Command::Status:
        status();
        break;
    case CliOptions::Command::Logout:
        logout();
        break;
    case CliOptions::Command::Get:
    case CliOptions::Command::Post:
    case CliOptions::Command::Put:
    case CliOptions::Command::Delete:
        withSession([this] { request(); });
        break;
    }
}

void CliRunner::login()
{
    switch (m_options.signIn) {
    case CliOptions::SignIn::Password:
        loginWithPassword();
        break;
    case CliOptions::SignIn::Browser:
        loginWithBrowser();
        break;
    case CliOptions::SignIn::Device:
        loginWithDevice();
        break;
    case CliOptions::SignIn::ClientCredentials:
        loginWithClientCredentials();
        break;
    }
}

void CliRunner::loginWithPassword()
{
    QString password;
    if (!readPassword(QStringLiteral("Password for %1: ").arg(m_options.identity), &password)) {
        printError(QStringLiteral("No password: set LATCHKEY_PASSWORD or write it to stdin."));
        finish(ExitUsage);
        return;
    }
    AuthReply *reply = m_client->signIn(m_options.identity, password);
    password.fill(QLatin1Char('\0'));
    reportSignIn(reply);
}

void CliRunner::loginWithBrowser()
{
    m_client->setRedirectTimeout(m_options.redirectTimeout());
    connect(m_client, &AuthClient::openUrlRequested, this, [](const QUrl &url) {
        printError(QStringLiteral("Sign in in the browser; if none opens, open this URL:\n  %1")
                       .arg(url.toString(QUrl::FullyEncoded)));
    });
    const auto waitFor = m_options.redirectTimeout().count();
    m_client->setUrlOpener([waitFor](const QUrl &url) {
        if (!openInBrowser(url)) {
            printError(QStringLiteral("No browser could be started (set BROWSER, or install "
                                      "xdg-open): open the URL above yourself."));
        }
        printError(QStringLiteral("Waiting up to %1 s for the browser to come back to this "
                                  "machine (127.0.0.1).")
                       .arg(waitFor));
        return true; // the URL is printed: the person can still open it by hand
    });
    reportSignIn(m_client->signInWithBrowser());
}

void CliRunner::loginWithDevice()
{
    connect(m_client, &AuthClient::deviceCodeReceived, this, &CliRunner::showDeviceCode);
    reportSignIn(m_client->signInWithDevice());
}

void CliRunner::showDeviceCode(const Latchkey::DeviceAuthorization &code)
{
    const qint64 expiresIn = QDateTime::currentDateTime().secsTo(code.expiresAt);
    QString message = QStringLiteral("To sign in, open this page on any device and enter the "
                                     "code:\n  page: %1\n  code: %2")
                          .arg(code.verificationUri.toString(QUrl::FullyEncoded), code.userCode);
    if (!code.verificationUriComplete.isEmpty()) {
        message += QStringLiteral("\n  (or open %1, which has the code filled in)")
                       .arg(code.verificationUriComplete.toString(QUrl::FullyEncoded));
    }
    printError(message);
    printError(
        QStringLiteral("Waiting for the approval; the code expires in %1 s.").arg(expiresIn));
    // Without --timeout the code's own expiry bounds the wait (AuthorizationExpired, exit 2):
    // the watchdog must not end it before.
    if (m_watchdog && !m_options.timeoutGiven && expiresIn > 0) {
        const auto needed = std::chrono::seconds(expiresIn) + signInGrace;
        const auto left = std::chrono::milliseconds(m_watchdog->remainingTime());
        // QTimer takes an int of milliseconds: stay well below 2^31 (a day is plenty).
        const auto bounded = std::min<std::chrono::milliseconds>(needed, std::chrono::hours(24));
        if (bounded > left)
            m_watchdog->start(bounded);
    }
}

void CliRunner::loginWithClientCredentials()
{
    reportSignIn(m_client->signInWithClientCredentials(qgetenv("LATCHKEY_CLIENT_SECRET")));
}

void CliRunner::reportSignIn(AuthReply *reply)
{
    connect(reply, &AuthReply::finished, this, [this, reply] {
        if (reply->error().isError()) {
            fail(reply->error());
            return;
        }
        if (m_options.signIn == CliOptions::SignIn::ClientCredentials) {
            printOut(QStringLiteral("Signed in as client %1 (nothing is stored: pass "
                                    "--client-credentials to each command).\n")
                         .arg(m_client->identity()));
            finish(ExitOk);
            return;
        }
        const QStringList roles = m_client->roles();
        printOut(
            QStringLiteral("Signed in as %1%2.\n")
                .arg(m_client->identity(),
                    roles.isEmpty()
                        ? QString()
                        : QStringLiteral(" (roles: %1)").arg(roles.join(QStringLiteral(", ")))));
        finish(ExitOk);
    });
}

AuthReply *CliRunner::startSession()
{
    if (m_options.signIn == CliOptions::SignIn::ClientCredentials)
        return m_client->signInWithClientCredentials(qgetenv("LATCHKEY_CLIENT_SECRET"));
    return m_client->restore(m_options.account);
}

void CliRunner::status()
{
    AuthReply *reply = startSession();
    connect(reply, &AuthReply::finished, this, [this, reply] {
        const AuthError error = reply->error();
        if (exitCodeFor(error) == ExitNotSignedIn)
            printOut(QStringLiteral("state:    SignedOut\n"));
        if (error.isError()
            && (exitCodeFor(error) == ExitNotSignedIn
                || m_client->state() != AuthClient::State::SignedIn)) {
            fail(error);
            return;
        }
        if (error.isError()) {
            // The server could not confirm the stored session: it is kept, so say whose it is.
            const QStringList roles = m_client->roles();
            printOut(
                QStringLiteral("state:    %1 (not confirmed: the server could not be "
                               "reached)\n"
                               "identity: %2\n"
                               "roles:    %3\n"
                               "server:   %4 (profile %5)\n")
                    .arg(QString::fromLatin1(QMetaEnum::fromType<AuthClient::State>().valueToKey(
                             int(m_client->state()))),
                        m_client->identity(),
                        roles.isEmpty() ? QStringLiteral("(none)")
                                        : roles.join(QStringLiteral(", ")),
                        m_client->baseUrl().toString(), m_client->profile().name()));
            fail(error);
            return;
        }
        const QDateTime expiresAt = m_client->expiresAt();
        QString expiry = QStringLiteral("unknown (opaque token)");
        if (expiresAt.isValid()) {
            expiry = QStringLiteral("%1 (in %2 s)")
                         .arg(expiresAt.toLocalTime().toString(Qt::ISODate))
                         .arg(QDateTime::currentDateTime().secsTo(expiresAt));
        }
        const QStringList roles = m_client->roles();
        printOut(
            QStringLiteral("state:    %1\n"
                           "identity: %2\n"
                           "roles:    %3\n"
                           "expires:  %4\n"
                           "server:   %5 (profile %6)\n")
                .arg(QString::fromLatin1(QMetaEnum::fromType<AuthClient::State>().valueToKey(
                         int(m_client->state()))),
                    m_client->identity(),
                    roles.isEmpty() ? QStringLiteral("(none)") : roles.join(QStringLiteral(", ")),
                    expiry, m_client->baseUrl().toString(), m_client->profile().name()));
        finish(ExitOk);
    });
}

void CliRunner::request()
{
    // Joined as the SDK joins a profile's paths: --base-url https://h/v1 + /api/x is
    // https://h/v1/api/x (Latchkey::apiUrl).
    const QUrl url = Latchkey::apiUrl(m_options.baseUrl, m_options.path);
    if (!url.isValid()) {
        printError(QStringLiteral("Invalid path \"%1\".").arg(m_options.path));
        finish(ExitUsage);
        return;
    }
    QNetworkRequest request(url);
    request.setRawHeader(QByteArrayLiteral("Accept"), QByteArrayLiteral("application/json"));
    const QByteArray userAgent
        = QByteArrayLiteral("latchkey-cli/") + QCoreApplication::applicationVersion().toUtf8();
    request.setHeader(QNetworkRequest::UserAgentHeader, userAgent);
    request.setTransferTimeout(); // QNetworkRequest::DefaultTransferTimeoutConstant (30 s)

    Latchkey::AuthorizedNetworkAccessManager *nam = m_client->networkAccessManager();
    QNetworkReply *reply = nullptr;
    switch (m_options.command) {
    case CliOptions::Command::Get:
        reply = nam->get(request);
        break;
    case CliOptions::Command::Delete:
        reply = nam->deleteResource(request);
        break;
    case CliOptions::Command::Post:
        request.setHeader(
            QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        reply = nam->post(request, m_options.data);
        break;
    case CliOptions::Command::Put:
        request.setHeader(
            QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        reply = nam->put(request, m_options.data);
        break;
    default:
        Q_UNREACHABLE();
    }
    connect(reply, &QNetworkReply::finished, this, [this, reply] { onRequestFinished(reply); });
}

void CliRunner::onRequestFinished(QNetworkReply *reply)
{
    reply->deleteLater();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray body = reply->readAll();

    // The session failed under the request (refresh rejected, signed out elsewhere, …).
    const AuthError authError = Latchkey::AuthorizedNetworkAccessManager::authError(reply);
    if (authError.isError()) {
        fail(authError);
        return;
    }
    // No HTTP answer, or a transport failure after one (a redirect loop, a body cut short):
    // whatever arrived is not the answer.
    if (status == 0 || (reply->error() != QNetworkReply::NoError && status < 400)) {
        fail(AuthError(AuthError::Kind::Network, reply->errorString())
                 .setNetworkError(reply->error()));
        return;
    }
    printOutBytes(body);
    if (status >= 400) {
        const QString reason
            = reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString();
        printError(QStringLiteral("HTTP %1%2 from %3 %4")
                       .arg(QString::number(status),
                           reason.isEmpty() ? QString() : QLatin1Char(' ') + reason,
                           QString::fromLatin1(m_options.verb()), reply->url().path()));
        finish(ExitHttpError);
        return;
    }
    finish(ExitOk);
}

void CliRunner::logout()
{
    AuthReply *restore = m_client->restore(m_options.account);
    connect(restore, &AuthReply::finished, this, [this, restore] {
        const AuthError restoreError = restore->error();
        switch (restoreError.kind()) {
        case AuthError::Kind::NotSignedIn:
            printOut(QStringLiteral("Not signed in.\n"));
            finish(ExitOk);
            return;
        case AuthError::Kind::SessionExpired:
            printOut(QStringLiteral("The session had already expired; it is removed.\n"));
            finish(ExitOk);
            return;
        default:
            break;
        }
        // Signed in, or the server could not be reached: sign out either way, which always
        // wipes the stored session locally.
        AuthReply *signOut = m_client->signOut();
        connect(signOut, &AuthReply::finished, this, [this, signOut, restoreError] {
            const AuthError error = restoreError.isError() ? restoreError : signOut->error();
            if (error.isError()) {
                reportError(error);
                if (error.kind() == AuthError::Kind::Network
                    || error.kind() == AuthError::Kind::Server) {
                    printError(QStringLiteral("Signed out locally; the server did not confirm, "
                                              "so the session may stay valid there until it "
                                              "expires."));
                }
                finish(exitCodeFor(error) == ExitNotSignedIn ? ExitOk : ExitNetwork);
                return;
            }
            printOut(QStringLiteral("Signed out.\n"));
            QUrl endSession(signOut->data().value(QLatin1String("endSessionUrl")).toString());
            if (endSession.isValid() && !endSession.isEmpty()) {
                // Without the ID token (id_token_hint): it is a token, and nothing printed
                // holds one. The provider then asks the person to confirm, by client_id.
                QUrlQuery query(endSession);
                query.removeAllQueryItems(QStringLiteral("id_token_hint"));
                endSession.setQuery(query);
                printError(QStringLiteral("To end the session at the OpenID provider in the "
                                          "browser too, open:\n  %1")
                               .arg(endSession.toString(QUrl::FullyEncoded)));
            }
            finish(ExitOk);
        });
    });
}

void CliRunner::withSession(const std::function<void()> &next)
{
    AuthReply *reply = startSession();
    connect(reply, &AuthReply::finished, this, [this, reply, next] {
        if (reply->error().isError()) {
            fail(reply->error());
            return;
        }
        next();
    });
}

void CliRunner::fail(const AuthError &error)
{
    reportError(error);
    finish(exitCodeFor(error));
}

QString CliRunner::describe(const AuthError &error)
{
    // The server's message names the lockout's end, and so do lockedUntil() and Retry-After:
    // say it once, as the local time and how long that is from now.
    if (error.kind() == AuthError::Kind::AccountLocked && error.lockedUntil().isValid()) {
        const QDateTime until = error.lockedUntil().toLocalTime();
        const qint64 seconds = std::max<qint64>(0, QDateTime::currentDateTime().secsTo(until));
        const QString in = seconds >= 120 ? QStringLiteral("%1 min").arg((seconds + 59) / 60)
                                          : QStringLiteral("%1 s").arg(seconds);
        return QStringLiteral("%1: the account is locked after too many failed sign-ins; try "
                              "again at %2 (in %3)%4")
            .arg(AuthError::kindName(error.kind()), until.toString(QStringLiteral("HH:mm:ss")), in,
                error.httpStatus() > 0 ? QStringLiteral(" (HTTP %1)").arg(error.httpStatus())
                                       : QString());
    }
    return error.toString();
}

void CliRunner::reportError(const AuthError &error)
{
    // flush() repeats a keychain error the command has already reported.
    if (error.toString() == m_lastReported)
        return;
    m_lastReported = error.toString();
    printError(describe(error));
    if (error.kind() == AuthError::Kind::KeychainUnavailable
        && m_options.store == CliOptions::Store::Keychain) {
        printError(QStringLiteral("The keychain is missing or locked: unlock it (or start its "
                                  "Secret Service) and run this again, or pass --store memory "
                                  "to do without it (then no session outlives this run)."));
    }
}

void CliRunner::finish(int exitCode)
{
    if (m_finishing)
        return;
    m_finishing = true;
    if (!m_client) {
        done(exitCode);
        return;
    }
    // A refresh rotated the refresh token: the keychain write must land before the exit.
    AuthReply *flush = m_client->flush();
    connect(flush, &AuthReply::finished, this, [this, flush, exitCode] {
        int code = exitCode;
        if (flush->error().isError()) {
            reportError(flush->error());
            if (code == ExitOk)
                code = ExitNetwork;
        }
        done(code);
    });
}

void CliRunner::done(int exitCode)
{
    if (m_done)
        return;
    m_done = true;
    if (m_watchdog)
        m_watchdog->stop();
    Q_EMIT finished(exitCode);
}

} // namespace LatchkeyCli
