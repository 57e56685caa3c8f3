#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/memorytokenstore.h>

#include "heldanswers.h"
#include "testhelpers.h"
#include "tokenserver.h"

#include <QTcpServer>
#include <QTcpSocket>
#include <QtTest>

#include <memory>
#include <vector>

using namespace Latchkey;
using namespace LatchkeyTest;

namespace {
// A store whose reads answer only when the test says (a keychain reading slowly).
class SlowStore : public MemoryTokenStore
{
public:
    void read(const QString &, ReadCallback done) override { held.append(std::move(done)); }
    QList<ReadCallback> held;
};
} // namespace

// An authorized manager hands Qt at most twelve requests to the API's origin at a time (twice
// Qt's six connections to one host); the others wait in the manager, in order of priority and
// arrival, and take the token that is current when their turn comes. A 401 storm then costs at
// most twelve 401s (tests/auto/transparent), and nothing about waiting there may differ from
// waiting in Qt's own queue: the transfer timeout bounds it, abort() ends it, a deleted manager
// sends nothing more.
class TestRequestGate : public QObject
{
    Q_OBJECT

    static constexpr int width = 12;

    std::unique_ptr<TokenServer> m_server;
    std::unique_ptr<AuthClient> m_client;
    // /api/hold answers only when released; /api/seen answers at once. Both record the order.
    HeldAnswers m_held;
    QStringList m_order;
    QList<QByteArray> m_authorizations;
    QByteArray m_heldAuthorization;

    bool start()
    {
        m_server = std::make_unique<TokenServer>();
        m_server->scripted().onDeferred(QStringLiteral("/api/hold"),
            [this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
                m_order << request.url().query();
                if (m_heldAuthorization.isEmpty()) // the first: on the wire before any refresh
                    m_heldAuthorization = request.value(QByteArrayLiteral("Authorization"));
                m_held.hold(std::move(responder));
            });
        m_server->scripted().on(QStringLiteral("/api/seen"), [this](const QHttpServerRequest &r) {
            m_order << r.url().query();
            m_authorizations << r.value(QByteArrayLiteral("Authorization"));
            return ScriptedServer::json("{}");
        });
        if (!m_server->listen())
            return false;
        m_client = std::make_unique<AuthClient>(TokenServer::profile(), m_server->baseUrl());
        m_client->setTokenStore(new MemoryTokenStore);
        return !await(m_client->signIn(QStringLiteral("ada"), QStringLiteral("pw"))).isError();
    }

    QNetworkReply *get(AuthorizedNetworkAccessManager *nam, const QString &path, const QString &tag,
        QNetworkRequest::Priority priority = QNetworkRequest::NormalPriority)
    {
        QUrl url = m_server->url(path);
        url.setQuery(tag);
        QNetworkRequest request(url);
        request.setPriority(priority);
        return nam->get(request);
    }

    static bool allFinished(const QList<QNetworkReply *> &replies)
    {
        return std::all_of(replies.begin(), replies.end(),
            [](const QNetworkReply *reply) { return reply->isFinished(); });
    }

    // Fills the gate with requests the server holds: six on the wire, six in Qt's queue.
    QList<QNetworkReply *> fill(AuthorizedNetworkAccessManager *nam)
    {
        QList<QNetworkReply *> replies;
        for (int i = 0; i < width; ++i)
            replies << get(nam, QStringLiteral("/api/hold"), QStringLiteral("hold%1").arg(i));
        return replies;
    }

private Q_SLOTS:
    void cleanup()
    {
        m_held.release();
        m_client.reset();
        m_server.reset();
        m_held.clear();
        m_order.clear();
        m_authorizations.clear();
    }

    void requestsBeyondTheGateWaitAndAllSucceed()
    {
        QVERIFY(start());
        auto *nam = m_client->networkAccessManager();
        QList<QNetworkReply *> replies = fill(nam);
        for (int i = 0; i < 20; ++i)
            replies << get(nam, QStringLiteral("/api/seen"), QStringLiteral("w%1").arg(i));
        QTRY_COMPARE(int(m_held.size()), 6); // Qt's six connections
        QVERIFY(m_order.filter(QStringLiteral("w")).isEmpty());
        m_held.release(); // the six on the wire; Qt sends its six queued, then the waiting ones go
        QTRY_COMPARE(int(m_held.size()), 6);
        m_held.release();
        QVERIFY(awaitAll(replies));
        for (QNetworkReply *reply : replies)
            QCOMPARE(reply->error(), QNetworkReply::NoError);
        QCOMPARE(m_order.filter(QStringLiteral("w")).size(), 20);
        qDeleteAll(replies);
    }

    void requestWaitingForItsTurnEndsAtItsTransferTimeout()
    {
        QVERIFY(start());
        auto *nam = m_client->networkAccessManager();
        QList<QNetworkReply *> held = fill(nam);
        QUrl url = m_server->url(QStringLiteral("/api/seen"));
        url.setQuery(QStringLiteral("late"));
        QNetworkRequest request(url);
        request.setTransferTimeout(200);
        std::unique_ptr<QNetworkReply> late(nam->get(request));
        QSignalSpy finished(late.get(), &QNetworkReply::finished);
        QVERIFY(finished.wait(10000));
        // As Qt's own reply ends when its transfer timer fires.
        QCOMPARE(late->error(), QNetworkReply::OperationCanceledError);
        QVERIFY(!m_order.contains(QStringLiteral("late")));
        m_held.release();
        QTRY_COMPARE(int(m_held.size()), 6);
        m_held.release();
        QVERIFY(awaitAll(held));
        QVERIFY(!m_order.contains(QStringLiteral("late")));
        qDeleteAll(held);
    }

    void abortedWaitingRequestNeverReachesTheServer()
    {
        QVERIFY(start());
        auto *nam = m_client->networkAccessManager();
        QList<QNetworkReply *> held = fill(nam);
        std::unique_ptr<QNetworkReply> aborted(
            get(nam, QStringLiteral("/api/seen"), QStringLiteral("aborted")));
        std::unique_ptr<QNetworkReply> after(
            get(nam, QStringLiteral("/api/seen"), QStringLiteral("after")));
        QSignalSpy errors(aborted.get(), &QNetworkReply::errorOccurred);
        aborted->abort();
        QVERIFY(aborted->isFinished());
        QCOMPARE(aborted->error(), QNetworkReply::OperationCanceledError);
        QCOMPARE(errors.size(), 1);
        QTRY_COMPARE(int(m_held.size()), 6);
        m_held.release();
        QTRY_COMPARE(int(m_held.size()), 6);
        m_held.release();
        QVERIFY(awaitAll({ after.get() }));
        QCOMPARE(after->error(), QNetworkReply::NoError);
        QVERIFY(awaitAll(held));
        QVERIFY(!m_order.contains(QStringLiteral("aborted")));
        qDeleteAll(held);
    }

    void managerDeletedWithWaitingRequestsSendsNothing()
    {
        QVERIFY(start());
        auto *nam = new AuthorizedNetworkAccessManager(m_client.get());
        fill(nam);
        QList<QPointer<QNetworkReply>> waiting;
        for (int i = 0; i < 5; ++i)
            waiting << get(nam, QStringLiteral("/api/seen"), QStringLiteral("w%1").arg(i));
        QTRY_COMPARE(int(m_held.size()), 6);
        delete nam; // its replies go with it, the waiting ones too
        for (const QPointer<QNetworkReply> &reply : waiting)
            QVERIFY(!reply);
        m_held.release();
        // The client's other manager still works, and nothing of the deleted one went out.
        std::unique_ptr<QNetworkReply> other(get(
            m_client->networkAccessManager(), QStringLiteral("/api/seen"), QStringLiteral("x")));
        QVERIFY(awaitAll({ other.get() }));
        QCOMPARE(other->error(), QNetworkReply::NoError);
        QCOMPARE(m_order.filter(QStringLiteral("w")).size(), 0);
    }

    void highPriorityRequestGoesBeforeThoseWaiting()
    {
        QVERIFY(start());
        auto *nam = m_client->networkAccessManager();
        QList<QNetworkReply *> replies = fill(nam);
        for (int i = 0; i < 3; ++i)
            replies << get(nam, QStringLiteral("/api/seen"), QStringLiteral("normal%1").arg(i));
        replies << get(nam, QStringLiteral("/api/seen"), QStringLiteral("high"),
            QNetworkRequest::HighPriority);
        QTRY_COMPARE(int(m_held.size()), 6);
        // One answer frees one connection (Qt sends a held request from its queue) and one
        // slot of the gate: the high-priority request, made last, takes it. The next answer
        // frees another connection, and Qt (its own queue sorted by priority too) sends it.
        m_held.release(1);
        QTRY_COMPARE(int(m_order.size()), 7);
        m_held.release(1);
        QTRY_VERIFY(m_order.contains(QStringLiteral("high")));
        const qsizetype high = m_order.indexOf(QStringLiteral("high"));
        for (int i = 0; i < 3; ++i) {
            const qsizetype normal = m_order.indexOf(QStringLiteral("normal%1").arg(i));
            QVERIFY2(normal < 0 || normal > high, qPrintable(m_order.join(QLatin1Char(' '))));
        }
        QTRY_VERIFY((m_held.release(), allFinished(replies)));
        QCOMPARE(m_order.filter(QStringLiteral("normal")).size(), 3);
        qDeleteAll(replies);
    }

    void waitingRequestsTakeTheTokenOfTheirTurn()
    {
        // Requests that waited while the client refreshed (a 401 on another manager) go out
        // with the new token, not the one current when they were made.
        QVERIFY(start());
        auto *nam = m_client->networkAccessManager();
        QList<QNetworkReply *> replies = fill(nam);
        for (int i = 0; i < 10; ++i)
            replies << get(nam, QStringLiteral("/api/seen"), QStringLiteral("w%1").arg(i));
        QTRY_COMPARE(int(m_held.size()), 6);
        QSignalSpy refreshed(m_client.get(), &AuthClient::tokenRefreshed);
        m_server->expireAccessTokens();
        AuthorizedNetworkAccessManager other(m_client.get());
        std::unique_ptr<QNetworkReply> data(
            other.get(QNetworkRequest(m_server->url(QStringLiteral("/api/data")))));
        QVERIFY(awaitAll({ data.get() }));
        QCOMPARE(httpStatus(data.get()), 200);
        QCOMPARE(refreshed.size(), 1);
        m_held.release();
        QTRY_COMPARE(int(m_held.size()), 6);
        m_held.release();
        QVERIFY(awaitAll(replies));
        QCOMPARE(m_authorizations.size(), 10);
        QVERIFY(m_heldAuthorization.startsWith("Bearer "));
        for (const QByteArray &authorization : m_authorizations) {
            QVERIFY(authorization.startsWith("Bearer "));
            QVERIFY2(authorization != m_heldAuthorization,
                QByteArray(authorization + " / held " + m_heldAuthorization).constData());
        }
        qDeleteAll(replies);
    }

    void restoringClientOpensItsConnectionsWhileTheStoreIsRead()
    {
        // A keychain read takes milliseconds; the connections the refresh and the first
        // request will use open meanwhile (one handshake each, not after one another).
        QTcpServer tcp;
        QVERIFY(tcp.listen(QHostAddress::LocalHost));
        int connections = 0;
        connect(&tcp, &QTcpServer::newConnection, &tcp, [&] {
            while (QTcpSocket *socket = tcp.nextPendingConnection()) {
                ++connections;
                socket->setParent(&tcp);
            }
        });
        QUrl base;
        base.setScheme(QStringLiteral("http"));
        base.setHost(QStringLiteral("127.0.0.1"));
        base.setPort(tcp.serverPort());
        auto *store = new SlowStore;
        AuthClient client(TokenServer::profile(), base);
        client.setTokenStore(store);
        AuthReply *restore = client.restore();
        QUrl api = base;
        api.setPath(QStringLiteral("/api/data"));
        std::unique_ptr<QNetworkReply> waiting(
            client.networkAccessManager()->get(QNetworkRequest(api)));
        QTRY_COMPARE(connections, 2); // the refresh's manager and the application's
        QVERIFY(!store->held.isEmpty()); // still reading
        QVERIFY(!waiting->isFinished());
        QVERIFY(!restore->isFinished());
    }

    void requestFromAnEmptyRestoreNeverCarriesTheNextSessionsToken()
    {
        // A request made while a restore runs that finds nothing goes out without a token, as
        // the restore's waiting requests do, even when its turn in the gate comes only after
        // somebody signed in.
        QVERIFY(start());
        auto *nam = m_client->networkAccessManager();
        QList<QNetworkReply *> replies = fill(nam);
        QTRY_COMPARE(int(m_held.size()), 6);
        AuthReply *restore = m_client->restore(QStringLiteral("nobody"));
        replies << get(nam, QStringLiteral("/api/seen"), QStringLiteral("during"));
        QCOMPARE(await(restore).kind(), AuthError::Kind::NotSignedIn);
        QVERIFY(!await(m_client->signIn(QStringLiteral("ada"), QStringLiteral("pw"))).isError());
        QTRY_VERIFY((m_held.release(), allFinished(replies)));
        QCOMPARE(m_order.filter(QStringLiteral("during")).size(), 1);
        QCOMPARE(m_authorizations.size(), 1);
        QVERIFY2(
            m_authorizations.constFirst().isEmpty(), m_authorizations.constFirst().constData());
        qDeleteAll(replies);
    }
};

QTEST_MAIN(TestRequestGate)
#include "tst_requestgate.moc"
