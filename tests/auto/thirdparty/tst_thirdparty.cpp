#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/memorytokenstore.h>

#include "scriptedserver.h"
#include "testhelpers.h"

#include <QJsonDocument>
#include <QUrlQuery>
#include <QtTest>

using namespace Latchkey;
using namespace LatchkeyTest;

namespace {
QJsonObject jsonBody(const QHttpServerRequest &request)
{
    return QJsonDocument::fromJson(request.body()).object();
}
} // namespace

class TestThirdParty : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    // Django REST framework SimpleJWT: {username,password} → {access, refresh}; refresh
    // {refresh} → {access} without rotation; the API wants "Authorization: JWT <token>".
    void simpleJwtStyleServer()
    {
        ScriptedServer server;
        int accessNumber = 0;
        server.on(QStringLiteral("/api/token/"), [&](const QHttpServerRequest &request) {
            const QJsonObject body = jsonBody(request);
            if (body.value(QStringLiteral("username")) != QStringLiteral("ada")
                || body.value(QStringLiteral("password")) != QStringLiteral("pw"))
                return ScriptedServer::json(
                    R"({"detail":"No active account found with the given credentials"})", 401);
            return ScriptedServer::json(R"({"access":"acc-0","refresh":"ref-only"})");
        });
        server.on(QStringLiteral("/api/token/refresh/"), [&](const QHttpServerRequest &request) {
            if (jsonBody(request).value(QStringLiteral("refresh")) != QStringLiteral("ref-only"))
                return ScriptedServer::json(
                    R"({"detail":"Token is invalid or expired","code":"token_not_valid"})", 401);
            return ScriptedServer::json(
                "{\"access\":\"acc-" + QByteArray::number(++accessNumber) + "\"}");
        });
        server.on(QStringLiteral("/api/me/"), [&](const QHttpServerRequest &request) {
            const bool current = request.value(QByteArrayLiteral("Authorization"))
                == "JWT acc-" + QByteArray::number(accessNumber);
            return ScriptedServer::json(
                current ? R"({"username":"ada"})" : R"({"detail":"expired"})", current ? 200 : 401);
        });
        QVERIFY(server.listen());
        QString error;
        const ServerProfile profile = ServerProfile::fromJson(R"({
          "name": "simplejwt",
          "login":   { "path": "/api/token/", "fields": { "identity": "username", "password": "password" } },
          "refresh": { "path": "/api/token/refresh/", "send": { "in": "body", "name": "refresh" } },
          "tokens":  { "access": "/access", "refresh": { "in": "body", "pointer": "/refresh" } },
          "errors":  { "message": ["/detail"] },
          "authorization": { "scheme": "JWT" }
        })",
            &error);
        QVERIFY2(profile.isValid(), qPrintable(error));
        AuthClient client(profile, server.baseUrl());
        client.setTokenStore(new MemoryTokenStore);

        const AuthError bad = await(client.signIn(QStringLiteral("ada"), QStringLiteral("nope")));
        QCOMPARE(bad.kind(), AuthError::Kind::InvalidCredentials);
        QCOMPARE(
            bad.message(), QStringLiteral("No active account found with the given credentials"));
        QVERIFY(!await(client.signIn(QStringLiteral("ada"), QStringLiteral("pw"))).isError());
        QVERIFY(!client.expiresAt().isValid()); // opaque token, no expires_in: 401s drive refresh

        for (int round = 1; round <= 2; ++round) { // each round: 401, refresh, replay
            ++accessNumber; // the server moves on: the token the client holds is stale
            QNetworkReply *reply = client.networkAccessManager()->get(
                QNetworkRequest(server.url(QStringLiteral("/api/me/"))));
            QVERIFY(awaitAll({ reply }));
            QCOMPARE(httpStatus(reply), 200);
            QCOMPARE(server.count(QStringLiteral("/api/token/refresh/")), round);
            delete reply;
        }
        // No rotation: the one refresh token is kept.
        QCOMPARE(storedRefreshToken(&client, QStringLiteral("ada")), QByteArray("ref-only"));
    }

    // An OAuth2 server with a confidential client (client_secret_basic), form bodies that must
    // survive characters that mean something in a form.
    void oauth2ConfidentialClient()
    {
        const QString password = QStringLiteral("p+ss w&rd=1%");
        ScriptedServer server;
        server.on(QStringLiteral("/oauth2/token"), [&](const QHttpServerRequest &request) {
            if (request.value(QByteArrayLiteral("Authorization"))
                != "Basic " + QByteArray("app:s3cret").toBase64())
                return ScriptedServer::json(R"({"error":"invalid_client"})", 401);
            const QUrlQuery form(QString::fromUtf8(request.body()));
            const QString grant
                = form.queryItemValue(QStringLiteral("grant_type"), QUrl::FullyDecoded);
            if (grant == QStringLiteral("password")
                && form.queryItemValue(QStringLiteral("username"), QUrl::FullyDecoded)
                    == QStringLiteral("ada@example.com")
                && form.queryItemValue(QStringLiteral("password"), QUrl::FullyDecoded) == password
                && form.queryItemValue(QStringLiteral("scope"), QUrl::FullyDecoded)
                    == QStringLiteral("read write"))
                return ScriptedServer::json(
                    R"({"access_token":"at1","token_type":"Bearer","expires_in":"3600","refresh_token":"rt1"})");
            if (grant == QStringLiteral("refresh_token")
                && form.queryItemValue(QStringLiteral("refresh_token")) == QStringLiteral("rt1"))
                return ScriptedServer::json(
                    R"({"access_token":"at2","token_type":"Bearer","expires_in":3600,"refresh_token":"rt2"})");
            return ScriptedServer::json(
                R"({"error":"invalid_grant","error_description":"Bad credentials"})", 400);
        });
        server.on(QStringLiteral("/data"), [&](const QHttpServerRequest &request) {
            const bool ok = request.value(QByteArrayLiteral("Authorization")) == "Bearer at2";
            return ScriptedServer::json(ok ? "{}" : R"({"error":"invalid_token"})", ok ? 200 : 401);
        });
        QVERIFY(server.listen());
        QString error;
        const ServerProfile profile = ServerProfile::fromJson(R"({
          "name": "confidential",
          "login":   { "path": "/oauth2/token", "encoding": "form",
                       "fields": { "identity": "username", "password": "password" },
                       "extra": { "grant_type": "password", "scope": "read write" },
                       "basic": { "username": "app", "password": "s3cret" } },
          "refresh": { "path": "/oauth2/token", "encoding": "form",
                       "send": { "in": "body", "name": "refresh_token" },
                       "extra": { "grant_type": "refresh_token" },
                       "basic": { "username": "app", "password": "s3cret" } },
          "tokens":  { "access": "/access_token", "refresh": { "in": "body", "pointer": "/refresh_token" },
                       "expiresIn": "/expires_in" },
          "errors":  { "message": ["/error_description", "/error"] }
        })",
            &error);
        QVERIFY2(profile.isValid(), qPrintable(error));
        AuthClient client(profile, server.baseUrl());
        client.setTokenStore(new MemoryTokenStore);
        const AuthError wrong
            = await(client.signIn(QStringLiteral("ada@example.com"), QStringLiteral("x")));
        QCOMPARE(wrong.kind(), AuthError::Kind::InvalidCredentials); // 400 invalid_grant
        QCOMPARE(wrong.message(), QStringLiteral("Bad credentials"));
        const AuthError signIn = await(client.signIn(QStringLiteral("ada@example.com"), password));
        QVERIFY2(!signIn.isError(), qPrintable(signIn.toString()));
        QVERIFY(QDateTime::currentDateTimeUtc().secsTo(client.expiresAt())
            > 3500); // "3600" as a string

        QNetworkReply *reply = client.networkAccessManager()->get(
            QNetworkRequest(server.url(QStringLiteral("/data"))));
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(httpStatus(reply), 200);
        QCOMPARE(storedRefreshToken(&client, QStringLiteral("ada@example.com")), QByteArray("rt2"));
        delete reply;
    }

    // A server whose documentation says PUT for sign-in and PATCH for refresh and sign-out:
    // the "method" each endpoint declares is the one the server sees (not always POST).
    void declaredMethodIsTheOneSent()
    {
        ScriptedServer server;
        int accessNumber = 0;
        server.on(QStringLiteral("/session"), [&](const QHttpServerRequest &request) {
            if (request.method() == QHttpServerRequest::Method::Put)
                return ScriptedServer::json(R"({"access":"acc-0","refresh":"ref"})");
            if (request.method() == QHttpServerRequest::Method::Patch)
                return ScriptedServer::json(
                    "{\"access\":\"acc-" + QByteArray::number(++accessNumber) + "\"}");
            return ScriptedServer::json(R"({"detail":"Method Not Allowed"})", 405);
        });
        server.on(QStringLiteral("/session/end"), [&](const QHttpServerRequest &request) {
            const bool patch = request.method() == QHttpServerRequest::Method::Patch;
            return ScriptedServer::json(
                patch ? "{}" : R"({"detail":"Method Not Allowed"})", patch ? 200 : 405);
        });
        server.on(QStringLiteral("/me"), [&](const QHttpServerRequest &request) {
            const bool current = request.value(QByteArrayLiteral("Authorization"))
                == "Bearer acc-" + QByteArray::number(accessNumber);
            return ScriptedServer::json(
                current ? "{}" : R"({"detail":"expired"})", current ? 200 : 401);
        });
        QVERIFY(server.listen());
        QString error;
        const ServerProfile profile = ServerProfile::fromJson(R"({
          "name": "verbs",
          "login":   { "path": "/session", "method": "PUT" },
          "refresh": { "path": "/session", "method": "PATCH",
                       "send": { "in": "body", "name": "refresh" } },
          "logout":  { "path": "/session/end", "method": "PATCH",
                       "send": { "in": "body", "name": "refresh" } },
          "tokens":  { "access": "/access", "refresh": { "in": "body", "pointer": "/refresh" } },
          "errors":  { "message": ["/detail"] }
        })",
            &error);
        QVERIFY2(profile.isValid(), qPrintable(error));
        AuthClient client(profile, server.baseUrl());
        client.setTokenStore(new MemoryTokenStore);

        const AuthError signIn = await(client.signIn(QStringLiteral("ada"), QStringLiteral("pw")));
        QVERIFY2(!signIn.isError(), qPrintable(signIn.toString()));
        ++accessNumber; // the token held is stale now: the next call refreshes
        QNetworkReply *reply = client.networkAccessManager()->get(
            QNetworkRequest(server.url(QStringLiteral("/me"))));
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(httpStatus(reply), 200);
        delete reply;
        const AuthError signOut = await(client.signOut());
        QVERIFY2(!signOut.isError(), qPrintable(signOut.toString()));

        QList<QByteArray> authCalls;
        for (const ScriptedServer::Seen &seen : server.seen()) {
            if (seen.path != QStringLiteral("/me"))
                authCalls << seen.method + ' ' + seen.path.toUtf8();
        }
        QCOMPARE(authCalls,
            QList<QByteArray>({ "PUT /session", "PATCH /session", "PATCH /session/end" }));
    }

    // FastAPI's OAuth2PasswordBearer tutorial: a token and no refresh token at all. Signing in
    // works; when the token is refused the session is over (no loop, no replay).
    void serverWithoutRefreshTokens()
    {
        ScriptedServer server;
        server.on(QStringLiteral("/token"), [](const QHttpServerRequest &) {
            return ScriptedServer::json(R"({"access_token":"only","token_type":"bearer"})");
        });
        server.on(QStringLiteral("/users/me"), [](const QHttpServerRequest &) {
            return ScriptedServer::json(R"({"detail":"Could not validate credentials"})", 401);
        });
        QVERIFY(server.listen());
        QString error;
        const ServerProfile profile = ServerProfile::fromJson(R"({
          "name": "fastapi",
          "login":  { "path": "/token", "encoding": "form", "fields": { "identity": "username" } },
          "tokens": { "access": "/access_token" },
          "errors": { "message": ["/detail"] }
        })",
            &error);
        QVERIFY2(profile.isValid(), qPrintable(error));
        AuthClient client(profile, server.baseUrl());
        client.setTokenStore(new MemoryTokenStore);
        QSignalSpy expired(&client, &AuthClient::sessionExpired);
        QVERIFY(
            !await(client.signIn(QStringLiteral("johndoe"), QStringLiteral("secret"))).isError());
        QCOMPARE(client.state(), AuthClient::State::SignedIn);
        QNetworkReply *reply = client.networkAccessManager()->get(
            QNetworkRequest(server.url(QStringLiteral("/users/me"))));
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(AuthorizedNetworkAccessManager::authError(reply).kind(),
            AuthError::Kind::SessionExpired);
        QCOMPARE(server.count(QStringLiteral("/users/me")), 1);
        QCOMPARE(expired.size(), 1);
        QCOMPARE(client.state(), AuthClient::State::SignedOut);
        delete reply;
    }
};

QTEST_GUILESS_MAIN(TestThirdParty)
#include "tst_thirdparty.moc"
