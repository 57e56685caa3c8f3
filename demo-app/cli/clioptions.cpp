#include "clioptions.h"

#include <latchkey/serverprofile.h>

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonObject>

#include <algorithm>

namespace LatchkeyCli {

namespace {

const char *const description = R"(A thin command-line client of the Latchkey SDK.

Commands:
  login IDENTITY        sign in; the password comes from $LATCHKEY_PASSWORD, else from stdin
                        (without echo on a terminal)
  login --browser       OpenID Connect: open the provider's sign-in page with $BROWSER, else
                        xdg-open (the URL is printed on stderr too) and wait for its redirect
                        to 127.0.0.1 (up to --timeout if given, else 5 minutes)
  login --device        OpenID Connect device code: print the page and the code to enter
                        there on stderr, then wait until it is approved or expires
  login --client-credentials
                        OpenID Connect client credentials (the secret comes from
                        $LATCHKEY_CLIENT_SECRET): check them; nothing is stored
  status                state, identity, expiry and roles of the stored session (never a token)
  get PATH              send an authorized request and print the response body
  delete PATH
  post PATH --data JSON|@FILE
  put PATH --data JSON|@FILE
  logout                revoke the session on the server and always remove it locally (for an
                        OpenID provider with an end-session page, its URL is printed on stderr)

Every command but login first restores the session from the keychain (refreshing its access
token), so a session survives between runs only through the keychain. A client-credentials
session is never stored: with --client-credentials, status, get, post, put and delete sign in
with them first, in the same run (latchkey-cli --client-credentials get PATH).

OpenID Connect: --profile oidc --issuer URL --client-id ID [--scopes "openid offline_access"];
--base-url is the API that gets the access token. --issuer, --client-id and --scopes override
the same keys of any profile (a profile without an "oidc" key gets one).

Exit codes: 0 ok, 1 HTTP error status (>= 400), 2 not signed in / session expired / bad
credentials / sign-in refused (access denied) / device code or browser sign-in expired, 3 network
or protocol error (also keychain unavailable, server failure), 64 usage.

Environment: LATCHKEY_BASE_URL (default for --base-url), LATCHKEY_PASSWORD (for login),
LATCHKEY_CLIENT_SECRET (--client-credentials; also a confidential client's secret), BROWSER
(login --browser: a command, run with the URL as its last argument).)";

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

std::chrono::seconds CliOptions::redirectTimeout() const
{
    if (timeoutGiven && timeout.count() > 0)
        return timeout;
    return std::chrono::minutes(5);
}

Latchkey::ServerProfile CliOptions::serverProfile(QString *error) const
{
    using Latchkey::ServerProfile;
    QString loadError;
    ServerProfile loaded = ServerProfile::load(profile, &loadError);
    if (!loaded.isValid()) {
        *error = QStringLiteral("Invalid profile \"%1\": %2").arg(profile, loadError);
        return {};
    }
    if (!issuer.isEmpty() || !clientId.isEmpty() || !scopes.isEmpty()) {
        QJsonObject root = loaded.toJson();
        QJsonObject oidc = root.value(QLatin1String("oidc")).toObject();
        if (!issuer.isEmpty())
            oidc.insert(QLatin1String("issuer"), issuer.toString());
        if (!clientId.isEmpty())
            oidc.insert(QLatin1String("clientId"), clientId);
        if (!scopes.isEmpty())
            oidc.insert(QLatin1String("scopes"), QJsonArray::fromStringList(scopes));
        root.insert(QLatin1String("oidc"), oidc);
        loaded = ServerProfile::fromJsonObject(root, &loadError);
        if (!loaded.isValid()) {
            *error = QStringLiteral("Invalid profile \"%1\" with --issuer, --client-id or "
                                    "--scopes: %2")
                         .arg(profile, loadError);
            return {};
        }
    }
    if (!loaded.isOpenIdConnect()) {
        if (signIn != SignIn::Password) {
            *error = QStringLiteral("--browser, --device and --client-credentials need an OpenID "
                                    "Connect profile: --profile oidc --issuer URL --client-id ID.");
            return {};
        }
        return loaded;
    }
    // What the "oidc" key names, as docs/profiles.md documents it.
    const QJsonObject oidc = loaded.toJson().value(QLatin1String("oidc")).toObject();
    if (oidc.value(QLatin1String("issuer")).toString().isEmpty()
        && !oidc.value(QLatin1String("endpoints")).toObject().contains(QLatin1String("token"))) {
        *error = QStringLiteral("The profile \"%1\" names no OpenID provider: pass --issuer URL "
                                "(its discovery document is URL/.well-known/openid-configuration).")
                     .arg(profile);
        return {};
    }
    if (oidc.value(QLatin1String("clientId")).toString().isEmpty()) {
        *error = QStringLiteral("The profile \"%1\" names no OpenID client: pass --client-id ID.")
                     .arg(profile);
        return {};
    }
    if (command == Command::Login && signIn == SignIn::Password && !loaded.hasPasswordSignIn()) {
        *error = QStringLiteral("The profile \"%1\" has no password sign-in: use login --browser, "
                                "login --device or login --client-credentials.")
                     .arg(profile);
        return {};
    }
    return loaded;
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
        QStringLiteral(
            "Give up after this many seconds, exit 3 (default: 60; 0: never). login "
            "--browser waits this long for the browser (default: 5 minutes; then exit 2), login "
            "--device by default as long as its code lives."),
        QStringLiteral("SECONDS"), QStringLiteral("60"));
    const QCommandLineOption caFileOption(QStringLiteral("ca-file"),
        QStringLiteral("PEM file of CA certificates to trust besides the system's (a private "
                       "CA signing the server's certificate)."),
        QStringLiteral("FILE"));
    const QCommandLineOption issuerOption(QStringLiteral("issuer"),
        QStringLiteral("OpenID Connect: the provider's issuer URL (sets oidc.issuer of the "
                       "profile)."),
        QStringLiteral("URL"));
    const QCommandLineOption clientIdOption(QStringLiteral("client-id"),
        QStringLiteral("OpenID Connect: the client ID registered at the provider (sets "
                       "oidc.clientId)."),
        QStringLiteral("ID"));
    const QCommandLineOption scopesOption(QStringLiteral("scopes"),
        QStringLiteral("OpenID Connect: the scopes to ask for, separated by spaces (sets "
                       "oidc.scopes; the oidc profile's default: \"openid profile email "
                       "offline_access\")."),
        QStringLiteral("\"SCOPE ...\""));
    const QCommandLineOption browserOption(QStringLiteral("browser"),
        QStringLiteral("login: sign in at the OpenID provider in a browser."));
    const QCommandLineOption deviceOption(QStringLiteral("device"),
        QStringLiteral("login: sign in with a device code approved on any device."));
    const QCommandLineOption clientCredentialsOption(QStringLiteral("client-credentials"),
        QStringLiteral("Sign in as the client itself with $LATCHKEY_CLIENT_SECRET, in this run "
                       "only (login checks them; status, get, post, put, delete sign in first)."));
    const QCommandLineOption verboseOption(QStringLiteral("verbose"),
        QStringLiteral("Show the SDK's debug log (latchkey.*; tokens are redacted)."));
    parser.addOptions({ profileOption, baseUrlOption, accountOption, storeOption, dataOption,
        timeoutOption, caFileOption, issuerOption, clientIdOption, scopesOption, browserOption,
        deviceOption, clientCredentialsOption, verboseOption });
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
    o.timeoutGiven = parser.isSet(timeoutOption);
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

    if (parser.isSet(issuerOption)) {
        const QString issuer = parser.value(issuerOption);
        o.issuer = QUrl(issuer, QUrl::StrictMode);
        if (!o.issuer.isValid() || o.issuer.host().isEmpty()
            || (o.issuer.scheme() != QLatin1String("http")
                && o.issuer.scheme() != QLatin1String("https")))
            return usageError(
                QStringLiteral("Invalid --issuer \"%1\": expected http(s)://HOST[:PORT][/PATH].")
                    .arg(issuer));
    }
    if (parser.isSet(clientIdOption)) {
        o.clientId = parser.value(clientIdOption);
        if (o.clientId.isEmpty())
            return usageError(QStringLiteral("--client-id must not be empty."));
    }
    if (parser.isSet(scopesOption)) {
        o.scopes = parser.value(scopesOption).split(QLatin1Char(' '), Qt::SkipEmptyParts);
        if (o.scopes.isEmpty())
            return usageError(QStringLiteral("--scopes must name at least one scope."));
    }
    const int signIns = int(parser.isSet(browserOption)) + int(parser.isSet(deviceOption))
        + int(parser.isSet(clientCredentialsOption));
    if (signIns > 1)
        return usageError(
            QStringLiteral("Choose one of --browser, --device and --client-credentials."));
    if (parser.isSet(browserOption))
        o.signIn = SignIn::Browser;
    else if (parser.isSet(deviceOption))
        o.signIn = SignIn::Device;
    else if (parser.isSet(clientCredentialsOption))
        o.signIn = SignIn::ClientCredentials;

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
    // login takes IDENTITY for a password only.
    const int wanted
        = spec->command == Command::Login && o.signIn != SignIn::Password ? 0 : spec->arguments;
    if (spec->command == Command::Login && positional.size() - 1 != wanted) {
        return usageError(wanted == 0
                ? QStringLiteral("login takes no IDENTITY with --browser, --device or "
                                 "--client-credentials.")
                : QStringLiteral("login takes one argument: IDENTITY (or use --browser, --device "
                                 "or --client-credentials)."));
    }
    if (positional.size() - 1 != wanted) {
        return usageError(wanted == 0 ? QStringLiteral("%1 takes no arguments.").arg(name)
                                      : QStringLiteral("%1 takes one argument.").arg(name));
    }
    o.command = spec->command;
    if ((o.signIn == SignIn::Browser || o.signIn == SignIn::Device) && o.command != Command::Login)
        return usageError(QStringLiteral("--browser and --device are for login."));
    if (o.signIn == SignIn::ClientCredentials && o.command == Command::Logout)
        return usageError(QStringLiteral("A client-credentials session is never stored: there "
                                         "is nothing to log out."));
    if (o.command == Command::Login && o.signIn == SignIn::Password)
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
