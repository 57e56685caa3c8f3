#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/memorytokenstore.h>

#include "manualclock.h"
#include "testhelpers.h"
#include "tokenserver.h"

#include <QJsonDocument>
#include <QtTest>

using namespace Latchkey;
using namespace LatchkeyTest;

namespace {

// A store that keeps what it is given, except that writes of keys containing \a failing fail
// as a keychain that says no would.
class RefusingStore : public MemoryTokenStore
{
public:
    explicit RefusingStore(QString failing)
        : m_failing(std::move(failing))
    { }
    void write(const QString &key, const QByteArray &secret, DoneCallback done) override
    {
        if (!key.endsWith(m_failing)) {
            MemoryTokenStore::write(key, secret, std::move(done));
            return;
        }
        QTimer::singleShot(0, this, [done] {
            done(AuthError(AuthError::Kind::KeychainUnavailable,
                QStringLiteral("the keychain refused the write")));
        });
    }

private:
    QString m_failing;
};

// A store whose writes never answer (a keychain stuck behind a prompt), for a test to delete.
class SilentStore : public MemoryTokenStore
{
public:
    void write(const QString &, const QByteArray &, DoneCallback) override { }
};

// Remembers, at once, what was last written under each key (the writes themselves are
// asynchronous like any store's).
class RecordingStore : public MemoryTokenStore
{
public:
    void write(const QString &key, const QByteArray &secret, DoneCallback done) override
    {
        MemoryTokenStore::write(key, secret, [this, key, secret, done](const AuthError &error) {
            if (!error.isError())
                written.insert(key, secret);
            done(error);
        });
    }
    QHash<QString, QByteArray> written;
};

} // namespace

// The session's state machine, driven from outside: what an app does (restore twice, sign in
// during a restore, quit right after a refresh) against a server that answers when told to.
class TestSession : public QObject
{
    Q_OBJECT

    std::unique_ptr<TokenServer> m_server;

    std::unique_ptr<AuthClient> newClient(TokenStore *store)
    {
        auto client = std::make_unique<AuthClient>(TokenServer::profile(), m_server->baseUrl());
        client->setTokenStore(store);
        return client;
    }

    // A store holding a session for "ada", as a previous run would have left it.
    MemoryTokenStore *storeWithSession()
    {
        auto *store = new MemoryTokenStore;
        {
            auto first = newClient(new MemoryTokenStore);
            if (await(first->signIn(QStringLiteral("ada"), QStringLiteral("pw"))).isError())
                return nullptr;
            const QByteArray rt = storedRefreshToken(first.get(), QStringLiteral("ada"));
            store->write(
                tokenKey(QStringLiteral("oauth2"), m_server->baseUrl(), QStringLiteral("ada")), rt,
                [](const AuthError &) {});
            store->write(lastIdentityKey(QStringLiteral("oauth2"), m_server->baseUrl()), "ada",
                [](const AuthError &) {});
        }
        m_server->refreshCalls = 0;
        return store;
    }

    // Moves the stored session of "ada" from \a from (deleted) into \a to, written there
    // without going through \a to's own write (which a test store may refuse or record).
    void copySession(MemoryTokenStore *from, MemoryTokenStore *to)
    {
        for (const QString &key :
            { tokenKey(QStringLiteral("oauth2"), m_server->baseUrl(), QStringLiteral("ada")),
                lastIdentityKey(QStringLiteral("oauth2"), m_server->baseUrl()) }) {
            QByteArray secret;
            from->read(key, [&](const QByteArray &s, const AuthError &) { secret = s; });
            QTRY_VERIFY(!secret.isEmpty());
            to->MemoryTokenStore::write(key, secret, [](const AuthError &) {});
        }
        delete from;
    }

private Q_SLOTS:
    void init()
    {
        m_server = std::make_unique<TokenServer>();
        QVERIFY(m_server->listen());
    }
    void cleanup() { m_server.reset(); }

    // Component.onCompleted and a Retry button: two restores at once are one restore.
    void secondRestoreJoinsTheFirst()
    {
        MemoryTokenStore *store = storeWithSession();
        QVERIFY(store);
        auto client = newClient(store);
        AuthReply *first = client->restore();
        AuthReply *second = client->restore();
        second->setAutoDelete(false); // still there after waiting for the first
        QCOMPARE(await(first, 5000).kind(), AuthError::Kind::NoError);
        QCOMPARE(await(second, 5000).kind(), AuthError::Kind::NoError);
        delete second;
        QCOMPARE(client->state(), AuthClient::State::SignedIn);
        QCOMPARE(m_server->refreshCalls, 1);
        QCOMPARE(m_server->reuseCount, 0);
        // And the session works afterwards.
        QNetworkReply *reply = client->networkAccessManager()->get(
            QNetworkRequest(m_server->url(QStringLiteral("/api/data"))));
        QVERIFY(awaitAll({ reply }, 5000));
        QCOMPARE(httpStatus(reply), 200);
        delete reply;
    }

    // A restore that finds nothing: the requests made meanwhile go out as for anybody.
    void requestsDuringAnEmptyRestoreGoOutWithoutAToken()
    {
        auto client = newClient(new MemoryTokenStore);
        AuthReply *restore = client->restore();
        QNetworkReply *health = client->networkAccessManager()->get(
            QNetworkRequest(m_server->url(QStringLiteral("/health"))));
        QCOMPARE(await(restore, 5000).kind(), AuthError::Kind::NotSignedIn);
        QVERIFY(awaitAll({ health }, 5000));
        QCOMPARE(health->error(), QNetworkReply::NoError);
        QCOMPARE(httpStatus(health), 200);
        QCOMPARE(
            AuthorizedNetworkAccessManager::authError(health).kind(), AuthError::Kind::NoError);
        delete health;
    }

    // The user signs in while the restore still waits for the server: the sign-in wins, the
    // restore ends Cancelled, and nothing of the restore is left behind.
    void signInSupersedesARestore()
    {
        MemoryTokenStore *store = storeWithSession();
        QVERIFY(store);
        m_server->holdRefreshes = true;
        auto client = newClient(store);
        AuthReply *restore = client->restore();
        restore->setAutoDelete(false);
        QTRY_COMPARE_WITH_TIMEOUT(m_server->heldRefreshes(), 1, 5000);
        QNetworkReply *waiting = client->networkAccessManager()->get(
            QNetworkRequest(m_server->url(QStringLiteral("/api/data"))));
        AuthReply *signIn = client->signIn(QStringLiteral("ada"), QStringLiteral("pw"));
        QCOMPARE(await(signIn, 5000).kind(), AuthError::Kind::NoError);
        QCOMPARE(await(restore, 5000).kind(), AuthError::Kind::Cancelled);
        delete restore;
        QVERIFY(awaitAll({ waiting }, 5000));
        QVERIFY(waiting->error() != QNetworkReply::NoError); // it waited for the old session
        delete waiting;
        m_server->holdRefreshes = false;
        m_server->releaseRefreshes(); // the abandoned refresh's answer changes nothing
        QCOMPARE(client->state(), AuthClient::State::SignedIn);
        QNetworkReply *reply = client->networkAccessManager()->get(
            QNetworkRequest(m_server->url(QStringLiteral("/api/data"))));
        QVERIFY(awaitAll({ reply }, 5000));
        QCOMPARE(httpStatus(reply), 200);
        QVERIFY(reply->request().url().isValid());
        QCOMPARE(m_server->apiAuthorizations.last(), "Bearer A2.1"); // the sign-in's token
        delete reply;
    }

    // A sign-in whose refresh token the store did not keep is not a success: the next start
    // would find no session.
    void signInReportsATokenTheStoreDidNotKeep()
    {
        auto client = newClient(new RefusingStore(QStringLiteral(" ada")));
        const AuthError error = await(client->signIn(QStringLiteral("ada"), QStringLiteral("pw")));
        QCOMPARE(error.kind(), AuthError::Kind::KeychainUnavailable);
        QCOMPARE(client->state(), AuthClient::State::SignedIn); // in memory, as it says
    }

    // A restore whose rotated token the store did not keep says so too.
    void restoreReportsARotationTheStoreDidNotKeep()
    {
        MemoryTokenStore *good = storeWithSession();
        QVERIFY(good);
        auto *store = new RefusingStore(QStringLiteral(" ada"));
        copySession(good, store);
        auto client = newClient(store);
        QCOMPARE(await(client->restore(), 5000).kind(), AuthError::Kind::KeychainUnavailable);
    }

    // A failed sign-in as somebody else leaves nothing of the previous user on show.
    void failedSignInShowsNothingOfThePreviousUser()
    {
        auto client
            = std::make_unique<AuthClient>(TokenServer::profileWithUser(), m_server->baseUrl());
        client->setTokenStore(new MemoryTokenStore);
        QCOMPARE(await(client->signIn(QStringLiteral("ada"), QStringLiteral("pw"))).kind(),
            AuthError::Kind::NoError);
        QCOMPARE(client->user().value(QStringLiteral("name")).toString(), QStringLiteral("ada"));
        QCOMPARE(await(client->signIn(QStringLiteral("bob"), QStringLiteral("wrong"))).kind(),
            AuthError::Kind::InvalidCredentials);
        QCOMPARE(client->state(), AuthClient::State::SignedOut);
        QVERIFY2(client->user().isEmpty(), QJsonDocument(client->user()).toJson().constData());
        QCOMPARE(await(client->signIn(QStringLiteral("bob"), QStringLiteral("pw"))).kind(),
            AuthError::Kind::NoError);
        QCOMPARE(client->user().value(QStringLiteral("name")).toString(), QStringLiteral("bob"));
    }

    // Sign out, and at once sign in again: the late end of the sign-out leaves the new session.
    void signInRightAfterSignOutStaysSignedIn()
    {
        auto client = newClient(new MemoryTokenStore);
        QCOMPARE(await(client->signIn(QStringLiteral("ada"), QStringLiteral("pw"))).kind(),
            AuthError::Kind::NoError);
        AuthReply *signOut = client->signOut();
        signOut->setAutoDelete(false);
        AuthReply *signIn = client->signIn(QStringLiteral("ada"), QStringLiteral("pw"));
        QCOMPARE(await(signIn, 5000).kind(), AuthError::Kind::NoError);
        QCOMPARE(await(signOut, 5000).kind(), AuthError::Kind::NoError);
        delete signOut;
        QCOMPARE(client->state(), AuthClient::State::SignedIn);
        QCOMPARE(client->identity(), QStringLiteral("ada"));
        QCOMPARE(storedRefreshToken(client.get(), QStringLiteral("ada")), "R2.1");
        QNetworkReply *reply = client->networkAccessManager()->get(
            QNetworkRequest(m_server->url(QStringLiteral("/api/data"))));
        QVERIFY(awaitAll({ reply }, 5000));
        QCOMPARE(httpStatus(reply), 200);
        delete reply;
    }

    // A sign-out that needs a fresh bearer for the server gets it for itself: a request made
    // meanwhile never gets a new token of the session being ended.
    void requestDuringSignOutGetsNoFreshToken()
    {
        ManualClock clock;
        auto client
            = std::make_unique<AuthClient>(TokenServer::profileWithUser(true), m_server->baseUrl());
        client->setTokenStore(new MemoryTokenStore);
        QCOMPARE(await(client->signIn(QStringLiteral("ada"), QStringLiteral("pw"))).kind(),
            AuthError::Kind::NoError);
        clock.advance(std::chrono::hours(2)); // the access token is stale: sign-out refreshes
        m_server->holdRefreshes = true;
        AuthReply *signOut = client->signOut();
        QNetworkReply *reply = client->networkAccessManager()->get(
            QNetworkRequest(m_server->url(QStringLiteral("/api/data"))));
        QTRY_COMPARE_WITH_TIMEOUT(m_server->heldRefreshes(), 1, 5000);
        m_server->holdRefreshes = false;
        m_server->releaseRefreshes();
        QCOMPARE(await(signOut, 5000).kind(), AuthError::Kind::NoError);
        QVERIFY(awaitAll({ reply }, 5000));
        QVERIFY(httpStatus(reply) != 200);
        QCOMPARE(m_server->apiAuthorizations.count(QByteArray("Bearer A1.2")), 0);
        delete reply;
        QCOMPARE(client->state(), AuthClient::State::SignedOut);
    }

    // flush() while the restore's refresh is on the wire waits for it, as for any refresh.
    void flushDuringARestoreWaitsForItsRefresh()
    {
        MemoryTokenStore *seeded = storeWithSession();
        QVERIFY(seeded);
        auto *store = new RecordingStore;
        copySession(seeded, store);
        m_server->holdRefreshes = true;
        auto client = newClient(store);
        AuthReply *restore = client->restore();
        AuthReply *flush = client->flush();
        const QString key
            = tokenKey(QStringLiteral("oauth2"), m_server->baseUrl(), QStringLiteral("ada"));
        QByteArray storedWhenFlushed = "(not finished)";
        connect(flush, &AuthReply::finished, this,
            [&] { storedWhenFlushed = store->written.value(key); });
        QTRY_COMPARE_WITH_TIMEOUT(m_server->heldRefreshes(), 1, 5000);
        QCOMPARE(storedWhenFlushed, "(not finished)");
        m_server->holdRefreshes = false;
        m_server->releaseRefreshes();
        QCOMPARE(await(restore, 5000).kind(), AuthError::Kind::NoError);
        QTRY_COMPARE(storedWhenFlushed, QByteArray("R1.2"));
    }

    // A store the app deletes while a write is in flight: the sign-in says what happened, and
    // nothing after it waits forever.
    void deletedStoreWithAWriteInFlightStallsNothing()
    {
        auto *store = new SilentStore;
        auto client = newClient(store);
        AuthReply *signIn = client->signIn(QStringLiteral("ada"), QStringLiteral("pw"));
        signIn->setAutoDelete(false);
        QTRY_COMPARE_WITH_TIMEOUT(m_server->loginCalls, 1, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(client->state(), AuthClient::State::SignedIn, 5000);
        QVERIFY(!signIn->isFinished()); // its token's write never answers
        client->setTokenStore(new MemoryTokenStore);
        delete store;
        QCOMPARE(await(signIn, 5000).kind(), AuthError::Kind::KeychainUnavailable);
        delete signIn;
        QCOMPARE(await(client->flush(), 5000).kind(), AuthError::Kind::KeychainUnavailable);
        QCOMPARE(await(client->flush(), 5000).kind(), AuthError::Kind::NoError);
        QCOMPARE(client->state(), AuthClient::State::SignedIn);
    }

    // A process that quits right after flush() never leaves a spent token behind: flush waits
    // for the refresh on the wire and for its rotated token to be stored.
    void flushWaitsForTheRefreshOnTheWire()
    {
        auto *store = new RecordingStore;
        auto client = newClient(store);
        QCOMPARE(await(client->signIn(QStringLiteral("ada"), QStringLiteral("pw"))).kind(),
            AuthError::Kind::NoError);
        const QString key
            = tokenKey(QStringLiteral("oauth2"), m_server->baseUrl(), QStringLiteral("ada"));
        QCOMPARE(store->written.value(key), "R1.1");
        m_server->holdRefreshes = true;
        m_server->expireAccessTokens();
        QNetworkReply *reply = client->networkAccessManager()->get(
            QNetworkRequest(m_server->url(QStringLiteral("/api/data"))));
        QTRY_COMPARE_WITH_TIMEOUT(m_server->heldRefreshes(), 1, 5000);
        // The server has the refresh (and will rotate the token) when the app flushes to quit.
        AuthReply *flush = client->flush();
        QByteArray storedWhenFlushed;
        connect(flush, &AuthReply::finished, this,
            [&] { storedWhenFlushed = store->written.value(key); });
        QTimer::singleShot(0, this, [this] { m_server->releaseRefreshes(); });
        QCOMPARE(await(flush, 5000).kind(), AuthError::Kind::NoError);
        QCOMPARE(storedWhenFlushed, "R1.2"); // not the spent R1.1
        QVERIFY(awaitAll({ reply }, 5000));
        QCOMPARE(httpStatus(reply), 200);
        delete reply;
    }
};

QTEST_GUILESS_MAIN(TestSession)
#include "tst_session.moc"
