#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/memorytokenstore.h>

#include "heldanswers.h"
#include "testhelpers.h"
#include "tokenserver.h"

#include <QBuffer>
#include <QTcpSocket>
#include <QtTest>

#include <algorithm>

#include <memory>
#include <vector>

using namespace Latchkey;
using namespace LatchkeyTest;

// What an application may do to an AuthorizedNetworkAccessManager whose requests wait in its
// gate (twelve to the API's origin at a time), and what it must get back: every reply ends,
// once, with the answer or error a reply of Qt's own would give; a request never goes out with
// a token of a session other than the one it was made in; nothing the application deletes or
// aborts in a slot brings down another reply.
class TestGateReview : public QObject
{
    Q_OBJECT

    static constexpr int width = 12;

    std::unique_ptr<TokenServer> m_server;
    std::unique_ptr<AuthClient> m_client;
    HeldAnswers m_held;
    QStringList m_seen; // queries of /api/seen, in order
    QList<QByteArray> m_seenAuthorizations;
    QList<QByteArray> m_seenBodies;

    bool start()
    {
        m_server = std::make_unique<TokenServer>();
        m_server->scripted().onDeferred(QStringLiteral("/api/hold"),
            [this](const QHttpServerRequest &, QHttpServerResponder &&responder) {
                m_held.hold(std::move(responder));
            });
        m_server->scripted().on(QStringLiteral("/api/seen"), [this](const QHttpServerRequest &r) {
            m_seen << r.url().query();
            m_seenAuthorizations << r.value(QByteArrayLiteral("Authorization"));
            m_seenBodies << r.body();
            return ScriptedServer::json("{}");
        });
        m_server->scripted().on(QStringLiteral("/api/refuse"),
            [](const QHttpServerRequest &) { return ScriptedServer::json("{}", 401); });
        m_server->scripted().on(QStringLiteral("/api/r307"), [this](const QHttpServerRequest &) {
            QHttpServerResponse response("", QHttpServerResponse::StatusCode::TemporaryRedirect);
            response.setHeader(
                "Location", m_server->url(QStringLiteral("/api/seen?hop")).toEncoded());
            return response;
        });
        if (!m_server->listen())
            return false;
        m_client = std::make_unique<AuthClient>(TokenServer::profile(), m_server->baseUrl());
        m_client->setTokenStore(new MemoryTokenStore);
        return !await(m_client->signIn(QStringLiteral("ada"), QStringLiteral("pw"))).isError();
    }

    QNetworkReply *get(QNetworkAccessManager *nam, const QString &path, const QString &tag = {})
    {
        QUrl url = m_server->url(path);
        if (!tag.isEmpty())
            url.setQuery(tag);
        return nam->get(QNetworkRequest(url));
    }

    QList<QNetworkReply *> fill(QNetworkAccessManager *nam, int count = width, bool post = false)
    {
        QList<QNetworkReply *> replies;
        for (int i = 0; i < count; ++i) {
            if (post) {
                QNetworkRequest request(m_server->url(QStringLiteral("/api/hold")));
                request.setHeader(
                    QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("text/plain"));
                replies << nam->post(request, QByteArrayLiteral("x"));
            } else {
                replies << get(nam, QStringLiteral("/api/hold"));
            }
        }
        return replies;
    }

private Q_SLOTS:
    void cleanup()
    {
        m_held.release();
        m_client.reset();
        m_server.reset();
        m_held.clear();
        m_seen.clear();
        m_seenAuthorizations.clear();
        m_seenBodies.clear();
    }

    // Ada's request waits for its turn; meanwhile Ada signs out and Bob signs in. The request
    // was Ada's: it must not reach the server with Bob's token.
    void requestWaitingInTheGateNeverCarriesTheNextUsersToken()
    {
        QVERIFY(start());
        AuthorizedNetworkAccessManager nam(m_client.get());
        QList<QNetworkReply *> held = fill(&nam);
        std::unique_ptr<QNetworkReply> adas(get(&nam, QStringLiteral("/api/data")));
        QTRY_COMPARE(int(m_held.size()), 6);
        QVERIFY(!await(m_client->signOut()).isError());
        QVERIFY(!await(m_client->signIn(QStringLiteral("bob"), QStringLiteral("pw"))).isError());
        const int bobsSession = m_server->issuedSessions();
        m_held.release();
        QTRY_COMPARE(int(m_held.size()), 6);
        m_held.release();
        QVERIFY(awaitAll({ adas.get() }, 10000));
        for (const QByteArray &authorization : m_server->apiAuthorizations)
            QVERIFY2(TokenServer::sessionOf(authorization.mid(7)) != bobsSession,
                authorization.constData());
        QVERIFY2(httpStatus(adas.get()) != 200, "Ada's request was answered with Bob's session");
        QVERIFY(awaitAll(held));
        qDeleteAll(held);
    }

    // The server rejects the refresh while a request waits for its turn: the session is over,
    // and that request ends as every request of the session does, with SessionExpired.
    void requestWaitingInTheGateWhenTheSessionExpiresFailsWithSessionExpired()
    {
        QVERIFY(start());
        AuthorizedNetworkAccessManager nam(m_client.get());
        // POSTs: Qt's queue keeps them when the token is refused (only GETs are withdrawn).
        QList<QNetworkReply *> held = fill(&nam, width, true);
        std::unique_ptr<QNetworkReply> waiting(get(&nam, QStringLiteral("/api/data")));
        QTRY_COMPARE(int(m_held.size()), 6);
        QSignalSpy expired(m_client.get(), &AuthClient::sessionExpired);
        m_server->revokeAll();
        AuthorizedNetworkAccessManager other(m_client.get());
        std::unique_ptr<QNetworkReply> trigger(get(&other, QStringLiteral("/api/data")));
        QVERIFY(awaitAll({ trigger.get() }, 10000));
        QCOMPARE(AuthorizedNetworkAccessManager::authError(trigger.get()).kind(),
            AuthError::Kind::SessionExpired);
        QCOMPARE(expired.size(), 1);
        QTRY_VERIFY_WITH_TIMEOUT((m_held.release(), waiting->isFinished()), 10000);
        QCOMPARE(waiting->error(), QNetworkReply::AuthenticationRequiredError);
        QCOMPARE(AuthorizedNetworkAccessManager::authError(waiting.get()).kind(),
            AuthError::Kind::SessionExpired);
        // The held POSTs still in Qt's queue reach the server only now: answer them as they come.
        QTRY_VERIFY_WITH_TIMEOUT((m_held.release(),
                                     std::all_of(held.begin(), held.end(),
                                         [](QNetworkReply *r) { return r->isFinished(); })),
            10000);
        qDeleteAll(held);
    }

    // The application gives up on everything at once (a page closed): a thousand requests
    // waiting for their turn are aborted. None of them reaches the server, each ends once.
    void thousandWaitingRequestsAbortedAtOnceNeverReachTheServer()
    {
        QVERIFY(start());
        int qtSeen = 0;
        {
            // What Qt's own manager lets through of the same: its baseline.
            QNetworkAccessManager plain;
            QList<QNetworkReply *> replies = fill(&plain);
            for (int i = 0; i < 1000; ++i)
                replies << get(&plain, QStringLiteral("/api/seen"), QStringLiteral("q%1").arg(i));
            for (QNetworkReply *reply : replies)
                reply->abort();
            std::unique_ptr<QNetworkReply> after(
                get(&plain, QStringLiteral("/api/seen"), QStringLiteral("after")));
            QVERIFY(awaitAll({ after.get() }, 10000));
            qtSeen = int(m_seen.size()) - 1;
            qDeleteAll(replies);
            m_held.release();
            m_seen.clear();
        }
        qInfo() << "Qt's own manager let" << qtSeen << "aborted requests through";
        AuthorizedNetworkAccessManager nam(m_client.get());
        QList<QNetworkReply *> replies = fill(&nam);
        for (int i = 0; i < 1000; ++i)
            replies << get(&nam, QStringLiteral("/api/seen"), QStringLiteral("w%1").arg(i));
        int finished = 0;
        for (QNetworkReply *reply : replies)
            connect(reply, &QNetworkReply::finished, this, [&finished] { ++finished; });
        for (QNetworkReply *reply : replies)
            reply->abort();
        QCOMPARE(finished, int(replies.size()));
        for (QNetworkReply *reply : replies)
            QCOMPARE(reply->error(), QNetworkReply::OperationCanceledError);
        std::unique_ptr<QNetworkReply> after(
            get(&nam, QStringLiteral("/api/seen"), QStringLiteral("after")));
        QVERIFY(awaitAll({ after.get() }, 10000));
        QCOMPARE(after->error(), QNetworkReply::NoError);
        QVERIFY2(
            int(m_seen.size()) - 1 <= qtSeen, qPrintable(m_seen.mid(0, 50).join(QLatin1Char(' '))));
        qDeleteAll(replies);
    }

    // An endpoint answers 401 to every token (a permission check that says 401 for 403). Each
    // request to it costs at most one refresh, and requests to other endpoints none.
    void endpointRefusingEveryTokenCostsOneRefreshPerRequest()
    {
        QVERIFY(start());
        AuthorizedNetworkAccessManager nam(m_client.get());
        const int before = m_server->refreshCalls;
        constexpr int requests = 3;
        for (int i = 0; i < requests; ++i) {
            std::unique_ptr<QNetworkReply> refused(get(&nam, QStringLiteral("/api/refuse")));
            QVERIFY(awaitAll({ refused.get() }, 10000));
            QCOMPARE(httpStatus(refused.get()), 401);
        }
        QCOMPARE(m_server->refreshCalls - before, requests);
        std::unique_ptr<QNetworkReply> data(get(&nam, QStringLiteral("/api/data")));
        QVERIFY(awaitAll({ data.get() }, 10000));
        QCOMPARE(httpStatus(data.get()), 200);
        QCOMPARE(m_server->refreshCalls - before, requests);
    }

    // A storm meets a refused token and the refresh fails (no answer in time): every request
    // ends, promptly, with an error; the refused token reaches the server at most a gate's
    // width of times plus one replay round, and nothing goes round again.
    void stormWhoseRefreshFailsEndsEveryRequest()
    {
        QVERIFY(start());
        m_client->setAuthTimeout(std::chrono::milliseconds(300));
        m_client->setRefreshRetry(1, std::chrono::milliseconds(1));
        AuthorizedNetworkAccessManager nam(m_client.get());
        m_server->expireAccessTokens();
        m_server->holdRefreshes = true;
        const int apiBefore = m_server->apiCalls;
        QList<QNetworkReply *> storm;
        for (int i = 0; i < 60; ++i)
            storm << get(&nam, QStringLiteral("/api/data"));
        QVERIFY(awaitAll(storm, 10000));
        for (QNetworkReply *reply : storm)
            QVERIFY(reply->error() != QNetworkReply::NoError);
        QVERIFY2(m_server->apiCalls - apiBefore <= width,
            qPrintable(QString::number(m_server->apiCalls - apiBefore)));
        QVERIFY(m_server->heldRefreshes() <= 1);
        qDeleteAll(storm);
    }

    // Replies deleted and aborted from inside another reply's readyRead, metaDataChanged and
    // finished slots while requests wait for their turn (auto-delete on): every reply that is
    // left ends once, and the manager goes on.
    void repliesDeletedInsideSlotsWhileOthersWaitLeaveTheRestIntact()
    {
        QVERIFY(start());
        AuthorizedNetworkAccessManager nam(m_client.get());
        QList<QPointer<QNetworkReply>> all;
        for (int i = 0; i < 40; ++i)
            all << get(&nam, QStringLiteral("/api/seen"), QStringLiteral("r%1").arg(i));
        QHash<QNetworkReply *, int> finishes;
        for (int i = 0; i < all.size(); ++i) {
            QNetworkReply *reply = all.at(i);
            connect(reply, &QNetworkReply::finished, this, [&, reply, i] {
                ++finishes[reply];
                // Delete the next one if it finished already, abort the one after that.
                if (i + 1 < all.size() && all.at(i + 1) && all.at(i + 1)->isFinished())
                    delete all.at(i + 1).data();
                if (i + 2 < all.size() && all.at(i + 2))
                    all.at(i + 2)->abort();
            });
            connect(reply, &QNetworkReply::metaDataChanged, this, [&, i] {
                if (i + 3 < all.size() && all.at(i + 3) && all.at(i + 3)->isFinished())
                    delete all.at(i + 3).data();
            });
            connect(reply, &QNetworkReply::readyRead, this, [&, reply, i] {
                reply->readAll();
                if (i + 4 < all.size() && all.at(i + 4) && all.at(i + 4)->isFinished())
                    delete all.at(i + 4).data();
            });
        }
        QTRY_VERIFY_WITH_TIMEOUT(
            std::all_of(all.begin(), all.end(),
                [](const QPointer<QNetworkReply> &r) { return !r || r->isFinished(); }),
            10000);
        for (auto it = finishes.cbegin(); it != finishes.cend(); ++it)
            QCOMPARE(it.value(), 1);
        std::unique_ptr<QNetworkReply> after(
            get(&nam, QStringLiteral("/api/seen"), QStringLiteral("after")));
        QVERIFY(awaitAll({ after.get() }, 10000));
        QCOMPARE(after->error(), QNetworkReply::NoError);
        for (const QPointer<QNetworkReply> &reply : all)
            delete reply.data();
    }

    // A POST of a random-access body (QBuffer) waits for its turn, then meets a 401: the
    // replay after the refresh sends the whole body again.
    void uploadWaitingInTheGateIsReplayedWhole()
    {
        QVERIFY(start());
        AuthorizedNetworkAccessManager nam(m_client.get());
        QList<QNetworkReply *> held = fill(&nam);
        QByteArray payload("0123456789abcdef");
        QBuffer body(&payload);
        QVERIFY(body.open(QIODevice::ReadOnly));
        QNetworkRequest request(m_server->url(QStringLiteral("/api/seen?post")));
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("text/plain"));
        // The server refuses the token the first time (a 401 on /api/data on another manager
        // would mark it; here /api/seen itself answers 401 once).
        bool refusedOnce = false;
        m_server->scripted().on(
            QStringLiteral("/api/once401"), [&refusedOnce, this](const QHttpServerRequest &r) {
                if (!refusedOnce) {
                    refusedOnce = true;
                    return ScriptedServer::json("{}", 401);
                }
                m_seenBodies << r.body();
                return ScriptedServer::json("{}");
            });
        request.setUrl(m_server->url(QStringLiteral("/api/once401")));
        std::unique_ptr<QNetworkReply> upload(nam.post(request, &body));
        QTRY_COMPARE(int(m_held.size()), 6);
        m_held.release();
        QTRY_COMPARE(int(m_held.size()), 6);
        m_held.release();
        QVERIFY(awaitAll({ upload.get() }, 10000));
        QCOMPARE(httpStatus(upload.get()), 200);
        QVERIFY(refusedOnce);
        QCOMPARE(m_seenBodies, QList<QByteArray> { payload });
        QVERIFY(awaitAll(held));
        qDeleteAll(held);
    }
};

QTEST_MAIN(TestGateReview)
#include "tst_gatereview.moc"
