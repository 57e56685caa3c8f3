#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/memorytokenstore.h>

#include "scriptedserver.h"
#include "testhelpers.h"

#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QtTest>

using namespace Latchkey;
using namespace LatchkeyTest;

namespace {
QStringList g_log;

void capture(QtMsgType, const QMessageLogContext &context, const QString &message)
{
    g_log << QString::fromLatin1(context.category ? context.category : "default") + QLatin1Char(' ')
            + message;
}

QByteArray secret(const char *prefix)
{
    return QByteArray(prefix) + QByteArray::number(QRandomGenerator::system()->generate64(), 36);
}

// Cookie-delivered refresh token, as InnHotel and the schedule manager do it.
const QByteArray cookieProfile = R"({
  "name": "cookie-test",
  "login":   { "path": "/api/auth/login", "fields": { "identity": "email", "password": "password" } },
  "refresh": { "path": "/api/auth/refresh", "send": { "in": "cookie", "name": "refresh_token" } },
  "logout":  { "path": "/api/auth/logout", "bearer": true, "send": { "in": "cookie", "name": "refresh_token" } },
  "tokens":  { "access": "/access_token", "refresh": { "in": "cookie", "name": "refresh_token" },
               "expiresIn": "/expires_in", "user": "/user" }
})";
} // namespace

// Invariant 3: with every latchkey.* category on, no token, password or cookie value is logged.
class TestLogging : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void noSecretInTheLogs()
    {
        const QByteArray access1 = secret("acc1-"), access2 = secret("acc2-");
        const QByteArray refresh1 = secret("ref1-"), refresh2 = secret("ref2-");
        const QByteArray password = secret("pw-");
        ScriptedServer server;
        auto tokens = [](const QByteArray &access, const QByteArray &refresh) {
            QHttpServerResponse response = ScriptedServer::json("{\"access_token\":\"" + access
                + "\",\"expires_in\":900,\"user\":{\"email\":\"x@y.test\"}}");
            response.addHeader(QByteArrayLiteral("Set-Cookie"),
                "refresh_token=" + refresh + "; HttpOnly; SameSite=Strict; Path=/api/auth");
            return response;
        };
        server.on(QStringLiteral("/api/auth/login"),
            [&](const QHttpServerRequest &) { return tokens(access1, refresh1); });
        server.on(QStringLiteral("/api/auth/refresh"),
            [&](const QHttpServerRequest &) { return tokens(access2, refresh2); });
        server.on(QStringLiteral("/api/auth/logout"), [](const QHttpServerRequest &) {
            return QHttpServerResponse(QHttpServerResponse::StatusCode::NoContent);
        });
        server.on(QStringLiteral("/api/data"), [&](const QHttpServerRequest &request) {
            const bool fresh
                = request.value(QByteArrayLiteral("Authorization")) == "Bearer " + access2;
            return ScriptedServer::json("{}", fresh ? 200 : 401);
        });
        QVERIFY(server.listen());

        QString error;
        const ServerProfile profile = ServerProfile::fromJson(cookieProfile, &error);
        QVERIFY2(profile.isValid(), qPrintable(error));

        QLoggingCategory::setFilterRules(QStringLiteral("latchkey.*=true"));
        const QtMessageHandler previous = qInstallMessageHandler(capture);
        {
            AuthClient client(profile, server.baseUrl());
            client.setTokenStore(new MemoryTokenStore);
            const AuthError signInError
                = await(client.signIn(QStringLiteral("x@y.test"), QString::fromLatin1(password)));
            QNetworkReply *reply = client.networkAccessManager()->get(
                QNetworkRequest(server.url(QStringLiteral("/api/data"))));
            awaitAll({ reply });
            const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            delete reply;
            const AuthError signOutError = await(client.signOut());
            qInstallMessageHandler(previous);
            QVERIFY2(!signInError.isError(), qPrintable(signInError.toString()));
            QCOMPARE(status, 200); // login, 401, cookie refresh, replay: every path ran
            QVERIFY(!signOutError.isError());
        }
        qInstallMessageHandler(previous);
        QLoggingCategory::setFilterRules(QString());

        // The refresh cookie went back to the server, and to the logout.
        QCOMPARE(server.seen().at(2).path, QStringLiteral("/api/auth/refresh"));
        QCOMPARE(server.seen().at(2).cookie, "refresh_token=" + refresh1);

        const QString all = g_log.join(QLatin1Char('\n'));
        QVERIFY2(g_log.size() >= 8, qPrintable(all)); // the categories did speak
        QVERIFY(all.contains(QStringLiteral("latchkey.auth")));
        QVERIFY(all.contains(QStringLiteral("latchkey.net")));
        // On failure say which kind leaked, never the value (the test log is a file too).
        const QList<QPair<const char *, QByteArray>> secrets { { "access token", access1 },
            { "access token", access2 }, { "refresh token", refresh1 },
            { "refresh token", refresh2 }, { "password", password } };
        for (const auto &[what, value] : secrets)
            QVERIFY2(!all.contains(QString::fromLatin1(value)), what);
    }
};

QTEST_GUILESS_MAIN(TestLogging)
#include "tst_logging.moc"
