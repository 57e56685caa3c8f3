#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/memorytokenstore.h>

#include "rawhttpserver.h"
#include "scriptedserver.h"
#include "testhelpers.h"

#include <QtTest>

#include <functional>
#include <memory>

using namespace Latchkey;
using namespace LatchkeyTest;
using namespace std::chrono_literals;

// What a refresh answer means for the session: a transport failure after the headers is a
// network blip (retried), only a real rejection ends the session, anything else keeps it.
// The servers below speak the paths of the built-in "latchkey" profile.

namespace {

const QString ada = QStringLiteral("ada@example.com");
const QString loginPath = QStringLiteral("/api/auth/login");
const QString refreshPath = QStringLiteral("/api/auth/refresh");
const QString bookingsPath = QStringLiteral("/api/bookings");
const QByteArray signedInBody = R"({"access_token":"at1","refresh_token":"rt1","expires_in":3600})";
const QByteArray refreshedBody
    = R"({"access_token":"at2","refresh_token":"rt2","expires_in":3600})";

// Signs in as at1/rt1; /api/bookings accepts only at2, so the first request meets a 401 and
// refreshes. The refresh endpoint answers `failure` while it is set, then at2/rt2.
class RefreshServer
{
public:
    std::function<QHttpServerResponse()> failure;
    ScriptedServer server;

    RefreshServer()
    {
        server.on(loginPath,
            [](const QHttpServerRequest &) { return ScriptedServer::json(signedInBody); });
        server.on(refreshPath, [this](const QHttpServerRequest &) {
            return failure ? failure() : ScriptedServer::json(refreshedBody);
        });
        server.on(bookingsPath, [](const QHttpServerRequest &request) {
            const bool ok = request.value(QByteArrayLiteral("Authorization")) == "Bearer at2";
            return ScriptedServer::json(
                ok ? R"({"bookings":[]})" : R"({"message":"expired"})", ok ? 200 : 401);
        });
    }
};

std::unique_ptr<AuthClient> makeClient(const ServerProfile &profile, const QUrl &baseUrl)
{
    auto client = std::make_unique<AuthClient>(profile, baseUrl);
    client->setTokenStore(new MemoryTokenStore);
    client->setRefreshRetry(3, 1ms); // a retry, if any, follows at once
    return client;
}

ServerProfile latchkeyProfile()
{
    return ServerProfile::builtin(QStringLiteral("latchkey"));
}

} // namespace

class TestRefresh : public QObject
{
    Q_OBJECT

    // Signs in, GETs the bookings (401 → refresh answered `failure`) and checks the refresh
    // failed with `kind` and was not retried, the session kept; then heals the refresh
    // endpoint and checks the next request refreshes and succeeds.
    void expectSessionKept(RefreshServer &fixture, const ServerProfile &profile,
        AuthError::Kind kind, int status, const QString &message)
    {
        QVERIFY(fixture.server.listen());
        auto client = makeClient(profile, fixture.server.baseUrl());
        QVERIFY(!await(client->signIn(ada, QStringLiteral("pw"))).isError());
        QSignalSpy expired(client.get(), &AuthClient::sessionExpired);
        QSignalSpy failed(client.get(), &AuthClient::refreshFailed);

        QNetworkReply *reply = client->networkAccessManager()->get(
            QNetworkRequest(fixture.server.url(bookingsPath)));
        QVERIFY(awaitAll({ reply }));
        const AuthError error = AuthorizedNetworkAccessManager::authError(reply);
        QCOMPARE(error.kind(), kind);
        QCOMPARE(error.httpStatus(), status);
        if (!message.isEmpty())
            QVERIFY2(error.message().contains(message), qPrintable(error.toString()));
        QVERIFY(reply->error() != QNetworkReply::NoError);
        delete reply;
        // Not retried at once: the same answer would come back.
        QCOMPARE(fixture.server.count(refreshPath), 1);
        QCOMPARE(failed.size(), 1);
        QCOMPARE(expired.size(), 0);
        QCOMPARE(client->state(), AuthClient::State::SignedIn);
        QVERIFY(!await(client->flush()).isError());
        QCOMPARE(storedRefreshToken(client.get(), ada), QByteArray("rt1"));

        fixture.failure = nullptr; // the proxy lets it through again
        reply = client->networkAccessManager()->get(
            QNetworkRequest(fixture.server.url(bookingsPath)));
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(httpStatus(reply), 200);
        delete reply;
        QCOMPARE(fixture.server.count(refreshPath), 2);
        QVERIFY(!await(client->flush()).isError());
        QCOMPARE(storedRefreshToken(client.get(), ada), QByteArray("rt2"));
    }

    // Signs in, GETs the bookings (401 → refresh answered `failure`) and checks the session
    // ended: SessionExpired for the request, sessionExpired once, the store wiped, no retry.
    void expectSessionEnded(RefreshServer &fixture, const ServerProfile &profile, int status)
    {
        QVERIFY(fixture.server.listen());
        auto client = makeClient(profile, fixture.server.baseUrl());
        QVERIFY(!await(client->signIn(ada, QStringLiteral("pw"))).isError());
        QVERIFY(!await(client->flush()).isError());
        QCOMPARE(storedRefreshToken(client.get(), ada), QByteArray("rt1"));
        QSignalSpy expired(client.get(), &AuthClient::sessionExpired);

        QNetworkReply *reply = client->networkAccessManager()->get(
            QNetworkRequest(fixture.server.url(bookingsPath)));
        QVERIFY(awaitAll({ reply }));
        const AuthError error = AuthorizedNetworkAccessManager::authError(reply);
        QCOMPARE(error.kind(), AuthError::Kind::SessionExpired);
        QCOMPARE(error.httpStatus(), status);
        QCOMPARE(reply->error(), QNetworkReply::AuthenticationRequiredError);
        delete reply;
        QCOMPARE(fixture.server.count(refreshPath), 1);
        QCOMPARE(expired.size(), 1);
        QCOMPARE(client->state(), AuthClient::State::SignedOut);
        QVERIFY(!await(client->flush()).isError());
        QVERIFY(storedRefreshToken(client.get(), ada).isEmpty());
    }

private Q_SLOTS:
    // A 200 whose body stops before its Content-Length (the connection closed): Qt keeps the
    // status 200 and says RemoteHostClosedError. That is the network failing, not the server
    // speaking another language: retried like any blip, and the second attempt's tokens serve
    // the request.
    void truncatedAnswerIsANetworkFailureAndRetried()
    {
        RawHttpServer server;
        server.on(loginPath, [](const RawHttpServer::Request &) {
            return RawHttpServer::answer(200, signedInBody);
        });
        server.on(refreshPath, [&server](const RawHttpServer::Request &) {
            if (server.count(refreshPath) == 1)
                return RawHttpServer::cutShort(200, "{\"acc", 100);
            return RawHttpServer::answer(200, refreshedBody);
        });
        server.on(bookingsPath, [](const RawHttpServer::Request &request) {
            const bool ok = request.authorization == "Bearer at2";
            return RawHttpServer::answer(
                ok ? 200 : 401, ok ? R"({"bookings":[]})" : R"({"message":"expired"})");
        });
        QVERIFY(server.listen());
        auto client = makeClient(latchkeyProfile(), server.baseUrl());
        QVERIFY(!await(client->signIn(ada, QStringLiteral("pw"))).isError());
        QSignalSpy retrying(client.get(), &AuthClient::refreshRetrying);
        QSignalSpy expired(client.get(), &AuthClient::sessionExpired);

        QNetworkReply *reply
            = client->networkAccessManager()->get(QNetworkRequest(server.url(bookingsPath)));
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(httpStatus(reply), 200);
        QCOMPARE(reply->readAll(), QByteArray(R"({"bookings":[]})"));
        delete reply;

        QCOMPARE(server.count(refreshPath), 2);
        QCOMPARE(retrying.size(), 1);
        const auto error = retrying.at(0).at(0).value<AuthError>();
        QCOMPARE(error.kind(), AuthError::Kind::Network);
        QCOMPARE(error.networkError(), QNetworkReply::RemoteHostClosedError);
        QCOMPARE(expired.size(), 0);
        QCOMPARE(client->state(), AuthClient::State::SignedIn);
        QVERIFY(!await(client->flush()).isError());
        QCOMPARE(storedRefreshToken(client.get(), ada), QByteArray("rt2"));
    }

    // A proxy or WAF in front of the server answers the refresh with its own HTML 403 page.
    // Nothing says the refresh token is dead: a Server error, the session kept. Not retried at
    // once (a WAF rule does not change in a second); the next request tries again.
    void htmlForbiddenFromAProxyKeepsTheSession()
    {
        RefreshServer fixture;
        fixture.failure = [] {
            return QHttpServerResponse(QByteArrayLiteral("text/html"),
                QByteArrayLiteral(
                    "<html><body><h1>403 Forbidden</h1>Request blocked.</body></html>"),
                QHttpServerResponse::StatusCode::Forbidden);
        };
        expectSessionKept(
            fixture, latchkeyProfile(), AuthError::Kind::Server, 403, QStringLiteral("HTTP 403"));
    }

    // A JSON 403 (or 400) whose error names something other than a dead grant: the session is
    // kept, and the server's own message is what the caller sees.
    void jsonForbiddenNamingAnotherErrorKeepsTheSession_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("message");
        QTest::newRow("403 access_denied")
            << 403
            << QByteArray(R"({"error":"access_denied","error_description":"Blocked by policy"})")
            << QStringLiteral("Blocked by policy");
        QTest::newRow("400 invalid_request")
            << 400 << QByteArray(R"({"error":"invalid_request","message":"missing header"})")
            << QStringLiteral("missing header");
        QTest::newRow("403 without an error field")
            << 403 << QByteArray(R"({"message":"Forbidden by the gateway"})")
            << QStringLiteral("Forbidden by the gateway");
    }
    void jsonForbiddenNamingAnotherErrorKeepsTheSession()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(QString, message);
        RefreshServer fixture;
        fixture.failure = [=] { return ScriptedServer::json(body, status); };
        expectSessionKept(fixture, latchkeyProfile(), AuthError::Kind::Server, status, message);
    }

    // RFC 6749 §5.2: a dead refresh token is 400 {"error": "invalid_grant"} (some servers
    // send it with 403). That ends the session, and the store forgets the token.
    void invalidGrantEndsTheSession_data()
    {
        QTest::addColumn<int>("status");
        QTest::newRow("400") << 400;
        QTest::newRow("403") << 403;
    }
    void invalidGrantEndsTheSession()
    {
        QFETCH(int, status);
        RefreshServer fixture;
        fixture.failure = [=] {
            return ScriptedServer::json(
                R"({"error":"invalid_grant","error_description":"Token revoked"})", status);
        };
        expectSessionEnded(fixture, latchkeyProfile(), status);
    }

    // A 401 from the refresh endpoint ends the session whatever its body says.
    void unauthorizedEndsTheSession_data()
    {
        QTest::addColumn<QByteArray>("contentType");
        QTest::addColumn<QByteArray>("body");
        QTest::newRow("json") << QByteArray("application/json")
                              << QByteArray(R"({"message":"Invalid or expired refresh token."})");
        QTest::newRow("no json") << QByteArray("text/plain") << QByteArray("Unauthorized");
    }
    void unauthorizedEndsTheSession()
    {
        QFETCH(QByteArray, contentType);
        QFETCH(QByteArray, body);
        RefreshServer fixture;
        fixture.failure = [=] {
            return QHttpServerResponse(
                contentType, body, QHttpServerResponse::StatusCode::Unauthorized);
        };
        expectSessionEnded(fixture, latchkeyProfile(), 401);
    }

    // A profile names how its server says "dead refresh token" (refresh.rejectedWhen): here a
    // Firebase-like 400 {"error": {"message": "TOKEN_EXPIRED"}} and a 422 with a numeric code.
    // Those end the session; the same statuses naming anything else keep it.
    void profileRejectionCodeEndsTheSession_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<bool>("ends");
        QTest::newRow("400 TOKEN_EXPIRED")
            << 400 << QByteArray(R"({"error":{"code":400,"message":"TOKEN_EXPIRED"}})") << true;
        QTest::newRow("400 USER_DISABLED")
            << 400 << QByteArray(R"({"error":{"code":400,"message":"USER_DISABLED"}})") << true;
        QTest::newRow("422 code 4011") << 422 << QByteArray(R"({"code":4011})") << true;
        QTest::newRow("400 another message")
            << 400 << QByteArray(R"({"error":{"code":400,"message":"QUOTA_EXCEEDED"}})") << false;
        QTest::newRow("422 another code") << 422 << QByteArray(R"({"code":4012})") << false;
        QTest::newRow("400 invalid_grant is not this server's word")
            << 400 << QByteArray(R"({"error":"invalid_grant"})") << false;
    }
    void profileRejectionCodeEndsTheSession()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(bool, ends);
        QString error;
        const ServerProfile profile = ServerProfile::fromJson(R"({
          "name": "own-codes",
          "login":   { "path": "/api/auth/login" },
          "refresh": { "path": "/api/auth/refresh", "send": { "in": "body", "name": "refresh_token" },
                       "rejectedWhen": [
                         { "status": 401 },
                         { "status": 400, "pointer": "/error/message",
                           "values": ["TOKEN_EXPIRED", "USER_DISABLED", "INVALID_REFRESH_TOKEN"] },
                         { "status": [422], "pointer": "/code", "values": 4011 }
                       ] },
          "tokens":  { "access": "/access_token",
                       "refresh": { "in": "body", "pointer": "/refresh_token" },
                       "expiresIn": "/expires_in" }
        })",
            &error);
        QVERIFY2(profile.isValid(), qPrintable(error));
        RefreshServer fixture;
        fixture.failure = [=] { return ScriptedServer::json(body, status); };
        if (ends)
            expectSessionEnded(fixture, profile, status);
        else
            expectSessionKept(fixture, profile, AuthError::Kind::Server, status, QString());
    }
};

QTEST_GUILESS_MAIN(TestRefresh)
#include "tst_refresh.moc"
