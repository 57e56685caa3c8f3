#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/memorytokenstore.h>

#include "manualclock.h"
#include "scriptedserver.h"
#include "testhelpers.h"
#include "tokenserver.h"

#include <QtTest>

#include <memory>
#include <vector>

using namespace Latchkey;
using namespace LatchkeyTest;
using namespace std::chrono_literals;

// A server that hangs must not hang the session: each exchange is bounded by the auth timeout,
// a refresh with all its retries by the refresh timeout, and neither ends the session.
class TestTimeouts : public QObject
{
    Q_OBJECT

    static std::unique_ptr<AuthClient> client(const TokenServer &server)
    {
        auto c = std::make_unique<AuthClient>(TokenServer::profile(), server.baseUrl());
        c->setTokenStore(new MemoryTokenStore);
        return c;
    }

    static std::unique_ptr<QNetworkReply> getData(AuthClient *c, const TokenServer &server)
    {
        return std::unique_ptr<QNetworkReply>(c->networkAccessManager()->get(
            QNetworkRequest(server.url(QStringLiteral("/api/data")))));
    }

    static void verifyTimedOut(const AuthError &error)
    {
        QCOMPARE(error.kind(), AuthError::Kind::Network);
        QCOMPARE(error.networkError(), QNetworkReply::TimeoutError);
        QVERIFY2(error.message().contains(QLatin1String("timed out")), qPrintable(error.message()));
    }

private Q_SLOTS:
    // The refresh endpoint takes the request and never answers: the attempt ends at the auth
    // timeout, is retried like any network failure, and the session goes on once it answers.
    void hungRefreshEndsAtTheSetTimeoutAndIsRetried()
    {
        TokenServer server;
        QVERIFY(server.listen());
        auto c = client(server);
        c->setRefreshRetry(3, 10ms);
        QVERIFY(!await(c->signIn(QStringLiteral("ada"), QStringLiteral("pw"))).isError());
        c->setAuthTimeout(500ms);
        QCOMPARE(c->authTimeout(), 500ms);

        server.holdRefreshes = true;
        server.expireAccessTokens(); // the next request meets a 401 and waits for a refresh
        QSignalSpy retrying(c.get(), &AuthClient::refreshRetrying);
        QSignalSpy failed(c.get(), &AuthClient::refreshFailed);
        connect(c.get(), &AuthClient::refreshRetrying, this,
            [&server] { server.holdRefreshes = false; }); // the next attempt is answered
        const auto reply = getData(c.get(), server);
        // Far below the default 30 s, far above 500 ms: only the set timeout ends it in time.
        QVERIFY(awaitAll({ reply.get() }, 10000));

        QCOMPARE(retrying.size(), 1);
        verifyTimedOut(retrying.first().at(0).value<AuthError>());
        QCOMPARE(retrying.first().at(1).toInt(), 1); // the first attempt
        QCOMPARE(failed.size(), 0);
        QCOMPARE(server.heldRefreshes(), 1); // the hung one, still unanswered
        QCOMPARE(server.refreshCalls, 2);
        QCOMPARE(reply->error(), QNetworkReply::NoError);
        QCOMPARE(httpStatus(reply.get()), 200);
        QCOMPARE(c->state(), AuthClient::State::SignedIn);
        const auto next = getData(c.get(), server);
        QVERIFY(awaitAll({ next.get() }, 10000));
        QCOMPARE(httpStatus(next.get()), 200);
    }

    // One refresh: a 503, a retry that hangs. On the client's clock the refresh ends at its
    // overall bound, whatever the attempt in flight is doing, as a passing failure.
    void refreshGivesUpAtItsOverallBound()
    {
        ManualClock clock;
        TokenServer server;
        QVERIFY(server.listen());
        auto c = client(server);
        c->setRefreshRetry(5, 1s);
        c->setRefreshTimeout(60s);
        QCOMPARE(c->refreshTimeout(), 60s);
        QVERIFY(!await(c->signIn(QStringLiteral("ada"), QStringLiteral("pw"))).isError());

        QSignalSpy retrying(c.get(), &AuthClient::refreshRetrying);
        QSignalSpy failed(c.get(), &AuthClient::refreshFailed);
        server.down = true;
        clock.advance(3600s); // the token's lifetime: the proactive refresh starts, meets a 503
        QTRY_COMPARE(retrying.size(), 1);
        const auto reply = getData(c.get(), server); // waits for that refresh
        server.down = false;
        server.holdRefreshes = true;
        clock.advance(1s); // the backoff (at most the initial delay): the second attempt hangs
        QTRY_COMPARE(server.heldRefreshes(), 1);

        clock.advance(58s); // 59 s into the refresh: still within its bound
        QCoreApplication::processEvents();
        QCOMPARE(failed.size(), 0);
        QVERIFY(!reply->isFinished());

        clock.advance(2s); // 61 s
        QTRY_COMPARE(failed.size(), 1);
        verifyTimedOut(failed.first().first().value<AuthError>());
        QTRY_VERIFY(reply->isFinished());
        QCOMPARE(reply->error(), QNetworkReply::TimeoutError);
        QCOMPARE(AuthorizedNetworkAccessManager::authError(reply.get()).kind(),
            AuthError::Kind::Network);
        QCOMPARE(server.refreshCalls, 2);
        QCOMPARE(c->state(), AuthClient::State::SignedIn); // the session is kept

        // Without a usable token the session is kept offline; the next try to reach the
        // server (its backoff, on the same clock) refreshes anew, and requests go through.
        QCOMPARE(c->isOnline(), false);
        server.holdRefreshes = false;
        clock.advance(5s);
        QTRY_COMPARE(c->isOnline(), true);
        const auto next = getData(c.get(), server);
        QVERIFY(awaitAll({ next.get() }, 10000));
        QCOMPARE(httpStatus(next.get()), 200);
        QCOMPARE(server.refreshCalls, 3);
    }

    // A sign-in whose server never answers ends at the auth timeout.
    void authTimeoutBoundsSignIn()
    {
        ScriptedServer server;
        std::vector<std::shared_ptr<QHttpServerResponder>> kept; // never answered
        server.onDeferred(QStringLiteral("/api/auth/login"),
            [&kept](const QHttpServerRequest &, QHttpServerResponder &&responder) {
                kept.push_back(std::make_shared<QHttpServerResponder>(std::move(responder)));
            });
        QVERIFY(server.listen());
        AuthClient c(ServerProfile::builtin(QStringLiteral("latchkey")), server.baseUrl());
        c.setTokenStore(new MemoryTokenStore);
        c.setAuthTimeout(300ms);
        const AuthError error = await(c.signIn(guest, guestPassword), 10000);
        verifyTimedOut(error);
        QCOMPARE(c.state(), AuthClient::State::SignedOut);
        QCOMPARE(server.count(QStringLiteral("/api/auth/login")), 1);
        kept.clear();
    }
};

QTEST_GUILESS_MAIN(TestTimeouts)
#include "tst_timeouts.moc"
