#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/memorytokenstore.h>

#include "scriptedserver.h"
#include "testhelpers.h"

#include <QtTest>

#include <limits>
#include <memory>

using namespace Latchkey;
using namespace LatchkeyTest;
using namespace std::chrono_literals;

// What a server's answer cannot do to the client, however it is written. Each case was found
// by the fuzz targets in tests/fuzz (scripts/fuzz.sh).

namespace {

constexpr int maxWait = std::numeric_limits<int>::max();
const QString ada = QStringLiteral("ada@example.com");
const QString loginPath = QStringLiteral("/api/auth/login");
const QString refreshPath = QStringLiteral("/api/auth/refresh");
const QString bookingsPath = QStringLiteral("/api/bookings");

std::unique_ptr<AuthClient> makeClient(const QString &profile, const QUrl &baseUrl)
{
    auto client = std::make_unique<AuthClient>(ServerProfile::builtin(profile), baseUrl);
    client->setTokenStore(new MemoryTokenStore);
    client->setRefreshRetry(1, 1ms);
    return client;
}

// A 429 sign-in answer with this Retry-After header (none if null) and body; the error's
// retryAfter() as the client reads it.
AuthError rateLimitedSignIn(const QByteArray &retryAfter, const QByteArray &body)
{
    ScriptedServer server;
    server.on(loginPath, [&](const QHttpServerRequest &) {
        QHttpServerResponse response = ScriptedServer::json(body, 429);
        if (!retryAfter.isNull())
            response.setHeader(QByteArrayLiteral("Retry-After"), retryAfter);
        return response;
    });
    if (!server.listen())
        return AuthError(AuthError::Kind::Network, QStringLiteral("cannot listen"));
    auto client = makeClient(QStringLiteral("latchkey"), server.baseUrl());
    return await(client->signIn(ada, QStringLiteral("pw")));
}

QByteArray httpDate(const QDateTime &utc, const QString &format)
{
    return QLocale::c().toString(utc, format).toLatin1();
}

} // namespace

class TestHostileAnswers : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    // Retry-After in seconds or in the JSON body, of any size: a wait from 0 to INT_MAX
    // seconds, never undefined behaviour (1e300 into an int), never a negative or wrapped one.
    void retryAfterOfAnySizeIsABoundedWait_data()
    {
        QTest::addColumn<QByteArray>("header");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("expected");
        const QByteArray none;
        QTest::newRow("header 30") << QByteArray("30") << QByteArray("{}") << 30;
        QTest::newRow("header -5") << QByteArray("-5") << QByteArray("{}") << 0;
        QTest::newRow("header 99999999999")
            << QByteArray("99999999999") << QByteArray("{}") << maxWait;
        QTest::newRow("header in year 9999")
            << QByteArray("Fri, 31 Dec 9999 23:59:59 GMT") << QByteArray("{}") << maxWait;
        QTest::newRow("body 30") << none << QByteArray(R"({"retry_after":30})") << 30;
        QTest::newRow("body -5") << none << QByteArray(R"({"retry_after":-5})") << 0;
        QTest::newRow("body 1e300") << none << QByteArray(R"({"retry_after":1e300})") << maxWait;
        QTest::newRow("body -1e300") << none << QByteArray(R"({"retry_after":-1e300})") << 0;
        QTest::newRow("body 99999999999")
            << none << QByteArray(R"({"retry_after":99999999999})") << maxWait;
        QTest::newRow("neither") << none << QByteArray("{}") << -1;
    }

    void retryAfterOfAnySizeIsABoundedWait()
    {
        QFETCH(QByteArray, header);
        QFETCH(QByteArray, body);
        QFETCH(int, expected);
        const AuthError error = rateLimitedSignIn(header, body);
        QCOMPARE(error.kind(), AuthError::Kind::RateLimited);
        QCOMPARE(error.retryAfter(), expected);
    }

    // An HTTP-date (RFC 9110 §5.6.7) is what servers send besides seconds: "Wed, 21 Oct 2037
    // 07:28:00 GMT", which Qt::RFC2822Date does not read. An hour ahead reads as about an hour
    // (the slack only covers the test's own run time); a date in the past as 0.
    void retryAfterAsAnHttpDateIsHonoured_data()
    {
        QTest::addColumn<QByteArray>("header");
        QTest::addColumn<int>("atLeast");
        QTest::addColumn<int>("atMost");
        const QDateTime inAnHour = QDateTime::currentDateTimeUtc().addSecs(3600);
        QTest::newRow("IMF-fixdate")
            << httpDate(inAnHour, QStringLiteral("ddd, dd MMM yyyy hh:mm:ss 'GMT'")) << 3300
            << 3600;
        QTest::newRow("asctime") << httpDate(inAnHour, QStringLiteral("ddd MMM d hh:mm:ss yyyy"))
                                 << 3300 << 3600;
        QTest::newRow("RFC 850") << httpDate(
            inAnHour, QStringLiteral("dddd, dd-MMM-yy hh:mm:ss 'GMT'"))
                                 << 3300 << 3600;
        QTest::newRow("IMF-fixdate in the past")
            << QByteArray("Wed, 21 Oct 2015 07:28:00 GMT") << 0 << 0;
        QTest::newRow("RFC 850 in the past")
            << QByteArray("Wednesday, 21-Oct-15 07:28:00 GMT") << 0 << 0;
    }

    void retryAfterAsAnHttpDateIsHonoured()
    {
        QFETCH(QByteArray, header);
        QFETCH(int, atLeast);
        QFETCH(int, atMost);
        const AuthError error = rateLimitedSignIn(header, "{}");
        QCOMPARE(error.kind(), AuthError::Kind::RateLimited);
        QVERIFY2(error.retryAfter() >= atLeast && error.retryAfter() <= atMost,
            qPrintable(QStringLiteral("Retry-After: %1 read as %2 s")
                           .arg(QString::fromLatin1(header))
                           .arg(error.retryAfter())));
    }

    // Qt 6.4 writes a header value as it is given: a token holding a CR or LF, sent back as a
    // bearer or a cookie, would end that header and start one of the server's choosing. Such
    // a sign-in answer is a Protocol error and signs nobody in.
    void tokenThatWouldSplitAHeaderIsRefused_data()
    {
        QTest::addColumn<QString>("profile");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("setCookie");
        QTest::newRow("access token with CR LF")
            << QStringLiteral("latchkey")
            << QByteArray(R"({"access_token":"at\r\nX-Injected: yes","refresh_token":"rt"})")
            << QByteArray();
        QTest::newRow("refresh token with LF")
            << QStringLiteral("latchkey")
            << QByteArray(R"({"access_token":"at","refresh_token":"rt\nX-Injected: yes"})")
            << QByteArray();
        QTest::newRow("refresh token with NUL")
            << QStringLiteral("latchkey")
            << QByteArray(R"({"access_token":"at","refresh_token":"rt\u0000"})") << QByteArray();
        QTest::newRow("cookie with a control character")
            << QStringLiteral("innhotel") << QByteArray(R"({"accessToken":"at"})")
            << QByteArray("refreshToken=rt\x01x; path=/; httponly");
    }

    void tokenThatWouldSplitAHeaderIsRefused()
    {
        QFETCH(QString, profile);
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, setCookie);
        ScriptedServer server;
        server.on(loginPath, [&](const QHttpServerRequest &) {
            QHttpServerResponse response = ScriptedServer::json(body);
            if (!setCookie.isEmpty())
                response.addHeader(QByteArrayLiteral("Set-Cookie"), setCookie);
            return response;
        });
        QVERIFY(server.listen());
        auto client = makeClient(profile, server.baseUrl());
        const AuthError error = await(client->signIn(ada, QStringLiteral("pw")));
        QCOMPARE(error.kind(), AuthError::Kind::Protocol);
        QVERIFY2(error.message().contains(QLatin1String("control characters")),
            qPrintable(error.toString()));
        QVERIFY(!error.message().contains(QLatin1String("X-Injected"))); // no value in a message
        QCOMPARE(client->state(), AuthClient::State::SignedOut);
    }

    // The same in a refresh answer: refused (Protocol, not retried), the session keeps the
    // tokens it had, and no request ever carries a header the server slipped in.
    void refreshedTokenThatWouldSplitAHeaderIsRefused()
    {
        ScriptedServer server;
        int injected = 0;
        server.on(loginPath, [](const QHttpServerRequest &) {
            return ScriptedServer::json(R"({"access_token":"at1","refresh_token":"rt1"})");
        });
        server.on(refreshPath, [](const QHttpServerRequest &) {
            return ScriptedServer::json(
                R"({"access_token":"at2\r\nX-Injected: yes","refresh_token":"rt2"})");
        });
        server.on(bookingsPath, [&](const QHttpServerRequest &request) {
            if (!request.value(QByteArrayLiteral("X-Injected")).isEmpty())
                ++injected;
            return ScriptedServer::json(R"({"message":"expired"})", 401);
        });
        QVERIFY(server.listen());
        auto client = makeClient(QStringLiteral("latchkey"), server.baseUrl());
        QVERIFY(!await(client->signIn(ada, QStringLiteral("pw"))).isError());

        QNetworkReply *reply
            = client->networkAccessManager()->get(QNetworkRequest(server.url(bookingsPath)));
        QVERIFY(awaitAll({ reply }));
        const AuthError error = AuthorizedNetworkAccessManager::authError(reply);
        delete reply;
        QCOMPARE(error.kind(), AuthError::Kind::Protocol);
        QCOMPARE(server.count(refreshPath), 1);
        QCOMPARE(injected, 0);
        QCOMPARE(client->state(), AuthClient::State::SignedIn);
        QVERIFY(!await(client->flush()).isError());
        QCOMPARE(storedRefreshToken(client.get(), ada), QByteArray("rt1"));
    }
};

QTEST_GUILESS_MAIN(TestHostileAnswers)
#include "tst_hostileanswers.moc"
