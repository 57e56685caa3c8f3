// latchkey-service-bot: a headless service on the Latchkey SDK. It signs in as a bot account
// with credentials from the environment, a file or the keychain, keeps its token fresh, calls
// an API every few seconds and prints one JSON line per call with the session's health. When
// the server goes away it keeps trying (with backoff) and recovers by itself; when the server
// revokes its session it signs in again. docs/getting-started.md, "A headless service".
#include "servicebot.h"

#include <latchkey/environmentcredentials.h>
#include <latchkey/filecredentials.h>
#include <latchkey/keychaincredentials.h>
#include <latchkey/serverprofile.h>

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QLoggingCategory>
#include <QTextStream>
#include <QTimer>

#include <atomic>
#include <csignal>

namespace {

std::atomic<int> stopSignal { 0 };

extern "C" void onStopSignal(int signal)
{
    stopSignal.store(signal); // all a signal handler may do; the event loop looks at it
}

int usage(const QString &message)
{
    QTextStream(stderr) << "latchkey-service-bot: " << message << Qt::endl
                        << "Try 'latchkey-service-bot --help'." << Qt::endl;
    return 64;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("Latchkey"));
    QCoreApplication::setApplicationName(QStringLiteral("latchkey-service-bot"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "A headless service: signs in by itself, keeps its token fresh, calls an API every "
        "interval and prints one JSON line per call with the session's health.\n"
        "Credentials: --identity-env and --password-env, or --credentials-file, or "
        "--keychain-key and --identity.\n"
        "Exit codes: 0 after --iterations calls or SIGTERM/SIGINT, 2 when the server refuses "
        "the credentials or there are none, 64 usage."));
    parser.addHelpOption();
    const QCommandLineOption baseUrl(QStringLiteral("base-url"),
        QStringLiteral("The server (default $LATCHKEY_BASE_URL, else http://127.0.0.1:8080)."),
        QStringLiteral("url"));
    const QCommandLineOption profile(QStringLiteral("profile"),
        QStringLiteral("A built-in profile or a profile file (default latchkey)."),
        QStringLiteral("name|file"), QStringLiteral("latchkey"));
    const QCommandLineOption identityEnv(QStringLiteral("identity-env"),
        QStringLiteral("The environment variable holding the identity."), QStringLiteral("var"));
    const QCommandLineOption passwordEnv(QStringLiteral("password-env"),
        QStringLiteral("The environment variable holding the password."), QStringLiteral("var"));
    const QCommandLineOption credentialsFile(QStringLiteral("credentials-file"),
        QStringLiteral("A file (mode 0600): the identity on its first line, the password on its "
                       "second."),
        QStringLiteral("path"));
    const QCommandLineOption keychainKey(QStringLiteral("keychain-key"),
        QStringLiteral("The keychain entry holding the password (with --identity)."),
        QStringLiteral("key"));
    const QCommandLineOption identity(QStringLiteral("identity"),
        QStringLiteral("The identity, with --keychain-key."), QStringLiteral("identity"));
    const QCommandLineOption keychainSession(QStringLiteral("keychain-session"),
        QStringLiteral("Keep the session in the OS keychain (default: in memory; each start "
                       "signs in)."));
    const QCommandLineOption insecure(QStringLiteral("allow-insecure-http"),
        QStringLiteral("Allow plain http to hosts other than loopback."));
    const QCommandLineOption apiPath(QStringLiteral("api-path"),
        QStringLiteral("The API path to GET on each call (default /api/bookings)."),
        QStringLiteral("path"), QStringLiteral("/api/bookings"));
    const QCommandLineOption interval(QStringLiteral("interval"),
        QStringLiteral("Milliseconds between calls (default 5000)."), QStringLiteral("ms"),
        QStringLiteral("5000"));
    const QCommandLineOption iterations(QStringLiteral("iterations"),
        QStringLiteral("Calls to make, then exit (default 0: until SIGTERM or SIGINT)."),
        QStringLiteral("n"), QStringLiteral("0"));
    const QCommandLineOption verbose(
        QStringLiteral("verbose"), QStringLiteral("The SDK's log on stderr (tokens redacted)."));
    parser.addOptions({ baseUrl, profile, identityEnv, passwordEnv, credentialsFile, keychainKey,
        identity, keychainSession, insecure, apiPath, interval, iterations, verbose });
    parser.process(app);
    if (!parser.positionalArguments().isEmpty())
        return usage(
            QStringLiteral("unexpected argument %1").arg(parser.positionalArguments().first()));

    LatchkeyBot::BotOptions options;
    QString url = parser.value(baseUrl);
    if (url.isEmpty())
        url = qEnvironmentVariable("LATCHKEY_BASE_URL", QStringLiteral("http://127.0.0.1:8080"));
    options.baseUrl = QUrl(url);
    if (!options.baseUrl.isValid() || options.baseUrl.host().isEmpty())
        return usage(QStringLiteral("--base-url %1 is not a URL").arg(url));
    options.profile = parser.value(profile);
    QString error;
    if (!Latchkey::ServerProfile::load(options.profile, &error).isValid())
        return usage(QStringLiteral("--profile %1: %2").arg(options.profile, error));
    options.apiPath = parser.value(apiPath);
    options.keychainSession = parser.isSet(keychainSession);
    options.allowInsecureHttp = parser.isSet(insecure);
    bool ok = false;
    options.intervalMs = parser.value(interval).toInt(&ok);
    if (!ok || options.intervalMs < 0)
        return usage(QStringLiteral("--interval wants milliseconds"));
    options.iterations = parser.value(iterations).toInt(&ok);
    if (!ok || options.iterations < 0)
        return usage(QStringLiteral("--iterations wants a count (0: forever)"));

    Latchkey::CredentialsProvider *credentials = nullptr;
    const int sources = int(parser.isSet(identityEnv) || parser.isSet(passwordEnv))
        + int(parser.isSet(credentialsFile)) + int(parser.isSet(keychainKey));
    if (sources != 1) {
        return usage(QStringLiteral("give one source of credentials: --identity-env and "
                                    "--password-env, --credentials-file, or --keychain-key"));
    }
    if (parser.isSet(credentialsFile)) {
        credentials = new Latchkey::FileCredentials(parser.value(credentialsFile));
    } else if (parser.isSet(keychainKey)) {
        if (!parser.isSet(identity))
            return usage(QStringLiteral("--keychain-key wants --identity"));
        credentials
            = new Latchkey::KeychainCredentials(parser.value(identity), parser.value(keychainKey));
    } else {
        if (!parser.isSet(identityEnv) || !parser.isSet(passwordEnv))
            return usage(QStringLiteral("--identity-env and --password-env go together"));
        credentials = new Latchkey::EnvironmentCredentials(
            parser.value(identityEnv), parser.value(passwordEnv));
    }

    QLoggingCategory::setFilterRules(parser.isSet(verbose)
            ? QStringLiteral("latchkey.*=true")
            : QStringLiteral("latchkey.*.debug=false\nlatchkey.*.info=false"));

    LatchkeyBot::ServiceBot bot(options, credentials);
    QObject::connect(&bot, &LatchkeyBot::ServiceBot::finished, &app,
        [](int exitCode) { QCoreApplication::exit(exitCode); });

    // SIGTERM (a service manager stopping it) and SIGINT (Ctrl+C): stop between calls.
    std::signal(SIGTERM, onStopSignal);
    std::signal(SIGINT, onStopSignal);
    QTimer signalCheck;
    QObject::connect(&signalCheck, &QTimer::timeout, &bot, [&bot] {
        if (const int signal = stopSignal.exchange(0)) {
            QTextStream(stderr) << "latchkey-service-bot: stopping (signal " << signal << ")"
                                << Qt::endl;
            bot.stop(0);
        }
    });
    signalCheck.start(100);

    bot.start();
    return app.exec();
}
