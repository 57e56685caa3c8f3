#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/environmentcredentials.h>
#include <latchkey/filecredentials.h>
#include <latchkey/keychaincredentials.h>
#include <latchkey/memorytokenstore.h>

#include "manualclock.h"
#include "testhelpers.h"
#include "tokenserver.h"

#include <QJsonDocument>
#include <QTemporaryDir>
#include <QtTest>

using namespace Latchkey;
using namespace LatchkeyTest;
using namespace std::chrono_literals;

namespace {

// A provider that answers what the test says, counting how often it was asked.
class FixedCredentials : public CredentialsProvider
{
public:
    QString identity = QStringLiteral("bot");
    QByteArray password = "pw";
    int asked = 0;
    void credentials(Callback done) override
    {
        ++asked;
        done(identity, password, AuthError());
    }
};

struct Given
{
    QString identity;
    QByteArray password;
    AuthError error;
};

Given ask(CredentialsProvider *provider)
{
    Given given;
    bool answered = false;
    provider->credentials(
        [&](const QString &identity, const QByteArray &password, const AuthError &error) {
            given = { identity, password, error };
            answered = true;
        });
    if (!QTest::qWaitFor([&answered] { return answered; }, 5000))
        given.error = AuthError(AuthError::Kind::Cancelled, QStringLiteral("no answer"));
    return given;
}

} // namespace

// A headless service signs in by itself (AuthClient::setCredentialsProvider): at start-up, when
// the server rejects its session, with backoff while the server fails, never with credentials
// the server refused; and reports how it fares (AuthClient::health()).
class TestService : public QObject
{
    Q_OBJECT

    std::unique_ptr<TokenServer> m_server;
    std::unique_ptr<ManualClock> m_clock;
    std::unique_ptr<AuthClient> m_client;
    FixedCredentials *m_credentials = nullptr;

    int signingInCount(const QSignalSpy &states)
    {
        int n = 0;
        for (const QList<QVariant> &args : states)
            n += args.at(0).value<AuthClient::State>() == AuthClient::State::SigningIn;
        return n;
    }
    // Lets whatever is due run: a sign-in that started shows as the state SigningIn.
    static void settle()
    {
        for (int i = 0; i < 5; ++i)
            QCoreApplication::processEvents();
    }

private Q_SLOTS:
    void init()
    {
        m_server = std::make_unique<TokenServer>();
        QVERIFY(m_server->listen());
        m_clock = std::make_unique<ManualClock>();
        m_client
            = std::make_unique<AuthClient>(TokenServer::profileWithUser(), m_server->baseUrl());
        m_client->setTokenStore(new MemoryTokenStore);
        m_credentials = new FixedCredentials;
        m_client->setCredentialsProvider(m_credentials);
    }
    void cleanup()
    {
        m_client.reset();
        m_clock.reset();
        m_server.reset();
    }

    // Start-up: nothing stored, so the service signs in; the restore's reply says it did.
    void restoreWithNothingStoredSignsInWithTheProvidersCredentials()
    {
        QCOMPARE(m_client->credentialsProvider(), m_credentials);
        QCOMPARE(m_credentials->parent(), m_client.get()); // adopted
        QSignalSpy signedIn(m_client.get(), &AuthClient::signedIn);
        QCOMPARE(await(m_client->restore(), 5000).kind(), AuthError::Kind::NoError);
        QCOMPARE(m_client->state(), AuthClient::State::SignedIn);
        QCOMPARE(m_client->identity(), QStringLiteral("bot"));
        QCOMPARE(m_server->loginCalls, 1);
        QCOMPARE(signedIn.count(), 1);
        QCOMPARE(m_credentials->asked, 1);

        QNetworkReply *reply = m_client->networkAccessManager()->get(
            QNetworkRequest(m_server->url(QStringLiteral("/api/data"))));
        QVERIFY(awaitAll({ reply }, 5000));
        QCOMPARE(httpStatus(reply), 200);
        delete reply;
    }

    // The server revokes the session: after sessionExpired() the service signs in again.
    void rejectedSessionSignsInAgainByItself()
    {
        QCOMPARE(await(m_client->restore(), 5000).kind(), AuthError::Kind::NoError);
        QSignalSpy expired(m_client.get(), &AuthClient::sessionExpired);
        QSignalSpy signedIn(m_client.get(), &AuthClient::signedIn);
        m_server->revokeAll();
        m_clock->advance(3541s); // the proactive refresh of the hour's token: rejected
        QTRY_COMPARE_WITH_TIMEOUT(signedIn.count(), 1, 5000);
        QCOMPARE(expired.count(), 1);
        QCOMPARE(m_client->state(), AuthClient::State::SignedIn);
        QCOMPARE(m_server->loginCalls, 2);
        QCOMPARE(m_server->issuedSessions(), 2);

        // The new session's token goes out with the next request.
        QNetworkReply *reply = m_client->networkAccessManager()->get(
            QNetworkRequest(m_server->url(QStringLiteral("/api/data"))));
        QVERIFY(awaitAll({ reply }, 5000));
        QCOMPARE(httpStatus(reply), 200);
        QCOMPARE(TokenServer::sessionOf(m_server->apiAuthorizations.last().mid(7)), 2);
        delete reply;
    }

    // A server that rejects every new session at once is not asked again and again.
    void sessionRejectedRightAfterSigningInIsNotHammered()
    {
        m_server->expiresInJson = "10"; // proactive refresh 9 s after the sign-in
        QCOMPARE(await(m_client->restore(), 5000).kind(), AuthError::Kind::NoError);
        QSignalSpy expired(m_client.get(), &AuthClient::sessionExpired);
        QSignalSpy states(m_client.get(), &AuthClient::stateChanged);
        m_server->revokeAll();
        m_clock->advance(9s);
        QTRY_COMPARE_WITH_TIMEOUT(expired.count(), 1, 5000);
        settle();
        QCOMPARE(signingInCount(states), 0); // not at once: backoff, at least 1 s
        QCOMPARE(m_client->health().value(QLatin1String("autoSignIn")).toString(),
            QStringLiteral("waiting"));
        m_clock->advance(999ms);
        settle();
        QCOMPARE(signingInCount(states), 0);
        m_clock->advance(1001ms);
        QTRY_COMPARE_WITH_TIMEOUT(m_client->state(), AuthClient::State::SignedIn, 5000);
        QCOMPARE(m_server->loginCalls, 2);
    }

    // Server down at start-up: tries again after 1–2 s, then 2–4 s, …, never sooner.
    void signInBacksOffWhileTheServerFails()
    {
        m_server->loginsDown = true;
        QSignalSpy retrying(m_client.get(), &AuthClient::signInRetrying);
        QSignalSpy states(m_client.get(), &AuthClient::stateChanged);
        // The restore's reply ends with the first attempt's outcome; the attempts go on.
        QCOMPARE(await(m_client->restore(), 5000).kind(), AuthError::Kind::Server);
        QCOMPARE(m_client->state(), AuthClient::State::SignedOut);
        QCOMPARE(m_server->loginCalls, 1);
        QTRY_COMPARE_WITH_TIMEOUT(retrying.count(), 1, 5000);
        const int firstWait = retrying.at(0).at(1).toInt();
        QVERIFY2(firstWait >= 1000 && firstWait <= 2000, QByteArray::number(firstWait).constData());
        QCOMPARE(signingInCount(states), 1);

        m_clock->advance(999ms); // the shortest first wait minus 1 ms
        settle();
        QCOMPARE(signingInCount(states), 1);
        QCOMPARE(m_server->loginCalls, 1);
        m_clock->advance(1001ms); // the longest first wait
        QTRY_COMPARE_WITH_TIMEOUT(retrying.count(), 2, 5000);
        QCOMPARE(m_server->loginCalls, 2);
        const int secondWait = retrying.at(1).at(1).toInt();
        QVERIFY2(
            secondWait >= 2000 && secondWait <= 4000, QByteArray::number(secondWait).constData());

        m_clock->advance(1999ms);
        settle();
        QCOMPARE(m_server->loginCalls, 2);
        QCOMPARE(signingInCount(states), 2);

        m_server->loginsDown = false; // the server is back
        m_clock->advance(2001ms);
        QTRY_COMPARE_WITH_TIMEOUT(m_client->state(), AuthClient::State::SignedIn, 5000);
        QCOMPARE(m_server->loginCalls, 3);
        const QJsonObject health = m_client->health();
        QCOMPARE(health.value(QLatin1String("signIns")).toInt(), 1);
        QCOMPARE(health.value(QLatin1String("signInFailures")).toInt(), 2);
        QCOMPARE(health.value(QLatin1String("autoSignIn")).toString(), QStringLiteral("idle"));
        QVERIFY(health.value(QLatin1String("nextSignInAttempt")).isNull());
    }

    // Wrong password: one attempt, a signal saying so, and nothing more however long it waits.
    void refusedCredentialsStopTheAttemptsForGood()
    {
        m_credentials->password = "not-the-password";
        QSignalSpy rejected(m_client.get(), &AuthClient::credentialsRejected);
        QCOMPARE(await(m_client->restore(), 5000).kind(), AuthError::Kind::InvalidCredentials);
        QTRY_COMPARE_WITH_TIMEOUT(rejected.count(), 1, 5000);
        QCOMPARE(
            rejected.at(0).at(0).value<AuthError>().kind(), AuthError::Kind::InvalidCredentials);
        m_clock->advance(1h);
        settle();
        QCOMPARE(m_server->loginCalls, 1);
        QCOMPARE(m_client->state(), AuthClient::State::SignedOut);
        QCOMPARE(m_client->health().value(QLatin1String("autoSignIn")).toString(),
            QStringLiteral("stopped"));
        QVERIFY(m_client->health().value(QLatin1String("nextSignInAttempt")).isNull());
    }

    // The application signs out while the server is down: no sign-in comes back by itself.
    void signOutEndsTheAttempts()
    {
        m_server->loginsDown = true;
        QCOMPARE(await(m_client->restore(), 5000).kind(), AuthError::Kind::Server);
        QVERIFY(!m_client->health().value(QLatin1String("nextSignInAttempt")).isNull());
        QCOMPARE(await(m_client->signOut(), 5000).kind(), AuthError::Kind::NoError);
        m_server->loginsDown = false;
        m_clock->advance(10min);
        settle();
        QCOMPARE(m_server->loginCalls, 1);
        QCOMPARE(m_client->state(), AuthClient::State::SignedOut);
        QVERIFY(m_client->health().value(QLatin1String("nextSignInAttempt")).isNull());
    }

    void fileCredentialsRefuseAFileOthersCanRead()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("bot.credentials"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("bot\n secret with spaces \n");
        file.close();
        QVERIFY(file.setPermissions(
            QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup | QFile::ReadOther)); // 0644
        auto *credentials = new FileCredentials(path);
        Given given = ask(credentials);
        QCOMPARE(given.error.kind(), AuthError::Kind::Protocol);
        QVERIFY2(given.error.message().contains(QLatin1String("0644"))
                && given.error.message().contains(QLatin1String("chmod 600"))
                && given.error.message().contains(path),
            qPrintable(given.error.message()));
        QVERIFY(given.password.isEmpty());
        QVERIFY(!given.error.message().contains(QLatin1String("secret")));

        // As the client's provider: refused before anything goes to the server.
        m_client->setCredentialsProvider(credentials);
        QSignalSpy rejected(m_client.get(), &AuthClient::credentialsRejected);
        QCOMPARE(await(m_client->restore(), 5000).kind(), AuthError::Kind::Protocol);
        QCOMPARE(rejected.count(), 1);
        QCOMPARE(m_server->loginCalls, 0);

        QVERIFY(file.setPermissions(QFile::ReadOwner | QFile::WriteOwner)); // 0600
        given = ask(credentials);
        QCOMPARE(given.error.kind(), AuthError::Kind::NoError);
        QCOMPARE(given.identity, QStringLiteral("bot"));
        QCOMPARE(given.password, QByteArray(" secret with spaces ")); // only the line ending cut

        // One line is not enough.
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write("bot\n");
        file.close();
        QCOMPARE(ask(credentials).error.kind(), AuthError::Kind::Protocol);
    }

    void missingEnvironmentVariableIsNamedAndNothingIsSent()
    {
        qputenv("LATCHKEY_TEST_BOT_ID", "bot");
        qunsetenv("LATCHKEY_TEST_BOT_PASSWORD");
        auto *credentials = new EnvironmentCredentials(
            QStringLiteral("LATCHKEY_TEST_BOT_ID"), QStringLiteral("LATCHKEY_TEST_BOT_PASSWORD"));
        m_client->setCredentialsProvider(credentials);
        const AuthError error = await(m_client->restore(), 5000);
        QCOMPARE(error.kind(), AuthError::Kind::Protocol);
        QVERIFY2(error.message().contains(QLatin1String("LATCHKEY_TEST_BOT_PASSWORD")),
            qPrintable(error.message()));
        QCOMPARE(m_server->loginCalls, 0);

        qputenv("LATCHKEY_TEST_BOT_PASSWORD", "pw"); // read when asked: restore() tries again
        QCOMPARE(await(m_client->restore(), 5000).kind(), AuthError::Kind::NoError);
        QCOMPARE(m_client->identity(), QStringLiteral("bot"));
        qunsetenv("LATCHKEY_TEST_BOT_ID");
        qunsetenv("LATCHKEY_TEST_BOT_PASSWORD");
    }

    void keychainCredentialsReadThePasswordFromTheStore()
    {
        auto *credentials
            = new KeychainCredentials(QStringLiteral("bot"), QStringLiteral("bot pw"));
        auto *store = new MemoryTokenStore;
        credentials->setTokenStore(store);
        QCOMPARE(store->parent(), credentials);
        QCOMPARE(ask(credentials).error.kind(), AuthError::Kind::Protocol); // nothing stored yet

        bool written = false;
        credentials->setPassword("pw", [&written](const AuthError &error) {
            QVERIFY(!error.isError());
            written = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(written, 5000);
        const Given given = ask(credentials);
        QCOMPARE(given.identity, QStringLiteral("bot"));
        QCOMPARE(given.password, QByteArray("pw"));

        m_client->setCredentialsProvider(credentials);
        QCOMPARE(await(m_client->restore(), 5000).kind(), AuthError::Kind::NoError);
        QCOMPARE(m_client->identity(), QStringLiteral("bot"));
    }

    void healthReportsRefreshesSignInsAndWhatIsDue()
    {
        m_client->setRefreshRetry(1, 1ms);
        QJsonObject health = m_client->health();
        QCOMPARE(health.value(QLatin1String("state")).toString(), QStringLiteral("SignedOut"));
        QVERIFY(health.value(QLatin1String("lastRefresh")).isNull());
        QVERIFY(health.value(QLatin1String("nextRefreshDue")).isNull());
        QVERIFY(health.value(QLatin1String("lastError")).isNull());

        QCOMPARE(await(m_client->restore(), 5000).kind(), AuthError::Kind::NoError);
        auto iso = [this](std::chrono::milliseconds from) {
            return QDateTime::fromMSecsSinceEpoch(m_clock->wallMs() + from.count(), Qt::UTC)
                .toString(Qt::ISODateWithMs);
        };
        health = m_client->health();
        QCOMPARE(health.value(QLatin1String("state")).toString(), QStringLiteral("SignedIn"));
        QCOMPARE(health.value(QLatin1String("identity")).toString(), QStringLiteral("bot"));
        QCOMPARE(health.value(QLatin1String("online")).toBool(), true);
        QCOMPARE(health.value(QLatin1String("signIns")).toInt(), 1);
        QCOMPARE(health.value(QLatin1String("refreshesOk")).toInt(), 0);
        QCOMPARE(health.value(QLatin1String("autoSignIn")).toString(), QStringLiteral("idle"));
        // The hour's token is refreshed a minute before it expires.
        QCOMPARE(health.value(QLatin1String("nextRefreshDue")).toString(), iso(3540s));

        m_clock->advance(3540s);
        QTRY_COMPARE_WITH_TIMEOUT(
            m_client->health().value(QLatin1String("refreshesOk")).toInt(), 1, 5000);
        health = m_client->health();
        QCOMPARE(health.value(QLatin1String("lastRefresh")).toString(), iso(0s));
        QCOMPARE(health.value(QLatin1String("nextRefreshDue")).toString(), iso(3540s));
        QCOMPARE(health.value(QLatin1String("refreshesFailed")).toInt(), 0);

        m_server->down = true;
        m_clock->advance(3540s);
        QTRY_COMPARE_WITH_TIMEOUT(
            m_client->health().value(QLatin1String("refreshesFailed")).toInt(), 1, 5000);
        health = m_client->health();
        QCOMPARE(health.value(QLatin1String("refreshesOk")).toInt(), 1);
        QVERIFY2(
            health.value(QLatin1String("lastError")).toString().startsWith(QLatin1String("Server")),
            qPrintable(health.value(QLatin1String("lastError")).toString()));
        QCOMPARE(health.value(QLatin1String("lastErrorAt")).toString(), iso(0s));
        QVERIFY(!health.value(QLatin1String("nextRefreshDue")).isNull()); // tried again later

        // Nothing secret in it.
        const QByteArray text = QJsonDocument(health).toJson();
        QVERIFY(!text.contains("\"pw\"") && !text.contains("A1.") && !text.contains("R1."));
    }
};

QTEST_GUILESS_MAIN(TestService)
#include "tst_service.moc"
