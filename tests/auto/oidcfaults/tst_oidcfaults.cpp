// A scripted OpenID provider (ScriptedServer) and a hostile local process against the SDK's
// browser sign-in: what they send must not end, steer or poison it.
#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/memorytokenstore.h>

#include "scriptedserver.h"
#include "testhelpers.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>
#include <QUrlQuery>

using namespace Latchkey;
using namespace LatchkeyTest;

namespace {

const QString clientId = QStringLiteral("latchkey-native");

QString queryValue(const QUrl &url, const QString &key)
{
    return QUrlQuery(url).queryItemValue(key, QUrl::FullyDecoded);
}

QByteArray part(const QJsonObject &o)
{
    return QJsonDocument(o)
        .toJson(QJsonDocument::Compact)
        .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

// An unsigned JWT (the SDK checks what an ID token says, not its signature).
QByteArray jwt(const QJsonObject &claims)
{
    return part({ { QStringLiteral("alg"), QStringLiteral("none") } }) + '.' + part(claims) + '.';
}

// A provider that answers what the test scripts: discovery, a token endpoint issuing an ID
// token with the claims claimsFor() gives (the nonce of the last authorization URL filled in).
struct FakeProvider
{
    ScriptedServer server;
    QString issuer;
    QByteArray nonce;
    int tokens = 0;
    std::function<QJsonObject(const QString &grant)> claimsFor;

    bool start()
    {
        if (!server.listen())
            return false;
        issuer = server.baseUrl().toString(QUrl::StripTrailingSlash);
        server.on(QStringLiteral("/.well-known/openid-configuration"),
            [this](const QHttpServerRequest &) {
                const QJsonObject doc { { QStringLiteral("issuer"), issuer },
                    { QStringLiteral("authorization_endpoint"),
                        QString(issuer + QStringLiteral("/auth")) },
                    { QStringLiteral("token_endpoint"),
                        QString(issuer + QStringLiteral("/token")) } };
                return ScriptedServer::json(QJsonDocument(doc).toJson());
            });
        server.on(QStringLiteral("/token"), [this](const QHttpServerRequest &request) {
            const QString grant = QUrlQuery(QString::fromUtf8(request.body()))
                                      .queryItemValue(QStringLiteral("grant_type"));
            ++tokens;
            QJsonObject claims { { QStringLiteral("iss"), issuer },
                { QStringLiteral("sub"), QStringLiteral("alice") },
                { QStringLiteral("email"), QStringLiteral("alice@example.com") },
                { QStringLiteral("aud"), clientId },
                { QStringLiteral("exp"), QDateTime::currentSecsSinceEpoch() + 300 } };
            if (grant == QLatin1String("authorization_code"))
                claims.insert(QStringLiteral("nonce"), QString::fromLatin1(nonce));
            if (claimsFor) {
                const QJsonObject changes = claimsFor(grant);
                for (auto it = changes.begin(); it != changes.end(); ++it)
                    claims.insert(it.key(), it.value());
            }
            const QJsonObject answer { { QStringLiteral("access_token"),
                                           QStringLiteral("at-%1").arg(tokens) },
                { QStringLiteral("refresh_token"), QStringLiteral("rt-%1").arg(tokens) },
                { QStringLiteral("token_type"), QStringLiteral("Bearer") },
                { QStringLiteral("expires_in"), 300 },
                { QStringLiteral("id_token"), QString::fromLatin1(jwt(claims)) } };
            return ScriptedServer::json(QJsonDocument(answer).toJson());
        });
        return true;
    }

    ServerProfile profile(const QJsonObject &extra = {}) const
    {
        QJsonObject root = ServerProfile::openIdConnect(QUrl(issuer), clientId).toJson();
        QJsonObject oidc = root.value(QLatin1String("oidc")).toObject();
        for (auto it = extra.begin(); it != extra.end(); ++it)
            oidc.insert(it.key(), it.value());
        root.insert(QStringLiteral("oidc"), oidc);
        return ServerProfile::fromJsonObject(root);
    }
};

// The redirect a browser would follow out of the provider for the authorization URL \a url.
QUrl redirectFor(const QUrl &authorization, const QString &query)
{
    QUrl redirect(queryValue(authorization, QStringLiteral("redirect_uri")));
    redirect.setQuery(query);
    return redirect;
}

// Sends \a bytes to the loopback listener of \a redirect as another local process would, and
// returns the status line it answers (empty when it closes without one).
QByteArray rawRequest(const QUrl &redirect, const QByteArray &bytes)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, quint16(redirect.port()));
    (void)QTest::qWaitFor(
        [&] {
            return socket.state() == QAbstractSocket::ConnectedState
                || socket.state() == QAbstractSocket::UnconnectedState;
        },
        10000);
    if (socket.state() != QAbstractSocket::ConnectedState)
        return QByteArray(); // nobody listens
    socket.write(bytes);
    QByteArray answer;
    (void)QTest::qWaitFor(
        [&] {
            answer += socket.readAll();
            return socket.state() == QAbstractSocket::UnconnectedState
                || answer.contains("\r\n\r\n");
        },
        10000);
    return answer.left(answer.indexOf("\r\n"));
}

} // namespace

class tst_OidcFaults : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void junkAtTheLoopbackListenerDoesNotEndTheSignIn()
    {
        // RFC 8252 §8.3: anything on the machine can reach the listener. A port scanner, or a
        // process guessing at the redirect, must not take the browser's place.
        FakeProvider provider;
        QVERIFY(provider.start());
        AuthClient c(provider.profile(), provider.server.baseUrl());
        c.setTokenStore(new MemoryTokenStore(&c));
        QUrl opened;
        QObject::connect(&c, &AuthClient::openUrlRequested, &c, [&](const QUrl &url) {
            opened = url;
            provider.nonce = queryValue(url, QStringLiteral("nonce")).toLatin1();
        });
        AuthReply *reply = c.signInWithBrowser();
        reply->setAutoDelete(false);
        QTRY_VERIFY_WITH_TIMEOUT(opened.isValid(), 10000);
        const QUrl redirect(queryValue(opened, QStringLiteral("redirect_uri")));
        const QByteArray path = redirect.path().toUtf8();

        { // a port scanner: connects and goes
            QTcpSocket scan;
            scan.connectToHost(QHostAddress::LocalHost, quint16(redirect.port()));
            QVERIFY(scan.waitForConnected(5000));
            scan.abort();
        }
        QCOMPARE(rawRequest(redirect, "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"),
            QByteArray("HTTP/1.1 400 Bad Request"));
        QCOMPARE(rawRequest(redirect,
                     "GET " + path + "?code=stolen&state=guess HTTP/1.1\r\nHost: x\r\n\r\n"),
            QByteArray("HTTP/1.1 400 Bad Request"));
        QCOMPARE(rawRequest(
                     redirect, "GET " + path + "?error=access_denied&state=guess HTTP/1.1\r\n\r\n"),
            QByteArray("HTTP/1.1 400 Bad Request"));
        QCOMPARE(rawRequest(redirect, "GET /favicon.ico HTTP/1.1\r\n\r\n"),
            QByteArray("HTTP/1.1 404 Not Found"));
        QTest::qWait(50);
        QVERIFY(!reply->isFinished());
        QCOMPARE(provider.tokens, 0);

        // The browser comes back: the sign-in goes on.
        QNetworkAccessManager browser;
        QNetworkReply *back = browser.get(QNetworkRequest(redirectFor(opened,
            QStringLiteral("code=abc&state=") + queryValue(opened, QStringLiteral("state")))));
        QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 10000);
        QCOMPARE(reply->error().kind(), AuthError::Kind::NoError);
        QCOMPARE(c.identity(), QStringLiteral("alice@example.com"));
        QTRY_VERIFY(back->isFinished());
        QCOMPARE(httpStatus(back), 200);
        delete back;
        delete reply;
        // One redirect per sign-in: the listener is gone.
        QCOMPARE(rawRequest(redirect, "GET " + path + " HTTP/1.1\r\n\r\n"), QByteArray());
    }

    void refusedSignInStillAnswersTheBrowser()
    {
        // The person refused at the provider: the sign-in ends at once, and the browser still
        // gets its page (not a reset connection) telling them to go back to the application.
        FakeProvider provider;
        QVERIFY(provider.start());
        AuthClient c(provider.profile(), provider.server.baseUrl());
        c.setTokenStore(new MemoryTokenStore(&c));
        QUrl opened;
        QObject::connect(
            &c, &AuthClient::openUrlRequested, &c, [&](const QUrl &url) { opened = url; });
        AuthReply *reply = c.signInWithBrowser();
        reply->setAutoDelete(false);
        QTRY_VERIFY_WITH_TIMEOUT(opened.isValid(), 10000);
        QNetworkAccessManager browser;
        QNetworkReply *back = browser.get(QNetworkRequest(redirectFor(opened,
            QStringLiteral("error=access_denied&state=")
                + queryValue(opened, QStringLiteral("state")))));
        QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 10000);
        QCOMPARE(reply->error().kind(), AuthError::Kind::AccessDenied);
        QTRY_VERIFY_WITH_TIMEOUT(back->isFinished(), 10000);
        QCOMPARE(back->error(), QNetworkReply::NoError);
        QCOMPARE(httpStatus(back), 200);
        QVERIFY(back->readAll().contains("go back"));
        delete back;
        delete reply;
    }

    void refreshedIdTokenForAnotherUserIsIgnored()
    {
        // OpenID Connect Core §12.2: an ID token from a refresh names the same subject. One
        // that names another does not turn the signed-in user's details into someone else's.
        FakeProvider provider;
        QVERIFY(provider.start());
        provider.claimsFor = [](const QString &grant) {
            if (grant != QLatin1String("refresh_token"))
                return QJsonObject();
            return QJsonObject { { QStringLiteral("sub"), QStringLiteral("mallory") },
                { QStringLiteral("email"), QStringLiteral("mallory@example.com") } };
        };
        provider.server.on(QStringLiteral("/api/data"), [](const QHttpServerRequest &request) {
            return request.value("Authorization") == "Bearer at-1"
                ? ScriptedServer::json("{\"error\":\"expired\"}", 401)
                : ScriptedServer::json("{\"ok\":true}");
        });
        AuthClient c(provider.profile(), provider.server.baseUrl());
        auto *store = new MemoryTokenStore(&c);
        c.setTokenStore(store);
        QNetworkAccessManager browser;
        QObject::connect(&c, &AuthClient::openUrlRequested, &c, [&](const QUrl &url) {
            provider.nonce = queryValue(url, QStringLiteral("nonce")).toLatin1();
            browser.get(QNetworkRequest(redirectFor(url,
                QStringLiteral("code=abc&state=") + queryValue(url, QStringLiteral("state")))));
        });
        QCOMPARE(await(c.signInWithBrowser()).kind(), AuthError::Kind::NoError);
        QCOMPARE(c.user().value(QLatin1String("sub")).toString(), QStringLiteral("alice"));
        QSignalSpy refreshed(&c, &AuthClient::tokenRefreshed);
        QNetworkReply *data = c.networkAccessManager()->get(
            QNetworkRequest(provider.server.url(QStringLiteral("/api/data"))));
        QTRY_VERIFY_WITH_TIMEOUT(data->isFinished(), 10000);
        QCOMPARE(httpStatus(data), 200);
        delete data;
        QCOMPARE(refreshed.count(), 1);
        QCOMPARE(c.identity(), QStringLiteral("alice@example.com"));
        QCOMPARE(c.user().value(QLatin1String("sub")).toString(), QStringLiteral("alice"));
        QCOMPARE(
            c.user().value(QLatin1String("email")).toString(), QStringLiteral("alice@example.com"));
    }

    void idTokenWithSeveralAudiencesNeedsItsAuthorizedParty()
    {
        // OpenID Connect Core §3.1.3.7: an ID token for this client and others says which
        // client it was issued to (azp); without it, it is not taken.
        for (const bool withAzp : { false, true }) {
            FakeProvider provider;
            QVERIFY(provider.start());
            provider.claimsFor = [withAzp](const QString &) {
                QJsonObject o { { QStringLiteral("aud"),
                    QJsonArray { clientId, QStringLiteral("another-client") } } };
                if (withAzp)
                    o.insert(QStringLiteral("azp"), clientId);
                return o;
            };
            AuthClient c(provider.profile(), provider.server.baseUrl());
            c.setTokenStore(new MemoryTokenStore(&c));
            QNetworkAccessManager browser;
            QObject::connect(&c, &AuthClient::openUrlRequested, &c, [&](const QUrl &url) {
                provider.nonce = queryValue(url, QStringLiteral("nonce")).toLatin1();
                browser.get(QNetworkRequest(redirectFor(url,
                    QStringLiteral("code=abc&state=") + queryValue(url, QStringLiteral("state")))));
            });
            const AuthError error = await(c.signInWithBrowser());
            if (withAzp) {
                QCOMPARE(error.kind(), AuthError::Kind::NoError);
            } else {
                QCOMPARE(error.kind(), AuthError::Kind::Protocol);
                QVERIFY2(
                    error.message().contains(QLatin1String("azp")), qPrintable(error.message()));
                QCOMPARE(c.state(), AuthClient::State::SignedOut);
            }
        }
    }

    void forgedAppRedirectLeavesTheSignInWaiting()
    {
        // Any app can open a private-use scheme URL: one without the sign-in's state is not
        // this sign-in's answer, and handleRedirect() says so without ending it.
        FakeProvider provider;
        QVERIFY(provider.start());
        AuthClient c(provider.profile({ { QStringLiteral("redirectUri"),
                         QStringLiteral("com.example.latchkey:/callback") } }),
            provider.server.baseUrl());
        c.setTokenStore(new MemoryTokenStore(&c));
        QUrl opened;
        QObject::connect(&c, &AuthClient::openUrlRequested, &c, [&](const QUrl &url) {
            opened = url;
            provider.nonce = queryValue(url, QStringLiteral("nonce")).toLatin1();
        });
        AuthReply *reply = c.signInWithBrowser();
        reply->setAutoDelete(false);
        QTRY_VERIFY_WITH_TIMEOUT(opened.isValid(), 10000);
        QVERIFY(!c.handleRedirect(redirectFor(opened, QStringLiteral("code=stolen&state=guess"))));
        QVERIFY(!c.handleRedirect(redirectFor(opened, QStringLiteral("error=access_denied"))));
        QTest::qWait(50);
        QVERIFY(!reply->isFinished());
        QCOMPARE(c.state(), AuthClient::State::SigningIn);
        QVERIFY(c.handleRedirect(redirectFor(opened,
            QStringLiteral("code=abc&state=") + queryValue(opened, QStringLiteral("state")))));
        QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 10000);
        QCOMPARE(reply->error().kind(), AuthError::Kind::NoError);
        QCOMPARE(c.identity(), QStringLiteral("alice@example.com"));
        delete reply;
    }
};

QTEST_GUILESS_MAIN(tst_OidcFaults)
#include "tst_oidcfaults.moc"
