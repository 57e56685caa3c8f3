#include <latchkey/autherror.h>
#include <latchkey/serverprofile.h>

// The parser's result, read the way the SDK reads it (inline, from the private header).
#include "serverprofile_p.h"

#include <QDir>
#include <QJsonDocument>
#include <QRegularExpression>
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
        QVERIFY(p.errorString().isEmpty());
        QVERIFY(p.hasPasswordSignIn());
        QVERIFY(!p.isOpenIdConnect());
        const ServerProfileData &wire = ServerProfilePrivate::of(p);
        QCOMPARE(wire.login.path, QStringLiteral("/api/auth/login"));
        QCOMPARE(wire.login.fields.value(QStringLiteral("identity")), QStringLiteral("email"));
        QCOMPARE(wire.refresh.send.in, Profile::Carrier::Body);
        QCOMPARE(wire.refresh.send.name, QStringLiteral("refresh_token"));
        QCOMPARE(wire.refreshTokenLocation.pointer, QStringLiteral("/refresh_token"));
        QVERIFY(wire.logout.bearer);
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
        const auto rejectedWhen = [&](const QByteArray &rules) {
            return QByteArray(R"({"name":"x","login":{"path":"/l"},"refresh":{"path":"/r",)"
                              R"("send":{"in":"body","name":"r"},"rejectedWhen":)"
                + rules + "}," + tokens + "}");
        };
        QTest::newRow("rejectedWhen not a list")
            << rejectedWhen(R"({"status":[401]})")
            << QStringLiteral("\"refresh.rejectedWhen\": expected a non-empty list of rules");
        QTest::newRow("rejectedWhen empty")
            << rejectedWhen("[]") << QStringLiteral("\"refresh.rejectedWhen\"");
        QTest::newRow("rejectedWhen rule not an object")
            << rejectedWhen("[401]") << QStringLiteral("\"refresh.rejectedWhen[0]\": expected");
        QTest::newRow("rejectedWhen status missing")
            << rejectedWhen(R"([{"pointer":"/error","values":["invalid_grant"]}])")
            << QStringLiteral("\"refresh.rejectedWhen[0].status\": expected an HTTP status "
                              "from 400 to 499");
        QTest::newRow("rejectedWhen status 500")
            << rejectedWhen(R"([{"status":401},{"status":[400,500]}])")
            << QStringLiteral("\"refresh.rejectedWhen[1].status\"");
        QTest::newRow("rejectedWhen status a string") << rejectedWhen(
            R"([{"status":"401"}])") << QStringLiteral("\"refresh.rejectedWhen[0].status\"");
        QTest::newRow("rejectedWhen values without pointer")
            << rejectedWhen(R"([{"status":400,"values":["invalid_grant"]}])")
            << QStringLiteral("\"refresh.rejectedWhen[0].values\": expected a \"pointer\"");
        QTest::newRow("rejectedWhen pointer without values")
            << rejectedWhen(R"([{"status":400,"pointer":"/error"}])")
            << QStringLiteral("\"refresh.rejectedWhen[0].values\": expected a string or a "
                              "number");
        QTest::newRow("rejectedWhen value an object")
            << rejectedWhen(R"([{"status":400,"pointer":"/error","values":[{"a":1}]}])")
            << QStringLiteral("\"refresh.rejectedWhen[0].values\"");
        QTest::newRow("rejectedWhen pointer not a pointer")
            << rejectedWhen(R"([{"status":400,"pointer":"error","values":["x"]}])")
            << QStringLiteral("\"refresh.rejectedWhen[0].pointer\": expected a JSON Pointer");
        QTest::newRow("unknown key, a typo") << QByteArray(
            R"({"name":"x","logn":{"path":"/l"},"login":{"path":"/l"},)" + refresh + "," + tokens
            + "}") << QStringLiteral("\"logn\": unknown (did you mean \"login\"?)");
        QTest::newRow("unknown nested key") << QByteArray(R"({"name":"x","login":{"path":"/l"},)"
            + refresh
            + R"(,"tokens":{"acess":"/a","access":"/a","refresh":{"in":"body","pointer":"/r"}}})")
                                            << QStringLiteral("\"tokens.acess\": unknown (did you "
                                                              "mean \"tokens.access\"?)");
        QTest::newRow("unknown key, nothing close") << QByteArray(
            R"({"name":"x","login":{"path":"/l","zzzzzzzz":1},)" + refresh + "," + tokens
            + "}") << QStringLiteral("\"login.zzzzzzzz\": unknown (known here: path, encoding");
        QTest::newRow("unknown oidc key")
            << QByteArray(R"({"name":"x","oidc":{"clientID":"a"}})")
            << QStringLiteral("\"oidc.clientID\": unknown (did you mean \"oidc.clientId\"?)");
        QTest::newRow("newer format version") << QByteArray(
            R"({"name":"x","version":2,"login":{"path":"/l"},)" + refresh + "," + tokens + "}")
                                              << QStringLiteral("\"version\": expected 1");
        QTest::newRow("rejectedWhen unknown key")
            << rejectedWhen(R"([{"status":400,"pointer":"/error","value":"invalid_grant"}])")
            << QStringLiteral("\"refresh.rejectedWhen[0].value\": expected \"status\", \"pointer\" "
                              "or \"values\"");
    }

    void errorsNameTheKey()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, expected);
        QString error;
        const ServerProfile p = ServerProfile::fromJson(json, &error);
        QVERIFY(!p.isValid());
        QVERIFY2(error.contains(expected), qPrintable(error));
        QCOMPARE(p.errorString(), error);
    }

    // The profile keeps why its parse failed, also when nobody passed an error argument, and
    // a copy keeps it too; a valid profile has none.
    void invalidProfileSaysWhy()
    {
        const ServerProfile broken = ServerProfile::fromJson(R"({"name":"x","logn":{}})");
        QVERIFY(!broken.isValid());
        QVERIFY2(broken.errorString().contains(QStringLiteral("\"logn\": unknown")),
            qPrintable(broken.errorString()));
        const ServerProfile copy = broken;
        QCOMPARE(copy.errorString(), broken.errorString());
        QVERIFY(ServerProfile::fromJson("[1]").errorString().contains(
            QStringLiteral("expected a JSON object")));
        QVERIFY(ServerProfile::fromFile(QStringLiteral("/no/such/profile.json"))
                    .errorString()
                    .contains(QStringLiteral("cannot read profile")));
        QVERIFY(ServerProfile::builtin(QStringLiteral("nope"))
                    .errorString()
                    .contains(QStringLiteral("latchkey")));
        QVERIFY(ServerProfile::builtin(QStringLiteral("latchkey")).errorString().isEmpty());
        QVERIFY(ServerProfile().errorString().isEmpty());
    }

    // Which sign-ins a profile offers, as an app decides what to show: a password form for a
    // "login" endpoint, the browser and device flows for an "oidc" key.
    void profileSaysWhichSignInsItOffers()
    {
        const ServerProfile password = ServerProfile::builtin(QStringLiteral("latchkey"));
        QVERIFY(password.hasPasswordSignIn());
        QVERIFY(!password.isOpenIdConnect());
        const ServerProfile oidc = ServerProfile::openIdConnect(
            QUrl(QStringLiteral("https://sso.example.com")), QStringLiteral("app"));
        QVERIFY2(oidc.isValid(), qPrintable(oidc.errorString()));
        QVERIFY(oidc.isOpenIdConnect());
        QVERIFY(!oidc.hasPasswordSignIn());
        QVERIFY(!ServerProfile().hasPasswordSignIn());
    }

    // An application's own API answers errors the way the server's auth endpoints do: the
    // message is read where the profile's errors.message says, else at the default pointers.
    void errorMessageReadWhereTheProfileSays()
    {
        const ServerProfile builtin = ServerProfile::builtin(QStringLiteral("latchkey"));
        QCOMPARE(builtin.errorMessage(R"({"error":"e","message":"m"})"), QStringLiteral("m"));
        QCOMPARE(builtin.errorMessage(R"({"error":"e","detail":"d"})"), QStringLiteral("d"));
        QCOMPARE(builtin.errorMessage(R"({"error":"e"})"), QStringLiteral("e"));
        QVERIFY(builtin.errorMessage("<html>Bad Gateway</html>").isEmpty());
        QString error;
        const ServerProfile own = ServerProfile::fromJson(
            R"({"name":"own","login":{"path":"/l"},"tokens":{"access":"/a"},
                "errors":{"message":["/errors/0/title","/reason"]}})",
            &error);
        QVERIFY2(own.isValid(), qPrintable(error));
        QCOMPARE(own.errorMessage(R"({"errors":[{"title":"Room taken"}],"message":"m"})"),
            QStringLiteral("Room taken"));
        QCOMPARE(
            own.errorMessage(R"({"reason":"Closed","message":"m"})"), QStringLiteral("Closed"));
        QVERIFY(own.errorMessage(R"({"message":"m"})").isEmpty());
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
        const ServerProfileData &wire = ServerProfilePrivate::of(p);
        QCOMPARE(wire.login.encoding, Profile::Encoding::Json);
        QCOMPARE(wire.refresh.encoding, Profile::Encoding::Form);
        QCOMPARE(wire.login.fields.value(QStringLiteral("password")), QStringLiteral("password"));
        QVERIFY(wire.logout.path.isEmpty());
        QVERIFY(wire.errorMessagePointers.contains(QStringLiteral("/message")));
        QCOMPARE(wire.requirementsPointer, QStringLiteral("/requirements"));
    }

    // refresh.rejectedWhen: by default 401, or 400/403 with "error": "invalid_grant"; a
    // profile's own rules replace that, a single status or value standing for a list of one.
    void refreshRejectionRulesReadAsWritten()
    {
        QString error;
        const ServerProfile builtin = ServerProfile::builtin(QStringLiteral("oauth2"), &error);
        QVERIFY2(builtin.isValid(), qPrintable(error));
        const QList<Profile::RejectionRule> defaults
            = ServerProfilePrivate::of(builtin).refreshRejectedWhen;
        QCOMPARE(defaults.size(), 2);
        QCOMPARE(defaults.at(0).statuses, QList<int>({ 401 }));
        QVERIFY(defaults.at(0).pointer.isEmpty());
        QCOMPARE(defaults.at(1).statuses, QList<int>({ 400, 403 }));
        QCOMPARE(defaults.at(1).pointer, QStringLiteral("/error"));
        QCOMPARE(defaults.at(1).values,
            QList<QJsonValue>({ QJsonValue(QStringLiteral("invalid_grant")) }));

        const ServerProfile own = ServerProfile::fromJson(
            R"({"name":"own","login":{"path":"/l"},
                "refresh":{"path":"/r","send":{"in":"body","name":"r"},
                           "rejectedWhen":[{"status":[400,422],"pointer":"/error/message",
                                            "values":["TOKEN_EXPIRED",4011]},
                                           {"status":410}]},
                "tokens":{"access":"/a","refresh":{"in":"body","pointer":"/r"}}})",
            &error);
        QVERIFY2(own.isValid(), qPrintable(error));
        const QList<Profile::RejectionRule> rules
            = ServerProfilePrivate::of(own).refreshRejectedWhen;
        QCOMPARE(rules.size(), 2);
        QCOMPARE(rules.at(0).statuses, QList<int>({ 400, 422 }));
        QCOMPARE(rules.at(0).pointer, QStringLiteral("/error/message"));
        QCOMPARE(rules.at(0).values,
            QList<QJsonValue>({ QJsonValue(QStringLiteral("TOKEN_EXPIRED")), QJsonValue(4011) }));
        QCOMPARE(rules.at(1).statuses, QList<int>({ 410 }));
        QVERIFY(rules.at(1).values.isEmpty());
    }

    // The profiles the docs show are accepted as shown. Which json blocks are profiles, the
    // rule tests/schema/check-schema.py applies too: a ```json block of docs/*.md that is on its
    // own a JSON object with a top-level "name"; "<client id>"-style placeholders inside
    // strings are replaced by "placeholder" first (they stand for the reader's own values).
    void docExamplesAreAccepted()
    {
        const QRegularExpression fence(QStringLiteral("^```json[ \\t]*\\n(.*?)^```"),
            QRegularExpression::MultilineOption | QRegularExpression::DotMatchesEverythingOption);
        const QRegularExpression placeholder(QStringLiteral("<[^<>\"\\n]*>"));
        const QDir docs(QStringLiteral(LATCHKEY_DOCS_DIR));
        int profiles = 0;
        for (const QString &name : docs.entryList({ QStringLiteral("*.md") }, QDir::Files)) {
            QFile file(docs.filePath(name));
            QVERIFY(file.open(QIODevice::ReadOnly));
            const QString text = QString::fromUtf8(file.readAll());
            for (const QRegularExpressionMatch &m : fence.globalMatch(text)) {
                QString block = m.captured(1);
                block.replace(placeholder, QStringLiteral("placeholder"));
                QJsonParseError parseError;
                const QJsonDocument doc = QJsonDocument::fromJson(block.toUtf8(), &parseError);
                if (parseError.error != QJsonParseError::NoError || !doc.isObject()
                    || !doc.object().contains(QLatin1String("name")))
                    continue; // a fragment
                ++profiles;
                const QString where = QStringLiteral("%1:%2").arg(name).arg(
                    text.left(m.capturedStart()).count(QLatin1Char('\n')) + 1);
                QString error;
                QVERIFY2(ServerProfile::fromJson(doc.toJson(), &error).isValid(),
                    qPrintable(where + QStringLiteral(": ") + error));
            }
        }
        QVERIFY2(profiles >= 5, qPrintable(QString::number(profiles)));
    }

    // "$schema" lets an editor validate a profile against docs/profile.schema.json.
    void schemaKeyIsAccepted()
    {
        QString error;
        const ServerProfile p = ServerProfile::fromJson(
            R"({"$schema":"../docs/profile.schema.json","name":"x","version":1,
                "login":{"path":"/l"},"tokens":{"access":"/a"}})",
            &error);
        QVERIFY2(p.isValid(), qPrintable(error));
    }

    void authErrorsCompareByEveryDetail()
    {
        const AuthError a
            = AuthError(AuthError::Kind::RateLimited, QStringLiteral("slow down"), 429)
                  .setRetryAfter(30);
        AuthError b = AuthError(AuthError::Kind::RateLimited, QStringLiteral("slow down"), 429);
        QVERIFY(a != b); // the wait differs
        b.setRetryAfter(30);
        QVERIFY(a == b);
        QVERIFY(AuthError() == AuthError());
        QVERIFY(a != AuthError());
        AuthError c = a;
        c.setAttemptsLeft(2);
        QVERIFY(c != a);
        c = a;
        c.setNetworkError(QNetworkReply::TimeoutError);
        QVERIFY(c != a);
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
