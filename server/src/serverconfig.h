#pragma once

#include <QHostAddress>
#include <QString>
#include <QStringList>

// Everything the command line can change. Defaults are the production values; tests lower
// pbkdf2Iterations and use an in-memory database on port 0.
struct ServerConfig
{
    QHostAddress listenAddress = QHostAddress(QHostAddress::LocalHost);
    quint16 port = 8080; // 0 = any free port
    QString databasePath; // empty = default file under the XDG data dir; ":memory:" for tests
    qint64 accessTtlSeconds = 900;
    qint64 refreshTtlSeconds = 30 * 24 * 3600;
    int pbkdf2Iterations = 100000;
    int lockoutThreshold = 5; // failed logins before a lockout; 0 disables
    qint64 lockoutSeconds = 30 * 60;
    qint64 lockoutWindowSeconds = 15 * 60; // failures older than this do not count
    int loginRateLimit = 20; // sign-in attempts per client address and window; 0 disables
    qint64 loginRateWindowSeconds = 60;
    QStringList oauthClients = { QStringLiteral("latchkey-demo") }; // accepted client_id values
    bool seedDemo = false;
    bool testHooks = false;
    QString jwtSecretFile; // empty = secret kept in the database
    QString dialect = QStringLiteral("latchkey");
    QString tlsCertificateFile; // PEM, the server's certificate first; with tlsKeyFile: https
    QString tlsKeyFile; // PEM private key (RSA or EC) of that certificate

    bool tls() const { return !tlsCertificateFile.isEmpty(); }

    static QString defaultDatabasePath();

    // Parses the command line (arguments[0] is the program). On a usage error returns false and
    // sets *error; on --help/--version prints and sets *exitEarly.
    bool parse(const QStringList &arguments, QString *error, bool *exitEarly);
};
