#include "clioptions.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>

#include <algorithm>

namespace LatchkeyCli {

namespace {

const char *const description = R"(A thin command-line client of the Latchkey SDK.

Commands:
  login IDENTITY        sign in; the password comes from $LATCHKEY_PASSWORD, else from stdin
                        (without echo on a terminal)
  status                state, identity, expiry and roles of the stored session (never a token)
  get PATH              send an authorized request and print the response body
  delete PATH
  post PATH --data JSON|@FILE
  put PATH --data JSON|@FILE
  logout                revoke the session on the server and always remove it locally

Every command but login first restores the session from the keychain (refreshing its access
token), so a session survives between runs only through the keychain.

Exit codes: 0 ok, 1 HTTP error status (>= 400), 2 not signed in / session expired / bad
credentials, 3 network or protocol error (also keychain unavailable, server failure), 64 usage.

Environment: LATCHKEY_BASE_URL (default for --base-url), LATCHKEY_PASSWORD (for login).)";

struct CommandSpec
{
    const char *name;
    CliOptions::Command command;
    int arguments; // positional arguments after the command
};

const CommandSpec commands[] = {
    { "login", CliOptions::Command::Login, 1 },
    { "status", CliOptions::Command::Status, 0 },
    { "get", CliOptions::Command::Get, 1 },
    { "post", CliOptions::Command::Post, 1 },
    { "put", CliOptions::Command::Put, 1 },
    { "delete", CliOptions::Command::Delete, 1 },
    { "logout", CliOptions::Command::Logout, 0 },
};

CliOptions::ParseResult usageError(const QString &message)
{
    CliOptions::ParseResult result;
    result.exitCode = ExitUsage;
    result.error = message + QStringLiteral("\nTry 'latchkey-cli --help'.");
    return result;
}

} // namespace

QByteArray CliOptions::verb() const
{
    switch (command) {
    case Command::Get:
        return QByteArrayLiteral("GET");
    case Command::Post:
        return QByteArrayLiteral("POST");
    case Command::Put:
        return QByteArrayLiteral("PUT");
    case Command::Delete:
        return QByteArrayLiteral("DELETE");
    default:
        return {};
    }
}

CliOptions::ParseResult CliOptions::parse(
    const QStringList &arguments, const QString &defaultBaseUrl, CliOptions *options)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QString::fromUtf8(description));
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    const QCommandLineOption helpOption = parser.addHelpOption();
    const QCommandLineOption versionOption = parser.addVersionOption();
    const QCommandLineOption profileOption(QStringLiteral("profile"),
        QStringLiteral("Server profile: a built-in name or a JSON file (default: latchkey)."),
        QStringLiteral("NAME|FILE"), QStringLiteral("latchkey"));
    const QCommandLineOption baseUrlOption(QStringLiteral("base-url"),
        QStringLiteral("The API's base URL (default: $LATCHKEY_BASE_URL, else %1).")
            .arg(QStringLiteral("http://127.0.0.1:8080")),
        QStringLiteral("URL"));
    const QCommandLineOption accountOption(QStringLiteral("account"),
        QStringLiteral("The identity whose stored session to use (default: the last one signed "
                       "in for this profile and base URL)."),
        QStringLiteral("ID"));
    const QCommandLineOption storeOption(QStringLiteral("store"),
        QStringLiteral("Where the refresh token lives: keychain (default) or memory (nothing "
                       "survives the process)."),
        QStringLiteral("keychain|memory"), QStringLiteral("keychain"));
    const QCommandLineOption dataOption(QStringLiteral("data"),
        QStringLiteral("Request body of post and put: JSON text, or @FILE to read a file "
                       "(@- reads stdin)."),
        QStringLiteral("JSON|@FILE"));
    const QCommandLineOption timeoutOption(QStringLiteral("timeout"),
        QStringLiteral("Give up after this many seconds, exit 3 (default: 60; 0: never)."),
        QStringLiteral("SECONDS"), QStringLiteral("60"));
    const QCommandLineOption caFileOption(QStringLiteral("ca-file"),
        QStringLiteral("PEM file of CA certificates to trust besides the system's (a private "
                       "CA signing the server's certificate)."),
        QStringLiteral("FILE"));
    const QCommandLineOption verboseOption(QStringLiteral("verbose"),
        QStringLiteral("Show the SDK's debug log (latchkey.*; tokens are redacted)."));
    parser.addOptions({ profileOption, baseUrlOption, accountOption, storeOption, dataOption,
        timeoutOption, caFileOption, verboseOption });
    parser.addPositionalArgument(QStringLiteral("command"),
        QStringLiteral("login, status, get, post, put, delete, logout"),
        QStringLiteral("COMMAND [ARGS]"));

    if (!parser.parse(arguments))
        return usageError(parser.errorText());

    ParseResult result;
    if (parser.isSet(helpOption)) {
        result.output = parser.helpText();
        return result;
    }
    if (parser.isSet(versionOption)) {
        result.output = QCoreApplication::applicationName() + QLatin1Char(' ')
            + QCoreApplication::applicationVersion() + QLatin1Char('\n');
        return result;
    }

    CliOptions o;
    o.profile = parser.value(profileOption);
    if (o.profile.isEmpty())
        return usageError(QStringLiteral("--profile must not be empty."));

    const QString baseUrl
        = parser.isSet(baseUrlOption) ? parser.value(baseUrlOption) : defaultBaseUrl;
    o.baseUrl = QUrl(baseUrl, QUrl::StrictMode);
    if (!o.baseUrl.isValid() || o.baseUrl.host().isEmpty()
        || (o.baseUrl.scheme() != QLatin1String("http")
            && o.baseUrl.scheme() != QLatin1String("https")))
        return usageError(QStringLiteral("Invalid base URL \"%1\": expected http(s)://HOST[:PORT].")
                              .arg(baseUrl));

    o.account = parser.value(accountOption);

    const QString store = parser.value(storeOption);
    if (store == QLatin1String("keychain"))
        o.store = Store::Keychain;
    else if (store == QLatin1String("memory"))
        o.store = Store::Memory;
    else
        return usageError(
            QStringLiteral("Invalid --store \"%1\": expected keychain or memory.").arg(store));

    bool ok = false;
    const int timeout = parser.value(timeoutOption).toInt(&ok);
    if (!ok || timeout < 0)
        return usageError(QStringLiteral("Invalid --timeout \"%1\": expected seconds.")
                              .arg(parser.value(timeoutOption)));
    o.timeout = std::chrono::seconds(timeout);
    o.verbose = parser.isSet(verboseOption);

    if (parser.isSet(caFileOption)) {
        const QString caFile = parser.value(caFileOption);
        QFile file(caFile);
        if (!file.open(QIODevice::ReadOnly))
            return usageError(
                QStringLiteral("Cannot read --ca-file %1: %2").arg(caFile, file.errorString()));
        o.caCertificates = QSslCertificate::fromData(file.readAll(), QSsl::Pem);
        const bool invalid = std::any_of(o.caCertificates.cbegin(), o.caCertificates.cend(),
            [](const QSslCertificate &certificate) { return certificate.isNull(); });
        if (o.caCertificates.isEmpty() || invalid)
            return usageError(
                QStringLiteral("--ca-file %1 holds no valid PEM certificate.").arg(caFile));
    }

    const QStringList positional = parser.positionalArguments();
    if (positional.isEmpty())
        return usageError(QStringLiteral("Missing command."));
    const QString name = positional.first();
    const CommandSpec *spec = nullptr;
    for (const CommandSpec &candidate : commands) {
        if (name == QLatin1String(candidate.name))
            spec = &candidate;
    }
    if (!spec)
        return usageError(QStringLiteral("Unknown command \"%1\".").arg(name));
    if (positional.size() - 1 != spec->arguments) {
        return usageError(spec->arguments == 0
                ? QStringLiteral("%1 takes no arguments.").arg(name)
                : QStringLiteral("%1 takes one argument.").arg(name));
    }
    o.command = spec->command;
    if (o.command == Command::Login)
        o.identity = positional.at(1);
    if (o.isRequest())
        o.path = positional.at(1);

    const bool takesData = o.command == Command::Post || o.command == Command::Put;
    if (takesData != parser.isSet(dataOption)) {
        return usageError(takesData ? QStringLiteral("%1 needs --data JSON|@FILE.").arg(name)
                                    : QStringLiteral("--data is only for post and put."));
    }
    if (takesData) {
        const QString data = parser.value(dataOption);
        if (data.startsWith(QLatin1Char('@'))) {
            const QString fileName = data.mid(1);
            QFile file(fileName);
            const bool opened = fileName == QLatin1String("-")
                ? file.open(stdin, QIODevice::ReadOnly)
                : file.open(QIODevice::ReadOnly);
            if (!opened)
                return usageError(
                    QStringLiteral("Cannot read %1: %2").arg(fileName, file.errorString()));
            o.data = file.readAll();
        } else {
            o.data = data.toUtf8();
        }
    }

    *options = o;
    result.run = true;
    return result;
}

} // namespace LatchkeyCli
