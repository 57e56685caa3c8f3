#include "serverconfig.h"

#include "dialect.h"

#include <QCommandLineParser>
#include <QDir>
#include <QStandardPaths>

QString ServerConfig::defaultDatabasePath()
{
    QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    if (dir.isEmpty())
        dir = QDir::homePath() + QStringLiteral("/.local/share/latchkey-server");
    return dir + QStringLiteral("/latchkey-server.sqlite");
}

namespace {
bool parseNumber(const QString &text, qint64 min, qint64 max, qint64 *out)
{
    bool ok = false;
    const qint64 value = text.toLongLong(&ok);
    if (!ok || value < min || value > max)
        return false;
    *out = value;
    return true;
}
} // namespace

bool ServerConfig::parse(const QStringList &arguments, QString *error, bool *exitEarly)
{
    *exitEarly = false;
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Latchkey reference auth server (HTTP, JWT access tokens, rotating "
                       "refresh tokens, SQLite)."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption portOpt(QStringLiteral("port"),
        QStringLiteral("TCP port (0 = any free port). Default 8080."), QStringLiteral("N"));
    const QCommandLineOption listenOpt(QStringLiteral("listen"),
        QStringLiteral("Address to listen on. Default 127.0.0.1."), QStringLiteral("ADDR"));
    const QCommandLineOption dbOpt(QStringLiteral("db"),
        QStringLiteral("SQLite file, or :memory:. Default: %1").arg(defaultDatabasePath()),
        QStringLiteral("PATH"));
    const QCommandLineOption accessOpt(QStringLiteral("access-ttl"),
        QStringLiteral("Access token lifetime. Default 900."), QStringLiteral("SECONDS"));
    const QCommandLineOption refreshOpt(QStringLiteral("refresh-ttl"),
        QStringLiteral("Refresh token lifetime. Default 2592000 (30 days)."),
        QStringLiteral("SECONDS"));
    const QCommandLineOption iterOpt(QStringLiteral("pbkdf2-iterations"),
        QStringLiteral("PBKDF2 iterations for new password hashes. "
                       "Default 100000."),
        QStringLiteral("N"));
    const QCommandLineOption lockOpt(QStringLiteral("lockout-threshold"),
        QStringLiteral("Failed logins that lock an account (0 = "
                       "never). Default 5."),
        QStringLiteral("N"));
    const QCommandLineOption lockSecsOpt(QStringLiteral("lockout-seconds"),
        QStringLiteral("Lockout duration. Default 1800."), QStringLiteral("SECONDS"));
    const QCommandLineOption lockWindowOpt(QStringLiteral("lockout-window"),
        QStringLiteral("Failed logins within this many seconds count towards a lockout. "
                       "Default 900."),
        QStringLiteral("SECONDS"));
    const QCommandLineOption rateOpt(QStringLiteral("login-rate-limit"),
        QStringLiteral("Sign-in attempts allowed per client address and window (0 = no "
                       "limit). Default 20."),
        QStringLiteral("N"));
    const QCommandLineOption rateWindowOpt(QStringLiteral("login-rate-window"),
        QStringLiteral("Window of --login-rate-limit. Default 60."), QStringLiteral("SECONDS"));
    const QCommandLineOption oauthClientOpt(QStringLiteral("oauth-client"),
        QStringLiteral("Another client_id accepted by /oauth/token and /oauth/revoke "
                       "(repeatable; latchkey-demo is always accepted)."),
        QStringLiteral("ID"));
    const QCommandLineOption seedOpt(
        QStringLiteral("seed-demo"), QStringLiteral("Create the demo users and bookings."));
    const QCommandLineOption hooksOpt(QStringLiteral("test-hooks"),
        QStringLiteral("Enable the /test/* fault-injection "
                       "endpoints. Never in production."));
    const QCommandLineOption secretOpt(QStringLiteral("jwt-secret-file"),
        QStringLiteral("File holding the HS256 signing secret "
                       "(at least 32 bytes)."),
        QStringLiteral("PATH"));
    const QCommandLineOption dialectOpt(QStringLiteral("dialect"),
        QStringLiteral("Wire dialect: %1. Default latchkey.")
            .arg(Dialect::availableNames().join(QStringLiteral(", "))),
        QStringLiteral("NAME"));
    const QCommandLineOption tlsCertOpt(QStringLiteral("tls-cert"),
        QStringLiteral("Serve HTTPS with this PEM certificate (the server's first, then its "
                       "chain). Needs --tls-key."),
        QStringLiteral("FILE"));
    const QCommandLineOption tlsKeyOpt(QStringLiteral("tls-key"),
        QStringLiteral("The PEM private key (RSA or EC, unencrypted) of --tls-cert."),
        QStringLiteral("FILE"));
    parser.addOptions({ portOpt, listenOpt, dbOpt, accessOpt, refreshOpt, iterOpt, lockOpt,
        lockSecsOpt, lockWindowOpt, rateOpt, rateWindowOpt, oauthClientOpt, seedOpt, hooksOpt,
        secretOpt, dialectOpt, tlsCertOpt, tlsKeyOpt });

    if (!parser.parse(arguments)) {
        *error = parser.errorText();
        return false;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        *exitEarly = true;
        parser.showHelp(0); // exits
    }
    if (parser.isSet(QStringLiteral("version"))) {
        *exitEarly = true;
        parser.showVersion(); // exits
    }
    if (!parser.positionalArguments().isEmpty()) {
        *error
            = QStringLiteral("unexpected argument: %1").arg(parser.positionalArguments().first());
        return false;
    }

    qint64 n = 0;
    if (parser.isSet(portOpt)) {
        if (!parseNumber(parser.value(portOpt), 0, 65535, &n)) {
            *error = QStringLiteral("--port must be 0..65535");
            return false;
        }
        port = quint16(n);
    }
    if (parser.isSet(listenOpt)) {
        const QString text = parser.value(listenOpt);
        if (text == QLatin1String("localhost"))
            listenAddress = QHostAddress(QHostAddress::LocalHost);
        else if (!listenAddress.setAddress(text)) {
            *error = QStringLiteral("--listen: not an IP address: %1").arg(text);
            return false;
        }
    }
    if (parser.isSet(dbOpt))
        databasePath = parser.value(dbOpt);
    const struct
    {
        const QCommandLineOption *option;
        qint64 min, max;
        qint64 *target;
    } numbers[] = { { &accessOpt, 1, 365LL * 24 * 3600, &accessTtlSeconds },
        { &refreshOpt, 1, 10LL * 365 * 24 * 3600, &refreshTtlSeconds },
        { &lockSecsOpt, 1, 365LL * 24 * 3600, &lockoutSeconds },
        { &lockWindowOpt, 1, 365LL * 24 * 3600, &lockoutWindowSeconds },
        { &rateWindowOpt, 1, 24LL * 3600, &loginRateWindowSeconds } };
    for (const auto &num : numbers) {
        if (parser.isSet(*num.option)
            && !parseNumber(parser.value(*num.option), num.min, num.max, num.target)) {
            *error = QStringLiteral("--%1 must be a number in %2..%3")
                         .arg(num.option->names().first())
                         .arg(num.min)
                         .arg(num.max);
            return false;
        }
    }
    if (parser.isSet(iterOpt)) {
        if (!parseNumber(parser.value(iterOpt), 1, 10000000, &n)) {
            *error = QStringLiteral("--pbkdf2-iterations must be 1..10000000");
            return false;
        }
        pbkdf2Iterations = int(n);
    }
    if (parser.isSet(lockOpt)) {
        if (!parseNumber(parser.value(lockOpt), 0, 1000000, &n)) {
            *error = QStringLiteral("--lockout-threshold must be 0..1000000");
            return false;
        }
        lockoutThreshold = int(n);
    }
    if (parser.isSet(rateOpt)) {
        if (!parseNumber(parser.value(rateOpt), 0, 1000000, &n)) {
            *error = QStringLiteral("--login-rate-limit must be 0..1000000");
            return false;
        }
        loginRateLimit = int(n);
    }
    const QStringList clients = parser.values(oauthClientOpt);
    for (const QString &client : clients) {
        if (client.isEmpty() || client.size() > 200) {
            *error = QStringLiteral("--oauth-client must be 1..200 characters");
            return false;
        }
        if (!oauthClients.contains(client))
            oauthClients << client;
    }
    seedDemo = parser.isSet(seedOpt);
    testHooks = parser.isSet(hooksOpt);
    if (parser.isSet(secretOpt))
        jwtSecretFile = parser.value(secretOpt);
    if (parser.isSet(tlsCertOpt) != parser.isSet(tlsKeyOpt)) {
        *error = QStringLiteral("--tls-cert and --tls-key go together");
        return false;
    }
    tlsCertificateFile = parser.value(tlsCertOpt);
    tlsKeyFile = parser.value(tlsKeyOpt);
    if (parser.isSet(tlsCertOpt) && (tlsCertificateFile.isEmpty() || tlsKeyFile.isEmpty())) {
        *error = QStringLiteral("--tls-cert and --tls-key need a file name");
        return false;
    }
    if (parser.isSet(dialectOpt)) {
        dialect = parser.value(dialectOpt);
        if (!Dialect::availableNames().contains(dialect)) {
            *error = QStringLiteral("unknown --dialect '%1' (available: %2)")
                         .arg(dialect, Dialect::availableNames().join(QStringLiteral(", ")));
            return false;
        }
    }
    return true;
}
