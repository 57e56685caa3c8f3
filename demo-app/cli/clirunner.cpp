#include "clirunner.h"

#include "passwordprompt.h"

#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/authreply.h>
#include <latchkey/memorytokenstore.h>
#include <latchkey/serverprofile.h>

#include <QCoreApplication>
#include <QDateTime>
#include <QMetaEnum>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSslConfiguration>
#include <QTimer>

#include <cstdio>
#include <unistd.h>

using Latchkey::AuthClient;
using Latchkey::AuthError;
using Latchkey::AuthReply;

namespace LatchkeyCli {

namespace {
void writeTo(FILE *stream, const QByteArray &bytes)
{
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stream);
    std::fflush(stream);
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
    if (!bytes.isEmpty() && !bytes.endsWith('\n') && isatty(STDOUT_FILENO))
        writeTo(stdout, QByteArrayLiteral("\n"));
}

void printError(const QString &message)
{
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
        m_watchdog = new QTimer(this);
        m_watchdog->setSingleShot(true);
        connect(m_watchdog, &QTimer::timeout, this, [this] {
            printError(QStringLiteral("Timed out after %1 s.").arg(m_options.timeout.count()));
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
        m_watchdog->start(m_options.timeout);
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
        return ExitNotSignedIn;
    default:
        return ExitNetwork;
    }
}

void CliRunner::run()
{
    QString profileError;
    const auto profile = Latchkey::ServerProfile::load(m_options.profile, &profileError);
    if (!profile.isValid()) {
        printError(
            QStringLiteral("Invalid profile \"%1\": %2").arg(m_options.profile, profileError));
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
    QString password;
    if (!readPassword(QStringLiteral("Password for %1: ").arg(m_options.identity), &password)) {
        printError(QStringLiteral("No password: set LATCHKEY_PASSWORD or write it to stdin."));
        finish(ExitUsage);
        return;
    }
    AuthReply *reply = m_client->signIn(m_options.identity, password);
    password.fill(QLatin1Char('\0'));
    connect(reply, &AuthReply::finished, this, [this, reply] {
        if (reply->error().isError()) {
            fail(reply->error());
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

void CliRunner::status()
{
    AuthReply *reply = m_client->restore(m_options.account);
    connect(reply, &AuthReply::finished, this, [this, reply] {
        const AuthError error = reply->error();
        if (exitCodeFor(error) == ExitNotSignedIn)
            printOut(QStringLiteral("state:    SignedOut\n"));
        if (error.isError()) {
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
    const QUrl path(m_options.path);
    if (!path.isValid()) {
        printError(QStringLiteral("Invalid path \"%1\".").arg(m_options.path));
        finish(ExitUsage);
        return;
    }
    QNetworkRequest request(m_options.baseUrl.resolved(path));
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
            finish(ExitOk);
        });
    });
}

void CliRunner::withSession(const std::function<void()> &next)
{
    AuthReply *reply = m_client->restore(m_options.account);
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

void CliRunner::reportError(const AuthError &error)
{
    // flush() repeats a keychain error the command has already reported.
    if (error.toString() == m_lastReported)
        return;
    m_lastReported = error.toString();
    printError(error.toString());
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
