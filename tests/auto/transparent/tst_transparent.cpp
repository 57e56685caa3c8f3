#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/memorytokenstore.h>

#include "scriptedserver.h"
#include "serverprocess.h"
#include "testhelpers.h"

#include <QAtomicInt>
#include <QRandomGenerator>
#include <QThread>
#include <QtTest>

using namespace Latchkey;
using namespace LatchkeyTest;
using namespace std::chrono_literals;

namespace {
const QString refreshOk = QStringLiteral("latchkey_refresh_total{result=\"ok\"}");
const QString refreshInjected = QStringLiteral("latchkey_refresh_total{result=\"injected\"}");
const QString unauthorized = QStringLiteral("latchkey_unauthorized_total");

// Issues \a count GETs from a manager of its own on a thread of its own.
class Worker : public QObject
{
public:
    Worker(AuthClient *client, QUrl url, int count, QAtomicInt *ok, QAtomicInt *done)
        : m_client(client)
        , m_url(std::move(url))
        , m_count(count)
        , m_ok(ok)
        , m_done(done)
    { }
    void run()
    {
        auto *nam = new AuthorizedNetworkAccessManager(m_client, this);
        for (int i = 0; i < m_count; ++i) {
            QNetworkReply *reply = nam->get(QNetworkRequest(m_url));
            connect(reply, &QNetworkReply::finished, this, [this, reply] {
                if (reply->error() == QNetworkReply::NoError && httpStatus(reply) == 200)
                    m_ok->ref();
                m_done->ref();
                reply->deleteLater();
            });
        }
    }

private:
    AuthClient *m_client;
    QUrl m_url;
    int m_count;
    QAtomicInt *m_ok;
    QAtomicInt *m_done;
};
} // namespace

class TestTransparent : public QObject
{
    Q_OBJECT

    std::unique_ptr<ServerProcess> m_server;
    std::unique_ptr<AuthClient> m_client;

    QUrl api(const QString &path) const { return m_server->baseUrl().resolved(QUrl(path)); }

    bool startSignedIn(const QStringList &serverArgs = {})
    {
        m_server = std::make_unique<ServerProcess>();
        if (!m_server->start(ServerProcess::demoArgs() + serverArgs)) {
            qWarning() << m_server->errorString();
            return false;
        }
        m_client = std::make_unique<AuthClient>(
            ServerProfile::builtin(QStringLiteral("latchkey")), m_server->baseUrl());
        m_client->setTokenStore(new MemoryTokenStore);
        const AuthError error = await(m_client->signIn(guest, guestPassword));
        if (error.isError())
            qWarning() << error.toString();
        return !error.isError();
    }

private Q_SLOTS:
    void cleanup()
    {
        m_client.reset();
        m_server.reset();
    }

    void stormOfFiftyCausesOneRefresh()
    {
        QVERIFY(startSignedIn());
        QSignalSpy refreshed(m_client.get(), &AuthClient::tokenRefreshed);
        const double before = m_server->metric(refreshOk);
        QCOMPARE(m_server->hook(QStringLiteral("/test/expire-access-tokens")), 204);

        QList<QNetworkReply *> replies;
        for (int i = 0; i < 50; ++i)
            replies << m_client->networkAccessManager()->get(
                QNetworkRequest(api(QStringLiteral("/api/bookings"))));
        QVERIFY(awaitAll(replies));
        for (QNetworkReply *reply : replies) {
            QCOMPARE(reply->error(), QNetworkReply::NoError);
            QCOMPARE(httpStatus(reply), 200);
            QVERIFY(reply->readAll().contains("bookings"));
        }
        QCOMPARE(m_server->metric(refreshOk) - before, 1.0);
        QCOMPARE(refreshed.size(), 1);
        QCOMPARE(refreshed.at(0).at(0).value<AuthClient::RefreshReason>(),
            AuthClient::RefreshReason::Unauthorized);
        qDeleteAll(replies);
    }

    void queuedRequestsWaitInsteadOfCollecting401s()
    {
        // A token the server refuses while 200 GETs queue behind Qt's six connections: the
        // first 401 holds back those not yet sent, so they wait for the one refresh instead of
        // each collecting a 401 and a replay (docs/benchmarks.md, storm).
        QVERIFY(startSignedIn());
        const double before = m_server->metric(refreshOk);
        const double before401 = m_server->metric(unauthorized);
        QCOMPARE(m_server->hook(QStringLiteral("/test/expire-access-tokens")), 204);
        QList<QNetworkReply *> replies;
        for (int i = 0; i < 200; ++i) {
            replies << m_client->networkAccessManager()->get(
                QNetworkRequest(api(QStringLiteral("/api/ping"))));
        }
        QVERIFY(awaitAll(replies));
        for (QNetworkReply *reply : replies)
            QCOMPARE(httpStatus(reply), 200);
        QCOMPARE(m_server->metric(refreshOk) - before, 1.0);
        const double refused = m_server->metric(unauthorized) - before401;
        QVERIFY2(refused >= 1 && refused < 200, qPrintable(QString::number(refused)));
        qDeleteAll(replies);
    }

    void refusedTokenReachesTheServerAtMostTwiceTheConnections()
    {
        // Qt sends six requests at a time to one host and queues the rest in its network
        // thread, each with the token it was made with. The manager hands Qt at most twelve
        // (RequestGate): when the server refuses the token, at most those twelve meet a 401,
        // however many the application made at once, and one refresh serves all 300.
        QVERIFY(startSignedIn());
        const double before = m_server->metric(refreshOk);
        const double before401 = m_server->metric(unauthorized);
        QCOMPARE(m_server->hook(QStringLiteral("/test/expire-access-tokens")), 204);
        QList<QNetworkReply *> replies;
        for (int i = 0; i < 300; ++i) {
            replies << m_client->networkAccessManager()->get(
                QNetworkRequest(api(QStringLiteral("/api/ping"))));
        }
        QVERIFY(awaitAll(replies));
        for (QNetworkReply *reply : replies)
            QCOMPARE(httpStatus(reply), 200);
        QCOMPARE(m_server->metric(refreshOk) - before, 1.0);
        const double refused = m_server->metric(unauthorized) - before401;
        QVERIFY2(refused >= 1 && refused <= 12, qPrintable(QString::number(refused)));
        qDeleteAll(replies);
    }

    void refusedTokenCostsPostsNoMoreThanGets()
    {
        // POSTs cannot be withdrawn once Qt has them (one may already be at the server); those
        // the manager has not handed Qt yet wait for the refresh, body and all.
        QVERIFY(startSignedIn());
        const double before401 = m_server->metric(unauthorized);
        QCOMPARE(m_server->hook(QStringLiteral("/test/expire-access-tokens")), 204);
        QList<QNetworkReply *> replies;
        for (int i = 0; i < 100; ++i) {
            QNetworkRequest request(api(QStringLiteral("/api/echo")));
            request.setHeader(
                QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/octet-stream"));
            replies << m_client->networkAccessManager()->post(
                request, QByteArray("body ") + QByteArray::number(i));
        }
        QVERIFY(awaitAll(replies));
        for (int i = 0; i < replies.size(); ++i) {
            QCOMPARE(httpStatus(replies.at(i)), 200);
            const QByteArray body = QByteArray("body ") + QByteArray::number(i);
            QVERIFY(replies.at(i)->readAll().contains(body));
        }
        const double refused = m_server->metric(unauthorized) - before401;
        QVERIFY2(refused >= 1 && refused <= 12, qPrintable(QString::number(refused)));
        qDeleteAll(replies);
    }

    void postBodyIsReplayedByteForByte()
    {
        QVERIFY(startSignedIn());
        QByteArray body(300 * 1024, Qt::Uninitialized);
        for (char &c : body)
            c = char(QRandomGenerator::global()->bounded(256));
        QCOMPARE(m_server->hook(QStringLiteral("/test/expire-access-tokens")), 204);
        const double before401 = m_server->metric(unauthorized);

        QNetworkRequest request(api(QStringLiteral("/api/echo")));
        request.setHeader(
            QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/octet-stream"));
        QNetworkReply *reply = m_client->networkAccessManager()->post(request, body);
        QSignalSpy metaData(reply, &QNetworkReply::metaDataChanged);
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(reply->error(), QNetworkReply::NoError);
        QCOMPARE(httpStatus(reply), 200);
        QCOMPARE(metaData.size(), 1); // the caller never saw the 401
        const QByteArray echoed = reply->readAll();
        QCOMPARE(echoed.size(), body.size());
        QVERIFY(echoed == body);
        QCOMPARE(m_server->metric(unauthorized) - before401, 1.0); // it did meet one 401
        delete reply;
    }

    void replaysAtMostOnce()
    {
        // A server that keeps saying 401 even to the new token: one refresh, one replay, then
        // the caller sees the 401. No loop.
        ScriptedServer server;
        int tokenNumber = 0;
        server.on(QStringLiteral("/api/auth/login"), [&](const QHttpServerRequest &) {
            return ScriptedServer::json(
                R"({"access_token":"a0","refresh_token":"r0","expires_in":900})");
        });
        server.on(QStringLiteral("/api/auth/refresh"), [&](const QHttpServerRequest &) {
            ++tokenNumber;
            return ScriptedServer::json("{\"access_token\":\"a" + QByteArray::number(tokenNumber)
                + "\",\"refresh_token\":\"r1\",\"expires_in\":900}");
        });
        server.on(QStringLiteral("/api/data"), [](const QHttpServerRequest &) {
            return ScriptedServer::json(R"({"message":"no"})", 401);
        });
        QVERIFY(server.listen());
        AuthClient client(ServerProfile::builtin(QStringLiteral("latchkey")), server.baseUrl());
        client.setTokenStore(new MemoryTokenStore);
        QVERIFY(!await(client.signIn(guest, guestPassword)).isError());

        QNetworkReply *reply = client.networkAccessManager()->get(
            QNetworkRequest(server.url(QStringLiteral("/api/data"))));
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(httpStatus(reply), 401);
        QCOMPARE(reply->error(), QNetworkReply::AuthenticationRequiredError);
        QCOMPARE(server.count(QStringLiteral("/api/data")), 2);
        QCOMPARE(server.count(QStringLiteral("/api/auth/refresh")), 1);
        QCOMPARE(client.state(),
            AuthClient::State::SignedIn); // a refused resource is not a dead session
        delete reply;
    }

    void proactiveRefreshAvoidsUnauthorized()
    {
        QVERIFY(startSignedIn({ QStringLiteral("--access-ttl"), QStringLiteral("2") }));
        // Test hook: refresh 1.5 s before expiry, i.e. 0.5 s after each new token.
        m_client->setRefreshLeadTime(1500ms);
        QVERIFY(!await(m_client->signIn(guest, guestPassword)).isError());
        QSignalSpy refreshed(m_client.get(), &AuthClient::tokenRefreshed);
        const QDateTime firstExpiry = m_client->expiresAt();
        QVERIFY(refreshed.wait(10000));
        QCOMPARE(refreshed.at(0).at(0).value<AuthClient::RefreshReason>(),
            AuthClient::RefreshReason::Proactive);
        QVERIFY(m_client->expiresAt() > firstExpiry);
        QNetworkReply *reply = m_client->networkAccessManager()->get(
            QNetworkRequest(api(QStringLiteral("/api/bookings"))));
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(httpStatus(reply), 200);
        QCOMPARE(m_server->metric(unauthorized), 0.0);
        delete reply;
    }

    void passingRefreshFailureKeepsTheSession()
    {
        QVERIFY(startSignedIn());
        m_client->setRefreshRetry(4, 10ms);
        QSignalSpy expired(m_client.get(), &AuthClient::sessionExpired);
        QSignalSpy failed(m_client.get(), &AuthClient::refreshFailed);
        QSignalSpy retrying(m_client.get(), &AuthClient::refreshRetrying);

        // Two 503s, then the third attempt succeeds: invisible to the caller.
        QCOMPARE(
            m_server->hook(QStringLiteral("/test/fail-refresh"), R"({"status":503,"count":2})"),
            204);
        QCOMPARE(m_server->hook(QStringLiteral("/test/expire-access-tokens")), 204);
        QNetworkReply *reply = m_client->networkAccessManager()->get(
            QNetworkRequest(api(QStringLiteral("/api/bookings"))));
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(httpStatus(reply), 200);
        QCOMPARE(m_server->metric(refreshInjected), 2.0);
        QCOMPARE(failed.size(), 0);
        QCOMPARE(retrying.size(), 2); // each failed attempt is announced, with its number
        QCOMPARE(retrying.at(0).at(0).value<AuthError>().kind(), AuthError::Kind::Server);
        QCOMPARE(retrying.at(1).at(1).toInt(), 2);
        QVERIFY(retrying.at(1).at(2).toInt() >= 0);
        retrying.clear();
        delete reply;

        // More failures than attempts: the request fails with a Server error, the session stays.
        m_client->setRefreshRetry(2, 10ms);
        QCOMPARE(
            m_server->hook(QStringLiteral("/test/fail-refresh"), R"({"status":503,"count":2})"),
            204);
        QCOMPARE(m_server->hook(QStringLiteral("/test/expire-access-tokens")), 204);
        reply = m_client->networkAccessManager()->get(
            QNetworkRequest(api(QStringLiteral("/api/bookings"))));
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(reply->error(), QNetworkReply::ServiceUnavailableError);
        QCOMPARE(AuthorizedNetworkAccessManager::authError(reply).kind(), AuthError::Kind::Server);
        QCOMPARE(failed.size(), 1);
        QCOMPARE(expired.size(), 0);
        QCOMPARE(retrying.size(), 1); // the last attempt is not retried: refreshFailed says so
        QCOMPARE(m_client->state(), AuthClient::State::SignedIn);
        delete reply;

        // The server is back: the next request refreshes and succeeds.
        reply = m_client->networkAccessManager()->get(
            QNetworkRequest(api(QStringLiteral("/api/bookings"))));
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(httpStatus(reply), 200);
        delete reply;
    }

    void threadsShareOneRefresh()
    {
        QVERIFY(startSignedIn());
        const double before = m_server->metric(refreshOk);
        QCOMPARE(m_server->hook(QStringLiteral("/test/expire-access-tokens")), 204);
        QAtomicInt ok, done;
        std::vector<std::unique_ptr<QThread>> threads;
        for (int t = 0; t < 4; ++t) {
            auto thread = std::make_unique<QThread>();
            auto *worker
                = new Worker(m_client.get(), api(QStringLiteral("/api/ping")), 25, &ok, &done);
            worker->moveToThread(thread.get());
            connect(thread.get(), &QThread::started, worker, [worker] { worker->run(); });
            connect(thread.get(), &QThread::finished, worker, &QObject::deleteLater);
            thread->start();
            threads.push_back(std::move(thread));
        }
        QTRY_COMPARE_WITH_TIMEOUT(done.loadRelaxed(), 100, 60000);
        QCOMPARE(ok.loadRelaxed(), 100);
        QCOMPARE(m_server->metric(refreshOk) - before, 1.0);
        for (auto &thread : threads) {
            thread->quit();
            thread->wait();
        }
    }

    void requestsDuringRestoreWaitForIt()
    {
        QVERIFY(startSignedIn());
        auto *store = new MemoryTokenStore;
        auto *first = m_client.get();
        // Hand the stored session to a second client, as a new process would find it.
        const QByteArray rt = storedRefreshToken(first, guest);
        QVERIFY(!rt.isEmpty());
        AuthClient second(ServerProfile::builtin(QStringLiteral("latchkey")), m_server->baseUrl());
        second.setTokenStore(store);
        bool written = false;
        store->write(tokenKey(QStringLiteral("latchkey"), m_server->baseUrl(), guest), rt,
            [&](const AuthError &) { written = true; });
        store->write(lastIdentityKey(QStringLiteral("latchkey"), m_server->baseUrl()),
            guest.toUtf8(), [&](const AuthError &) {});
        QTRY_VERIFY(written);
        const double before = m_server->metric(refreshOk);

        AuthReply *restore = second.restore();
        QList<QNetworkReply *> replies;
        for (int i = 0; i < 5; ++i)
            replies << second.networkAccessManager()->get(
                QNetworkRequest(api(QStringLiteral("/api/bookings"))));
        QVERIFY(!await(restore).isError());
        QVERIFY(awaitAll(replies));
        for (QNetworkReply *reply : replies)
            QCOMPARE(httpStatus(reply), 200);
        QCOMPARE(m_server->metric(refreshOk) - before, 1.0);
        QCOMPARE(m_server->metric(unauthorized), 0.0);
        qDeleteAll(replies);
    }

    void signedOutManagerSendsNoToken()
    {
        QVERIFY(startSignedIn());
        QVERIFY(!await(m_client->signOut()).isError());
        QCOMPARE(m_client->state(), AuthClient::State::SignedOut);
        QNetworkReply *reply = m_client->networkAccessManager()->get(
            QNetworkRequest(api(QStringLiteral("/api/bookings"))));
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(httpStatus(reply), 401); // passed through, no token, no refresh attempt
        QCOMPARE(m_server->metric(refreshOk), 0.0);
        delete reply;
    }
};

QTEST_GUILESS_MAIN(TestTransparent)
#include "tst_transparent.moc"
