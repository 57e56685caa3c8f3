#include <latchkey/authclient.h>
#include <latchkey/memorytokenstore.h>

#include "manualclock.h"
#include "testhelpers.h"
#include "tokenserver.h"

#include <QtTest>

using namespace Latchkey;
using namespace LatchkeyTest;
using namespace std::chrono_literals;

// The proactive refresh, on a clock the test moves: exact for any lifetime, never a storm.
class TestSchedule : public QObject
{
    Q_OBJECT

    std::unique_ptr<TokenServer> m_server;
    std::unique_ptr<ManualClock> m_clock;
    std::unique_ptr<AuthClient> m_client;

    bool signIn(const QByteArray &expiresIn)
    {
        m_server->expiresInJson = expiresIn;
        m_client = std::make_unique<AuthClient>(TokenServer::profile(), m_server->baseUrl());
        m_client->setTokenStore(new MemoryTokenStore);
        return !await(m_client->signIn(QStringLiteral("ada"), QStringLiteral("pw"))).isError();
    }

    // Lets a refresh that a timer asked for run to its end (flush() waits for it).
    void settle()
    {
        QCoreApplication::processEvents(); // the timer's request to refresh is queued
        QCOMPARE(await(m_client->flush(), 5000).kind(), AuthError::Kind::NoError);
    }

private Q_SLOTS:
    void init()
    {
        // Qt 6.4's QTimer takes an int interval: a long one must never reach it whole.
        QTest::failOnWarning(QRegularExpression(QStringLiteral("negative interval")));
        m_server = std::make_unique<TokenServer>();
        QVERIFY(m_server->listen());
        m_clock = std::make_unique<ManualClock>();
    }
    void cleanup()
    {
        m_client.reset();
        m_clock.reset();
        m_server.reset();
    }

    void thirtyDayTokenRefreshesOnTime()
    {
        QVERIFY(signIn(QByteArray::number(30 * 24 * 3600)));
        const auto lead = 60s; // min(60 s, 10 %)
        m_clock->advance(30 * 24h - lead - 1s);
        settle();
        QCOMPARE(m_server->refreshCalls, 0);
        m_clock->advance(2s);
        QTRY_COMPARE_WITH_TIMEOUT(m_server->refreshCalls, 1, 5000);
        QTRY_COMPARE(m_client->state(), AuthClient::State::SignedIn);
    }

    void fiftyDayTokenDoesNotRefreshWhileIdle()
    {
        QVERIFY(signIn(QByteArray::number(50 * 24 * 3600)));
        for (int day = 1; day < 50; ++day) {
            m_clock->advance(24h);
            settle();
        }
        QCOMPARE(m_server->refreshCalls, 0);
        m_clock->advance(24h);
        QTRY_COMPARE_WITH_TIMEOUT(m_server->refreshCalls, 1, 5000);
    }

    // A proactive refresh that meets a blip while the token still works is tried again later,
    // before the token runs out, not left to the requests.
    void failedProactiveRefreshIsTriedAgain()
    {
        QVERIFY(signIn("3600"));
        m_client->setRefreshRetry(1, std::chrono::milliseconds(1));
        m_server->down = true;
        m_clock->advance(3600s - 60s); // the proactive refresh: a 503
        settle();
        QCOMPARE(m_server->refreshCalls, 1);
        QCOMPARE(m_client->isOnline(), true); // the token still works
        m_server->down = false;
        m_clock->advance(5s); // its next try (2 s backoff with jitter, at most 2 s)
        settle();
        QCOMPARE(m_server->refreshCalls, 2);
        QCOMPARE(m_server->reuseCount, 0);
    }

    // A server that claims a lifetime of a millisecond gets at most one refresh a second.
    void tinyLifetimeRefreshesAtMostOncePerSecond()
    {
        QVERIFY(signIn("0.001"));
        for (int i = 0; i < 50; ++i) { // ten seconds, in steps of 200 ms
            m_clock->advance(200ms);
            settle();
        }
        QVERIFY2(m_server->refreshCalls >= 5 && m_server->refreshCalls <= 10,
            qPrintable(QString::number(m_server->refreshCalls)));
    }
};

QTEST_GUILESS_MAIN(TestSchedule)
#include "tst_schedule.moc"
