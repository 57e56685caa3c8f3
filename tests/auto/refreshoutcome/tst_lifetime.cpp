#include <latchkey/authclient.h>
#include <latchkey/memorytokenstore.h>

#include "manualclock.h"
#include "scriptedserver.h"
#include "testhelpers.h"

#include <QtTest>

using namespace Latchkey;
using namespace LatchkeyTest;

// The lifetime a server announces for an access token is bounded: at least 1 s, at most 10
// years of 365 days; what is no positive number (0, negative, NaN, text) is ignored, and the
// JWT's exp - iat or, failing that, 401s decide. Never undefined behaviour, never a lifetime
// that refreshes in a loop.

namespace {

constexpr qint64 minMs = 1000;
constexpr qint64 maxMs = qint64(10) * 365 * 24 * 60 * 60 * 1000;
constexpr qint64 unknown = -1;

// An unsigned JWT-shaped token with these claims (Latchkey reads, never verifies, them).
QByteArray jwt(const QByteArray &claims)
{
    const auto part = [](const QByteArray &json) {
        return json.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
    };
    return part(R"({"alg":"HS256","typ":"JWT"})") + '.' + part(claims) + ".c2ln";
}

QByteArray answer(const QByteArray &access, const QByteArray &expiresIn)
{
    QByteArray body = R"({"access_token":")" + access + R"(","refresh_token":"rt")";
    if (!expiresIn.isNull())
        body += R"(,"expires_in":)" + expiresIn;
    return body + '}';
}

} // namespace

class TestLifetime : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void absurdExpiresInIsClamped_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<qint64>("expectedMs");
        const QByteArray opaque("opaque-token");
        QTest::newRow("0.001") << answer(opaque, "0.001") << minMs;
        QTest::newRow("1e-300") << answer(opaque, "1e-300") << minMs;
        QTest::newRow("0") << answer(opaque, "0") << unknown;
        QTest::newRow("-5") << answer(opaque, "-5") << unknown;
        QTest::newRow("1e300") << answer(opaque, "1e300") << maxMs;
        QTest::newRow("\"1e300\"") << answer(opaque, "\"1e300\"") << maxMs;
        QTest::newRow("\"NaN\"") << answer(opaque, "\"NaN\"") << unknown;
        QTest::newRow("\"-inf\"") << answer(opaque, "\"-inf\"") << unknown;
        QTest::newRow("\"abc\"") << answer(opaque, "\"abc\"") << unknown;
        QTest::newRow("true") << answer(opaque, "true") << unknown;
        QTest::newRow("\"600\" (sane)") << answer(opaque, "\"600\"") << qint64(600000);
        QTest::newRow("0, JWT says 600 s")
            << answer(jwt(R"({"sub":"1","iat":1700000000,"exp":1700000600})"), "0")
            << qint64(600000);
        QTest::newRow("JWT exp 1e300")
            << answer(jwt(R"({"sub":"1","iat":1700000000,"exp":1e300})"), QByteArray()) << maxMs;
        QTest::newRow("JWT exp 2^63")
            << answer(jwt(R"({"sub":"1","iat":0,"exp":9223372036854775807})"), QByteArray())
            << maxMs;
        QTest::newRow("JWT exp before iat")
            << answer(jwt(R"({"sub":"1","iat":1700000000,"exp":-1e300})"), QByteArray()) << unknown;
    }

    void absurdExpiresInIsClamped()
    {
        QFETCH(QByteArray, body);
        QFETCH(qint64, expectedMs);
        ScriptedServer server;
        server.on(QStringLiteral("/api/auth/login"),
            [&](const QHttpServerRequest &) { return ScriptedServer::json(body); });
        server.on(QStringLiteral("/api/auth/refresh"),
            [&](const QHttpServerRequest &) { return ScriptedServer::json(body); });
        QVERIFY(server.listen());
        ManualClock clock; // time moves only when the test says
        AuthClient client(ServerProfile::builtin(QStringLiteral("latchkey")), server.baseUrl());
        client.setTokenStore(new MemoryTokenStore);

        const QDateTime before = QDateTime::currentDateTimeUtc();
        QVERIFY(!await(client.signIn(QStringLiteral("ada"), QStringLiteral("pw"))).isError());
        const QDateTime after = QDateTime::currentDateTimeUtc();
        const QDateTime expiresAt = client.expiresAt();
        if (expectedMs == unknown) {
            QVERIFY2(!expiresAt.isValid(), qPrintable(expiresAt.toString(Qt::ISODateWithMs)));
        } else {
            QVERIFY(expiresAt.isValid());
            QVERIFY2(
                expiresAt >= before.addMSecs(expectedMs) && expiresAt <= after.addMSecs(expectedMs),
                qPrintable(QStringLiteral("expires at %1, %2 ms after signing in")
                               .arg(expiresAt.toString(Qt::ISODateWithMs))
                               .arg(before.msecsTo(expiresAt))));
        }

        // No refresh loop: over five seconds of the client's time, each refresh it starts run
        // to its end before the clock moves on, at most one proactive refresh a second.
        for (int i = 0; i < 50; ++i) {
            clock.advance(std::chrono::milliseconds(100));
            QCoreApplication::processEvents(); // the timer's request to refresh is queued
            QVERIFY(!await(client.flush(), 5000).isError());
        }
        QVERIFY2(server.count(QStringLiteral("/api/auth/refresh")) <= 5,
            qPrintable(QString::number(server.count(QStringLiteral("/api/auth/refresh")))));
        QCOMPARE(client.state(), AuthClient::State::SignedIn);
    }
};

QTEST_GUILESS_MAIN(TestLifetime)
#include "tst_lifetime.moc"
