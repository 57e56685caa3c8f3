#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/memorytokenstore.h>

#include "scriptedserver.h"
#include "testhelpers.h"

#include <QtTest>

using namespace Latchkey;
using namespace LatchkeyTest;

namespace {
QHttpServerResponse redirectTo(const QUrl &target)
{
    QHttpServerResponse response(QHttpServerResponse::StatusCode::Found);
    response.setHeader(QByteArrayLiteral("Location"), target.toEncoded());
    return response;
}
} // namespace

// Invariant 2: a token goes only to the API's origin (scheme, host, port); a redirect to another
// origin drops it. "Another origin" here is the same host on another port.
class TestOrigin : public QObject
{
    Q_OBJECT

    ScriptedServer m_api;
    ScriptedServer m_other;
    std::unique_ptr<AuthClient> m_client;

private Q_SLOTS:
    void initTestCase()
    {
        m_api.on(QStringLiteral("/api/auth/login"), [](const QHttpServerRequest &) {
            return ScriptedServer::json(
                R"({"access_token":"api-token","refresh_token":"r","expires_in":900})");
        });
        m_api.on(QStringLiteral("/api/data"),
            [](const QHttpServerRequest &) { return ScriptedServer::json(R"({"where":"api"})"); });
        m_other.on(QStringLiteral("/landing"), [](const QHttpServerRequest &) {
            return ScriptedServer::json(R"({"where":"other"})");
        });
        QVERIFY(m_api.listen());
        QVERIFY(m_other.listen());
        const QUrl elsewhere = m_other.url(QStringLiteral("/landing"));
        const QUrl within = m_api.url(QStringLiteral("/api/data"));
        m_api.on(QStringLiteral("/api/away"),
            [elsewhere](const QHttpServerRequest &) { return redirectTo(elsewhere); });
        m_api.on(QStringLiteral("/api/moved"),
            [within](const QHttpServerRequest &) { return redirectTo(within); });
        m_client = std::make_unique<AuthClient>(
            ServerProfile::builtin(QStringLiteral("latchkey")), m_api.baseUrl());
        m_client->setTokenStore(new MemoryTokenStore);
        QVERIFY(
            !await(m_client->signIn(QStringLiteral("a@b.test"), QStringLiteral("pw"))).isError());
    }

    void bearerGoesToTheApiOriginOnly()
    {
        auto *nam = m_client->networkAccessManager();
        QNetworkReply *own = nam->get(QNetworkRequest(m_api.url(QStringLiteral("/api/data"))));
        QNetworkReply *other = nam->get(QNetworkRequest(m_other.url(QStringLiteral("/landing"))));
        QVERIFY(awaitAll({ own, other }));
        QCOMPARE(m_api.seen().last().authorization, QByteArray("Bearer api-token"));
        QCOMPARE(m_other.seen().last().path, QStringLiteral("/landing"));
        QVERIFY(m_other.seen().last().authorization.isEmpty());
        delete own;
        delete other;
    }

    void bearerNeverGoesToAnotherHostOnTheSamePort()
    {
        // Same scheme, same port, another host name (that reaches the same server).
        QUrl elsewhere = m_api.url(QStringLiteral("/api/data"));
        elsewhere.setHost(QStringLiteral("localhost"));
        const int before = m_api.count(QStringLiteral("/api/data"));
        QNetworkReply *reply = m_client->networkAccessManager()->get(QNetworkRequest(elsewhere));
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(reply->error(), QNetworkReply::NoError);
        QCOMPARE(m_api.count(QStringLiteral("/api/data")), before + 1);
        QCOMPARE(m_api.seen().last().path, QStringLiteral("/api/data"));
        QVERIFY2(m_api.seen().last().authorization.isEmpty(),
            "the bearer went to another host on the API's scheme and port");
        delete reply;
    }

    void redirectToAnotherOriginDropsTheBearer()
    {
        QNetworkReply *reply = m_client->networkAccessManager()->get(
            QNetworkRequest(m_api.url(QStringLiteral("/api/away"))));
        QSignalSpy redirected(reply, &QNetworkReply::redirected);
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(reply->error(), QNetworkReply::NoError);
        QCOMPARE(reply->readAll(), QByteArray(R"({"where":"other"})"));
        QCOMPARE(reply->url(), m_other.url(QStringLiteral("/landing")));
        QCOMPARE(redirected.size(), 1);
        QCOMPARE(m_api.seen().last().path, QStringLiteral("/api/away"));
        QCOMPARE(m_api.seen().last().authorization, QByteArray("Bearer api-token"));
        QCOMPARE(m_other.seen().last().path, QStringLiteral("/landing"));
        QVERIFY2(m_other.seen().last().authorization.isEmpty(),
            "the bearer followed a redirect to another origin");
        delete reply;
    }

    void redirectWithinTheOriginKeepsTheBearer()
    {
        QNetworkReply *reply = m_client->networkAccessManager()->get(
            QNetworkRequest(m_api.url(QStringLiteral("/api/moved"))));
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(reply->readAll(), QByteArray(R"({"where":"api"})"));
        QCOMPARE(m_api.seen().last().path, QStringLiteral("/api/data"));
        QCOMPARE(m_api.seen().last().authorization, QByteArray("Bearer api-token"));
        delete reply;
    }

    void applicationAuthorizationIsUntouched()
    {
        QNetworkRequest request(m_api.url(QStringLiteral("/api/data")));
        request.setRawHeader(QByteArrayLiteral("Authorization"), QByteArrayLiteral("Basic xyz"));
        QNetworkReply *reply = m_client->networkAccessManager()->get(request);
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(m_api.seen().last().authorization, QByteArray("Basic xyz"));
        delete reply;
    }

    void cleanupTestCase() { m_client.reset(); }
};

QTEST_GUILESS_MAIN(TestOrigin)
#include "tst_origin.moc"
