#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/keychaintokenstore.h>

#include "serverprocess.h"
#include "sharedrefreshlock_p.h"
#include "testhelpers.h"

#include <QElapsedTimer>
#include <QLockFile>
#include <QtTest>

#include <vector>

using namespace Latchkey;
using namespace LatchkeyTest;
using namespace std::chrono_literals;

namespace {
const QString refreshOk = QStringLiteral("latchkey_refresh_total{result=\"ok\"}");
const QString refreshReused = QStringLiteral("latchkey_refresh_total{result=\"reused\"}");
const QString refreshInvalid = QStringLiteral("latchkey_refresh_total{result=\"invalid\"}");

// What one acquire() reported.
struct Attempt
{
    bool locked = false;
    QString gaveUp; // the reason, when it gave up
    bool done() const { return locked || !gaveUp.isEmpty(); }
};

void acquire(SharedRefreshLock &lock, const QString &name, Attempt &attempt)
{
    attempt = Attempt();
    lock.acquire(
        name, [&attempt] { attempt.locked = true; },
        [&attempt](const QString &reason) { attempt.gaveUp = reason; });
}

// The OS keychain as another process of the app sees it, except that a write completes only
// when the test says so: a slow keychain (an unlock prompt, a busy daemon) while a rotated
// refresh token is on its way into it.
class HeldWriteStore : public TokenStore
{
    Q_OBJECT
public:
    HeldWriteStore()
        : m_inner(new KeychainTokenStore(this))
    { }

    void read(const QString &key, ReadCallback done) override
    {
        m_inner->read(key, std::move(done));
    }
    void write(const QString &key, const QByteArray &secret, DoneCallback done) override
    {
        if (m_holding)
            m_held.push_back({ key, secret, std::move(done) });
        else
            m_inner->write(key, secret, std::move(done));
    }
    void remove(const QString &key, DoneCallback done) override
    {
        m_inner->remove(key, std::move(done));
    }
    QString sharedName() const override { return m_inner->sharedName(); }

    void setHolding(bool holding) { m_holding = holding; }
    int heldWrites() const { return int(m_held.size()); }
    void releaseWrites()
    {
        auto held = std::move(m_held);
        m_held.clear();
        for (Write &w : held)
            m_inner->write(w.key, w.secret, std::move(w.done));
    }

private:
    struct Write
    {
        QString key;
        QByteArray secret;
        DoneCallback done;
    };
    KeychainTokenStore *m_inner;
    std::vector<Write> m_held;
    bool m_holding = false;
};
// The OS keychain, counting the reads of each entry.
class CountingStore : public TokenStore
{
    Q_OBJECT
public:
    CountingStore()
        : m_inner(new KeychainTokenStore(this))
    { }
    void read(const QString &key, ReadCallback done) override
    {
        ++reads[key];
        m_inner->read(key, std::move(done));
    }
    void write(const QString &key, const QByteArray &secret, DoneCallback done) override
    {
        m_inner->write(key, secret, std::move(done));
    }
    void remove(const QString &key, DoneCallback done) override
    {
        m_inner->remove(key, std::move(done));
    }
    QString sharedName() const override { return m_inner->sharedName(); }
    QHash<QString, int> reads;

private:
    KeychainTokenStore *m_inner;
};
} // namespace

class TestSharedLock : public QObject
{
    Q_OBJECT

    std::unique_ptr<ServerProcess> m_server;
    const SharedRefreshLock::Timing m_defaults = SharedRefreshLock::timing();
    int m_names = 0;

    // A lock of this test alone: tests run in parallel, and in other processes.
    QString uniqueName()
    {
        return QStringLiteral("tst_sharedlock %1 %2")
            .arg(QCoreApplication::applicationPid())
            .arg(++m_names);
    }

    bool startServer()
    {
        m_server = std::make_unique<ServerProcess>();
        const bool ok = m_server->start(ServerProcess::demoArgs());
        if (!ok)
            qWarning() << m_server->errorString();
        return ok;
    }

    std::unique_ptr<AuthClient> newClient(TokenStore *store = nullptr)
    {
        auto client = std::make_unique<AuthClient>(
            ServerProfile::builtin(QStringLiteral("latchkey")), m_server->baseUrl());
        if (store)
            client->setTokenStore(store);
        return client;
    }

    QNetworkReply *getBookings(AuthClient *client)
    {
        return client->networkAccessManager()->get(
            QNetworkRequest(m_server->baseUrl().resolved(QUrl(QStringLiteral("/api/bookings")))));
    }

    // A session signed in and kept in the keychain by a client that is gone: what the next
    // process of the app finds.
    bool storeSignedInSession()
    {
        auto first = newClient(new KeychainTokenStore);
        return !await(first->signIn(guest, guestPassword)).isError()
            && !await(first->flush()).isError();
    }

    static bool keyringAvailable() { return qEnvironmentVariableIsSet("DBUS_SESSION_BUS_ADDRESS"); }

private Q_SLOTS:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("Latchkey"));
        // A keychain service of this process alone: tests run in parallel and a loopback port
        // (part of every entry's key) can be reused by the next server.
        QCoreApplication::setApplicationName(
            QStringLiteral("tst_sharedlock-%1").arg(QCoreApplication::applicationPid()));
    }

    void cleanup()
    {
        SharedRefreshLock::setTiming(m_defaults);
        m_server.reset();
    }

    void neverRefreshesWithoutTheLock()
    {
        // Another process holds the refresh lock of the stored session for longer than this
        // one waits (a keychain unlock prompt under the lock takes that long). Refreshing
        // anyway could present the token the other is rotating: the server would revoke the
        // session. So the refresh does not happen, the request fails as a passing failure,
        // and the session is kept for the next request.
        QVERIFY2(keyringAvailable(), "run under tests/support/with-keyring.sh");
        QVERIFY(startServer());
        auto client = newClient(); // the OS keychain: shared by every process of the app
        QVERIFY(!await(client->signIn(guest, guestPassword)).isError());
        QVERIFY(!await(client->flush()).isError());
        const QByteArray stored = storedRefreshToken(client.get(), guest);
        QVERIFY(!stored.isEmpty());

        const QString lockName = client->tokenStore()->sharedName() + QLatin1Char('\n')
            + tokenKey(client->profile().name(), client->baseUrl(), guest);
        QLockFile otherProcess(SharedRefreshLock::lockPath(lockName));
        QVERIFY(otherProcess.tryLock(0));
        SharedRefreshLock::Timing timing;
        timing.waitLimit = 300ms;
        SharedRefreshLock::setTiming(timing);

        QSignalSpy failed(client.get(), &AuthClient::refreshFailed);
        QSignalSpy expired(client.get(), &AuthClient::sessionExpired);
        QCOMPARE(m_server->hook(QStringLiteral("/test/expire-access-tokens")), 204);
        QNetworkReply *reply = getBookings(client.get());
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(m_server->metric(refreshOk), 0.0);
        QCOMPARE(m_server->metric(refreshInvalid), 0.0);
        QCOMPARE(m_server->metric(refreshReused), 0.0);
        QCOMPARE(reply->error(), QNetworkReply::TemporaryNetworkFailureError);
        const AuthError error = AuthorizedNetworkAccessManager::authError(reply);
        QCOMPARE(error.kind(), AuthError::Kind::Network);
        QVERIFY2(error.message().contains(QLatin1String("another process is refreshing")),
            qPrintable(error.message()));
        delete reply;
        QCOMPARE(failed.size(), 1);
        QCOMPARE(expired.size(), 0);
        QCOMPARE(client->state(), AuthClient::State::SignedIn);
        QCOMPARE(storedRefreshToken(client.get(), guest), stored);

        // The other process is done: the next request refreshes, once.
        otherProcess.unlock();
        reply = getBookings(client.get());
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(httpStatus(reply), 200);
        delete reply;
        QCOMPARE(m_server->metric(refreshOk), 1.0);
        QCOMPARE(m_server->metric(refreshReused), 0.0);
        QVERIFY(!await(client->signOut()).isError());
    }

    void liveHolderIsNotOvertaken()
    {
        // A holder whose event loop runs keeps its lock however long it holds it (a refresh
        // whose rotated token waits for a keychain prompt), even past the stale time.
        SharedRefreshLock::Timing timing;
        timing.heartbeat = 50ms;
        timing.staleAfter = 1000ms;
        timing.waitLimit = 3000ms; // the second acquirer waits three stale times
        SharedRefreshLock::setTiming(timing);
        const QString name = uniqueName();

        SharedRefreshLock holder;
        Attempt held;
        acquire(holder, name, held);
        QTRY_VERIFY(held.locked);
        QElapsedTimer holding;
        holding.start();

        SharedRefreshLock second;
        Attempt waited;
        acquire(second, name, waited);
        QTRY_VERIFY_WITH_TIMEOUT(waited.done(), 30000);
        QVERIFY(holding.elapsed() > timing.staleAfter.count());
        QVERIFY2(!waited.locked, "a live holder was overtaken (or the lock was not waited for)");
        QVERIFY2(waited.gaveUp.contains(QLatin1String("another process is refreshing")),
            qPrintable(waited.gaveUp));
        QVERIFY(holder.isHeld());
        QVERIFY(!second.isBusy());

        holder.release();
        acquire(second, name, waited);
        QTRY_VERIFY(waited.done());
        QVERIFY(waited.locked);
        QVERIFY(second.isHeld());
    }

    void stoppedHolderIsOvertaken()
    {
        // A holder that stopped (frozen, suspended, in a debugger) no longer refreshes its
        // lock: after the stale time the next one takes it over instead of waiting for ever;
        // and the stopped one, when it lets go, leaves the new holder's lock alone.
        SharedRefreshLock::Timing timing;
        timing.heartbeat = 1h; // never beats during this test: its event loop "stopped"
        timing.staleAfter = 300ms;
        timing.waitLimit = 10s;
        SharedRefreshLock::setTiming(timing);
        const QString name = uniqueName();
        const QString path = SharedRefreshLock::lockPath(name);

        SharedRefreshLock stopped;
        Attempt first;
        acquire(stopped, name, first);
        QTRY_VERIFY(first.locked);

        SharedRefreshLock next;
        Attempt second;
        acquire(next, name, second);
        QTRY_VERIFY_WITH_TIMEOUT(second.done(), 30000);
        QVERIFY2(second.locked, qPrintable(second.gaveUp));
        QVERIFY(next.isHeld());
        QVERIFY(!stopped.isHeld());

        stopped.release();
        QVERIFY(QFile::exists(path));
        QVERIFY(next.isHeld());
        next.release();
        QVERIFY(!QFile::exists(path));
    }

    void releaseNeverRemovesAnotherProcesssLock()
    {
        // The lock file was taken over while held (removed by hand or by a cleaner, or by a
        // process that judged this one stopped) and another process holds the new one.
        // Letting go, or being destroyed, must not remove that process's lock.
        const QString name = uniqueName();
        const QString path = SharedRefreshLock::lockPath(name);
        for (const bool destroy : { false, true }) {
            auto first = std::make_unique<SharedRefreshLock>();
            Attempt attempt;
            acquire(*first, name, attempt);
            QTRY_VERIFY(attempt.locked);

            QVERIFY(QFile::remove(path));
            QLockFile otherProcess(path);
            QVERIFY(otherProcess.tryLock(0));
            QVERIFY(!first->isHeld());

            if (destroy)
                first.reset();
            else
                first->release();
            QVERIFY2(QFile::exists(path), "letting go removed another process's lock file");
            qint64 pid = 0;
            QVERIFY(otherProcess.getLockInfo(&pid, nullptr, nullptr));
            QCOMPARE(pid, QCoreApplication::applicationPid());

            // And it still is a lock: nobody else gets it until its holder lets go.
            SharedRefreshLock::Timing timing;
            timing.waitLimit = 200ms;
            SharedRefreshLock::setTiming(timing);
            SharedRefreshLock third;
            acquire(third, name, attempt);
            QTRY_VERIFY(attempt.done());
            QVERIFY(!attempt.locked);
            otherProcess.unlock();
            acquire(third, name, attempt);
            QTRY_VERIFY(attempt.done());
            QVERIFY(attempt.locked);
            third.release();
            SharedRefreshLock::setTiming(m_defaults);
        }
    }

    void restoreReadsTheStoredTokenOnce()
    {
        // A keychain read takes milliseconds. A restore takes the refresh lock before it reads
        // the stored token, so the refresh uses what it read and does not read it again.
        QVERIFY2(keyringAvailable(), "run under tests/support/with-keyring.sh");
        QVERIFY(startServer());
        QVERIFY(storeSignedInSession());
        auto *store = new CountingStore;
        auto restored = newClient(store);
        QVERIFY(!await(restored->restore()).isError());
        QCOMPARE(restored->state(), AuthClient::State::SignedIn);
        QVERIFY(!store->reads.isEmpty());
        for (auto it = store->reads.cbegin(); it != store->reads.cend(); ++it)
            QVERIFY2(it.value() == 1,
                qPrintable(it.key() + QStringLiteral(" read %1 times").arg(it.value())));
        QNetworkReply *reply = getBookings(restored.get());
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(httpStatus(reply), 200);
        delete reply;
        QVERIFY(!await(restored->signOut()).isError());
    }

    void clientsRestoringTogetherNeverPresentASpentToken()
    {
        // Two processes of one app start at the same moment and restore the same stored
        // session from a server that rotates refresh tokens and treats a reused one as theft:
        // the second refreshes with the token the first stored, never with the one both read.
        QVERIFY2(keyringAvailable(), "run under tests/support/with-keyring.sh");
        QVERIFY(startServer());
        QVERIFY(storeSignedInSession());
        const double before = m_server->metric(refreshOk);
        auto a = newClient(new KeychainTokenStore);
        auto b = newClient(new KeychainTokenStore);
        AuthReply *ra = a->restore();
        AuthReply *rb = b->restore();
        QCOMPARE(await(ra), AuthError());
        QCOMPARE(await(rb), AuthError());
        QCOMPARE(m_server->metric(refreshOk) - before, 2.0);
        QCOMPARE(m_server->metric(refreshReused), 0.0);
        QNetworkReply *fromA = getBookings(a.get());
        QNetworkReply *fromB = getBookings(b.get());
        QVERIFY(awaitAll({ fromA, fromB }));
        QCOMPARE(httpStatus(fromA), 200);
        QCOMPARE(httpStatus(fromB), 200);
        delete fromA;
        delete fromB;
        QVERIFY(!await(b->flush()).isError());
        QVERIFY(!await(b->signOut()).isError());
    }

    void twoProcessesRefreshingTogetherKeepTheSession()
    {
        // Two processes of one app (two clients here: the lock is per file, so they meet the
        // same way) share the stored session of a server that rotates refresh tokens and treats
        // a reused one as theft. Both need a refresh at the same moment while the keychain
        // takes its time to store the rotated token. Neither may ever present a spent token.
        QVERIFY2(keyringAvailable(), "run under tests/support/with-keyring.sh");
        QVERIFY(startServer());
        auto *storeA = new HeldWriteStore;
        auto *storeB = new HeldWriteStore;
        auto a = newClient(storeA);
        auto b = newClient(storeB);
        QVERIFY(!await(a->signIn(guest, guestPassword)).isError());
        QVERIFY(!await(a->flush()).isError());
        QVERIFY(!await(b->restore()).isError()); // rotates: a's token in memory is spent now
        QVERIFY(!await(b->flush()).isError());
        QCOMPARE(m_server->metric(refreshOk), 1.0);

        // From now on a write to the keychain completes when the test says so; waiting for the
        // lock ends sooner than that.
        storeA->setHolding(true);
        storeB->setHolding(true);
        SharedRefreshLock::Timing timing;
        timing.waitLimit = 500ms;
        SharedRefreshLock::setTiming(timing);

        QCOMPARE(m_server->hook(QStringLiteral("/test/expire-access-tokens")), 204);
        QNetworkReply *ra = getBookings(a.get());
        QNetworkReply *rb = getBookings(b.get());
        QVERIFY(awaitAll({ ra, rb }));
        QCOMPARE(m_server->metric(refreshReused), 0.0);
        QCOMPARE(m_server->metric(refreshOk), 2.0);
        QCOMPARE(storeA->heldWrites() + storeB->heldWrites(), 1); // the rotated token waits
        // One refreshed; the other gave up waiting for the lock, and kept its session.
        const bool aRefreshed = httpStatus(ra) == 200;
        QNetworkReply *waited = aRefreshed ? rb : ra;
        QCOMPARE(httpStatus(aRefreshed ? ra : rb), 200);
        QCOMPARE(waited->error(), QNetworkReply::TemporaryNetworkFailureError);
        QCOMPARE(
            AuthorizedNetworkAccessManager::authError(waited).kind(), AuthError::Kind::Network);
        AuthClient *waiter = aRefreshed ? b.get() : a.get();
        delete ra;
        delete rb;
        QCOMPARE(a->state(), AuthClient::State::SignedIn);
        QCOMPARE(b->state(), AuthClient::State::SignedIn);

        // It tries again (waiting as long as it takes now): the store answers, the lock is
        // free, it reads the token the other stored and refreshes with it.
        SharedRefreshLock::setTiming(m_defaults);
        QNetworkReply *again = getBookings(waiter);
        storeA->releaseWrites();
        storeB->releaseWrites();
        QVERIFY(awaitAll({ again }));
        QCOMPARE(httpStatus(again), 200);
        delete again;
        QCOMPARE(m_server->metric(refreshOk), 3.0);
        QCOMPARE(m_server->metric(refreshReused), 0.0);

        // Both at once once more, each write released only when the test says so: the second
        // waits for the first's token to be stored, then refreshes with it.
        QTRY_COMPARE(storeA->heldWrites() + storeB->heldWrites(), 1);
        storeA->releaseWrites();
        storeB->releaseWrites();
        QCOMPARE(m_server->hook(QStringLiteral("/test/expire-access-tokens")), 204);
        ra = getBookings(a.get());
        rb = getBookings(b.get());
        QTRY_COMPARE(storeA->heldWrites() + storeB->heldWrites(), 1);
        storeA->releaseWrites();
        storeB->releaseWrites();
        QTRY_COMPARE(storeA->heldWrites() + storeB->heldWrites(), 1);
        storeA->releaseWrites();
        storeB->releaseWrites();
        QVERIFY(awaitAll({ ra, rb }));
        QCOMPARE(httpStatus(ra), 200);
        QCOMPARE(httpStatus(rb), 200);
        delete ra;
        delete rb;

        storeA->setHolding(false);
        storeB->setHolding(false);
        QVERIFY(!await(a->flush()).isError());
        QVERIFY(!await(b->flush()).isError());
        QCOMPARE(m_server->metric(refreshOk), 5.0);
        QCOMPARE(m_server->metric(refreshReused), 0.0);
        QCOMPARE(m_server->metric(refreshInvalid), 0.0);
        QCOMPARE(a->state(), AuthClient::State::SignedIn);
        QCOMPARE(b->state(), AuthClient::State::SignedIn);
        for (AuthClient *client : { a.get(), b.get() }) {
            QNetworkReply *reply = getBookings(client);
            QVERIFY(awaitAll({ reply }));
            QCOMPARE(httpStatus(reply), 200);
            delete reply;
        }
        QVERIFY(!await(a->signOut()).isError());
    }
};

QTEST_GUILESS_MAIN(TestSharedLock)
#include "tst_sharedlock.moc"
