#include <latchkey/apiurl.h>
#include <latchkey/authclient.h>
#include <latchkey/memorytokenstore.h>

#include "scriptedserver.h"
#include "testhelpers.h"

#include <QtTest>

using namespace Latchkey;
using namespace LatchkeyTest;

// One rule joins a base URL with a path in the SDK (a profile's endpoints), the QML Session
// and latchkey-cli: the base URL's path, one "/", the path; a full URL as it is.
namespace {
void row(const char *name, const char *base, const char *path, const char *expected)
{
    QTest::newRow(name) << QString::fromLatin1(base) << QString::fromLatin1(path)
                        << QString::fromLatin1(expected);
}
} // namespace

class TestApiUrl : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void baseUrlPathIsKept_data()
    {
        QTest::addColumn<QString>("base");
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("expected");
        row("base without final slash", "https://h/v1", "/api/x", "https://h/v1/api/x");
        row("base with final slash", "https://h/v1/", "/api/x", "https://h/v1/api/x");
        row("path without leading slash", "https://h/v1/", "api/x", "https://h/v1/api/x");
        row("neither slash", "https://h/v1", "api/x", "https://h/v1/api/x");
        row("base without path", "https://h", "/api/x", "https://h/api/x");
        row("base of just a slash", "https://h/", "/api/x", "https://h/api/x");
        row("port and query kept", "http://127.0.0.1:8443/v1", "/api/x?page=2&q=a%20b",
            "http://127.0.0.1:8443/v1/api/x?page=2&q=a%20b");
        row("an encoded slash stays one segment", "https://h/v1", "/files/a%2Fb",
            "https://h/v1/files/a%2Fb");
        row("full URL as it is", "https://h/v1", "https://auth.example.com/token",
            "https://auth.example.com/token");
        row("empty path", "https://h/v1/", "", "https://h/v1/");
    }

    void baseUrlPathIsKept()
    {
        QFETCH(QString, base);
        QFETCH(QString, path);
        QFETCH(QString, expected);
        QCOMPARE(apiUrl(QUrl(base), path).toString(QUrl::FullyEncoded), expected);
    }

    // A profile's endpoint paths go under the base URL's path, with their query, whether the
    // base URL ends with "/" or not.
    void profileEndpointsJoinTheBasePath()
    {
        ScriptedServer server;
        QStringList queries;
        server.on(QStringLiteral("/v1/auth/login"), [&](const QHttpServerRequest &request) {
            queries << request.url().query();
            return ScriptedServer::json(R"({"access":"acc"})");
        });
        QVERIFY(server.listen());
        QString error;
        const ServerProfile profile = ServerProfile::fromJson(R"({
          "name": "prefixed",
          "login":  { "path": "/auth/login?tenant=a" },
          "tokens": { "access": "/access" }
        })",
            &error);
        QVERIFY2(profile.isValid(), qPrintable(error));
        for (const QString &base : { QStringLiteral("/v1"), QStringLiteral("/v1/") }) {
            AuthClient client(profile, server.url(base));
            client.setTokenStore(new MemoryTokenStore);
            const AuthError signIn
                = await(client.signIn(QStringLiteral("ada"), QStringLiteral("pw")));
            QVERIFY2(!signIn.isError(), qPrintable(base + QLatin1Char(' ') + signIn.toString()));
        }
        QCOMPARE(queries, QStringList({ QStringLiteral("tenant=a"), QStringLiteral("tenant=a") }));
    }
};

QTEST_GUILESS_MAIN(TestApiUrl)
#include "tst_apiurl.moc"
