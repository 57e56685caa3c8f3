#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/memorytokenstore.h>

#include "manualclock.h"
#include "manualreachability.h"
#include "testhelpers.h"
#include "tokenserver.h"

#include <QtTest>

using namespace Latchkey;
using namespace LatchkeyTest;
using namespace std::chrono_literals;

// What real devices do to a session: start without network, come back, sleep.
class TestOffline : public QObject
{
    Q_OBJECT

    std::unique_ptr<TokenServer> m_server;
    std::unique_ptr<ManualClock> m_clock;
    std::unique_ptr<ManualReachability> m_network;
    MemoryTokenStore *m_store = nullptr; // kept between the "runs" of one test
    std::unique_ptr<AuthClient> m_client;

    std::unique_ptr<AuthClient> newClient()
    {
        auto client
            = std::make_unique<AuthClient>(TokenServer::profileWithUser(), m_server->baseUrl());
        client->setTokenStore(m_store);
        m_store->setParent(nullptr);
        client->setRefreshRetry(2, 1ms);
        return client;
    }

    // A previous run signed in and quit: the store holds its session (and its user).
    void signedInBefore()
    {
        auto first = newClient();
        QCOMPARE(await(first->signIn(QStringLiteral("ada"), QStringLiteral("pw"))).kind(),
            AuthError::Kind::NoError);
        QCOMPARE(await(first->flush()).kind(), AuthError::Kind::NoError);
    }

    QNetworkReply *get(const QString &path)
    {
        return m_client->networkAccessManager()->get(QNetworkRequest(m_server->url(path)));
    }

    // Runs the start of the app with the server unreachable; the session must be kept.
    void startOffline()
    {
        signedInBefore();
        m_server->down = true;
        m_client = newClient();
        const AuthError error = await(m_client->restore(), 5000);
        QVERIFY2(
            error.kind() == AuthError::Kind::Server || error.kind() == AuthError::Kind::Network,
            qPrintable(error.toString()));
        QCOMPARE(m_client->state(), AuthClient::State::SignedIn);
        QCOMPARE(m_client->isOnline(), false);
    }

private Q_SLOTS:
    void init()
    {
        m_server = std::make_unique<TokenServer>();
        QVERIFY(m_server->listen());
        m_clock = std::make_unique<ManualClock>();
        m_network = std::make_unique<ManualReachability>();
        m_store = new MemoryTokenStore;
    }
    void cleanup()
    {
        m_client.reset();
        delete m_store;
        m_network.reset();
        m_clock.reset();
        m_server.reset();
    }

    void offlineRestoreKeepsTheSessionAndReconnectsWhenTheNetworkIsBack()
    {
        startOffline();
        QCOMPARE(m_client->identity(), QStringLiteral("ada"));
        QCOMPARE(m_client->user().value(QStringLiteral("name")).toString(), QStringLiteral("ada"));

        // Meanwhile requests fail at once, without each trying the server again.
        const int refreshes = m_server->refreshCalls;
        QNetworkReply *reply = get(QStringLiteral("/api/data"));
        QVERIFY(awaitAll({ reply }, 5000));
        QCOMPARE(AuthorizedNetworkAccessManager::authError(reply).kind(), AuthError::Kind::Server);
        QCOMPARE(m_server->refreshCalls, refreshes);
        QCOMPARE(m_server->apiCalls, 0);
        delete reply;

        // The network comes back: the session is confirmed at once, no backoff waited for.
        m_server->down = false;
        QSignalSpy online(m_client.get(), &AuthClient::onlineChanged);
        m_network->networkBack();
        QTRY_COMPARE_WITH_TIMEOUT(m_client->isOnline(), true, 5000);
        QCOMPARE(online.count(), 1);
        reply = get(QStringLiteral("/api/data"));
        QVERIFY(awaitAll({ reply }, 5000));
        QCOMPARE(httpStatus(reply), 200);
        delete reply;
        QCOMPARE(m_server->reuseCount, 0);
    }

    void offlineSessionReconnectsByItselfWithBackoff()
    {
        startOffline();
        m_server->down = false;
        const int refreshes = m_server->refreshCalls;
        m_clock->advance(500ms); // sooner than the first reconnect (1–2 s)
        QCoreApplication::processEvents();
        QCOMPARE(m_server->refreshCalls, refreshes);
        m_clock->advance(2s);
        QTRY_COMPARE_WITH_TIMEOUT(m_client->isOnline(), true, 5000);
        QCOMPARE(m_server->refreshCalls, refreshes + 1);
    }

    // The demo's Retry button: restore() again tries the server at once.
    void restoreAgainWhileOfflineTriesAtOnce()
    {
        startOffline();
        m_server->down = false;
        QCOMPARE(await(m_client->restore(), 5000).kind(), AuthError::Kind::NoError);
        QCOMPARE(m_client->isOnline(), true);
        QCOMPARE(m_client->state(), AuthClient::State::SignedIn);
    }

    // Never signed out for want of a network: a rejection still ends the session.
    void rejectedWhileOfflineEndsTheSession()
    {
        startOffline();
        m_server->down = false;
        m_server->revokeAll();
        m_network->networkBack();
        QTRY_COMPARE_WITH_TIMEOUT(m_client->state(), AuthClient::State::SignedOut, 5000);
        QCOMPARE(m_client->isOnline(), true);
    }

    // Suspend stops the monotonic clock: after a sleep the token is checked, not trusted.
    void lateTimerAfterASleepTriggersAFreshnessCheck()
    {
        m_client = newClient();
        QCOMPARE(await(m_client->signIn(QStringLiteral("ada"), QStringLiteral("pw"))).kind(),
            AuthError::Kind::NoError);
        QSignalSpy refreshed(m_client.get(), &AuthClient::tokenRefreshed);
        m_clock->advance(10min); // awake, well before the proactive refresh (an hour's token)
        QCoreApplication::processEvents();
        QCOMPARE(m_server->refreshCalls, 0);
        m_clock->sleep(2h); // the lid closed for two hours
        m_clock->advance(1min); // the timer's next look at the clocks
        QTRY_COMPARE_WITH_TIMEOUT(refreshed.count(), 1, 5000);
        QCOMPARE(refreshed.at(0).at(0).value<AuthClient::RefreshReason>(),
            AuthClient::RefreshReason::Resume);
    }
};

QTEST_GUILESS_MAIN(TestOffline)
#include "tst_offline.moc"
