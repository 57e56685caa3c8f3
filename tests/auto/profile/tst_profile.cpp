#include <latchkey/autherror.h>
#include <latchkey/serverprofile.h>

#include <QtTest>

using namespace Latchkey;

class TestProfile : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void builtinLatchkeyIsValid()
    {
        QString error;
        const ServerProfile p = ServerProfile::builtin(QStringLiteral("latchkey"), &error);
        QVERIFY2(p.isValid(), qPrintable(error));
        QCOMPARE(p.name(), QStringLiteral("latchkey"));
        QCOMPARE(p.login().path, QStringLiteral("/api/auth/login"));
        QCOMPARE(p.login().fields.value(QStringLiteral("identity")), QStringLiteral("email"));
        QCOMPARE(p.refresh().send.in, ServerProfile::Carrier::Body);
        QCOMPARE(p.refresh().send.name, QStringLiteral("refresh_token"));
        QCOMPARE(p.refreshTokenLocation().pointer, QStringLiteral("/refresh_token"));
        QVERIFY(p.logout().bearer);
        QVERIFY(ServerProfile::builtinNames().contains(QStringLiteral("latchkey")));
    }

    void errorsNameTheKey_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("expected");
        const QByteArray tokens
            = R"("tokens":{"access":"/a","refresh":{"in":"body","pointer":"/r"}})";
        const QByteArray refresh = R"("refresh":{"path":"/r","send":{"in":"body","name":"r"}})";
        QTest::newRow("not json") << QByteArray("{nope") << QStringLiteral("not valid JSON");
        QTest::newRow("no login") << QByteArray("{\"name\":\"x\"," + refresh + "," + tokens + "}")
                                  << QStringLiteral("\"login\": expected an object");
        QTest::newRow("bad encoding") << QByteArray(
            R"({"name":"x","login":{"path":"/l","encoding":"xml"},)" + refresh + "," + tokens
            + "}") << QStringLiteral("\"login.encoding\": expected \"json\" or \"form\"");
        QTest::newRow("bad send.in") << QByteArray(
            R"({"name":"x","login":{"path":"/l"},"refresh":{"path":"/r","send":{"in":"pigeon"}},)"
            + tokens + "}") << QStringLiteral("\"refresh.send.in\"");
        QTest::newRow("access not a pointer") << QByteArray(R"({"name":"x","login":{"path":"/l"},)"
            + refresh
            + R"(,"tokens":{"access":"access_token","refresh":{"in":"cookie","name":"rt"}}})")
                                              << QStringLiteral(
                                                     "\"tokens.access\": expected a JSON Pointer");
        QTest::newRow("path without slash")
            << QByteArray(
                   R"({"name":"x","login":{"path":"api/login"},)" + refresh + "," + tokens + "}")
            << QStringLiteral("\"login.path\": expected a path starting with \"/\"");
    }

    void errorsNameTheKey()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, expected);
        QString error;
        const ServerProfile p = ServerProfile::fromJson(json, &error);
        QVERIFY(!p.isValid());
        QVERIFY2(error.contains(expected), qPrintable(error));
    }

    void unknownBuiltinListsTheBuiltins()
    {
        QString error;
        QVERIFY(!ServerProfile::builtin(QStringLiteral("nope"), &error).isValid());
        QVERIFY2(error.contains(QStringLiteral("latchkey")), qPrintable(error));
        QVERIFY(!ServerProfile::load(QStringLiteral("/no/such/profile.json"), &error).isValid());
        QVERIFY2(error.contains(QStringLiteral("neither")), qPrintable(error));
    }

    void defaultsApply()
    {
        QString error;
        const ServerProfile p = ServerProfile::fromJson(
            R"({"name":"min","login":{"path":"/login"},"refresh":{"path":"/refresh","encoding":"form","send":{"in":"cookie","name":"rt"}},"tokens":{"access":"/data/token","refresh":{"in":"cookie","name":"rt"}}})",
            &error);
        QVERIFY2(p.isValid(), qPrintable(error));
        QCOMPARE(p.login().encoding, ServerProfile::Encoding::Json);
        QCOMPARE(p.refresh().encoding, ServerProfile::Encoding::Form);
        QCOMPARE(p.login().fields.value(QStringLiteral("password")), QStringLiteral("password"));
        QVERIFY(p.logout().path.isEmpty());
        QVERIFY(p.errorMessagePointers().contains(QStringLiteral("/message")));
        QCOMPARE(p.requirementsPointer(), QStringLiteral("/requirements"));
    }

    void authErrorSaysWhatHappened()
    {
        AuthError e(AuthError::Kind::RateLimited, QStringLiteral("Too many attempts"), 429);
        e.setRetryAfter(30);
        QCOMPARE(e.kind(), AuthError::Kind::RateLimited);
        QVERIFY(e.isError());
        QCOMPARE(e.toString(),
            QStringLiteral("RateLimited: Too many attempts (HTTP 429), retry after 30 s"));
        const AuthError copy = e;
        QCOMPARE(copy.retryAfter(), 30);
        QVERIFY(!AuthError().isError());
        QCOMPARE(AuthError().retryAfter(), -1);
    }
};

QTEST_GUILESS_MAIN(TestProfile)
#include "tst_profile.moc"
