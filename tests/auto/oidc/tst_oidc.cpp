// Signing in to a real OpenID provider (oidc-provider, tests/support/oidc) through the browser
// with PKCE, a device code and client credentials; and what the SDK refuses of a provider that
// lies (an in-process fake, for ID tokens no certified provider would issue).
#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/memorytokenstore.h>

#include "manualclock.h"
#include "oidcprovider.h"
#include "scriptedserver.h"
#include "testhelpers.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>
#include <QUrlQuery>

using namespace Latchkey;
using namespace LatchkeyTest;
using namespace std::chrono_literals;

namespace {

const QString native = QStringLiteral("latchkey-native");
const QStringList userLogin = { QStringLiteral("--login"), QStringLiteral("alice"),
    QStringLiteral("--password"), QStringLiteral("correct horse") };

QString queryValue(const QUrl &url, const QString &key)
{
    return QUrlQuery(url).queryItemValue(key, QUrl::FullyDecoded);
}

QUrl withQueryValue(QUrl url, const QString &key, const QString &value)
{
    QUrlQuery query(url);
    query.removeAllQueryItems(key);
    if (!value.isNull())
        query.addQueryItem(key, QString::fromLatin1(QUrl::toPercentEncoding(value)));
    url.setQuery(query);
    return url;
}

// base64url JSON, for the fake provider's ID tokens (unsigned: the SDK does not verify them,
// it checks what they say).
QByteArray part(const QJsonObject &o)
{
    return QJsonDocument(o)
        .toJson(QJsonDocument::Compact)
        .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

} // namespace

class tst_Oidc : public QObject
{
    Q_OBJECT

private:
    OidcProvider provider;
    MemoryTokenStore *store = nullptr;

    // A client of the real provider whose API is the provider itself (its userinfo, /me, is a
    // protected resource the bearer goes to).
    std::unique_ptr<AuthClient> client(const QString &clientId = native,
        const QStringList &scopes = {}, const QJsonObject &extra = {})
    {
        ServerProfile profile = ServerProfile::openIdConnect(provider.issuer(), clientId, scopes);
        if (!extra.isEmpty()) {
            QJsonObject root = profile.toJson();
            QJsonObject oidc = root.value(QLatin1String("oidc")).toObject();
            for (auto it = extra.begin(); it != extra.end(); ++it)
                oidc.insert(it.key(), it.value());
            root.insert(QStringLiteral("oidc"), oidc);
            QString error;
            profile = ServerProfile::fromJsonObject(root, &error);
            if (!profile.isValid())
                qWarning() << error;
        }
        auto c = std::make_unique<AuthClient>(profile, provider.issuer());
        store = new MemoryTokenStore(c.get());
        c->setTokenStore(store);
        return c;
    }

    // Signs in through the browser, the user agent standing in for it.
    AuthError browserSignIn(
        AuthClient *c, const QStringList &args = userLogin, std::function<QUrl(QUrl)> tamper = {})
    {
        QUrl opened;
        QObject::connect(c, &AuthClient::openUrlRequested, c, [&, this](const QUrl &url) {
            opened = url;
            provider.authorize(tamper ? tamper(url) : url, args);
        });
        AuthReply *reply = c->signInWithBrowser();
        reply->setAutoDelete(false);
        const bool done = QTest::qWaitFor([reply] { return reply->isFinished(); }, 30000);
        const AuthError error = done
            ? reply->error()
            : AuthError(AuthError::Kind::Network, QStringLiteral("the sign-in did not end"));
        delete reply;
        lastOpened = opened;
        return error;
    }
    QUrl lastOpened;

    AuthError wait(AuthReply *reply, QJsonObject *data = nullptr)
    {
        reply->setAutoDelete(false);
        const bool done = QTest::qWaitFor([reply] { return reply->isFinished(); }, 30000);
        const AuthError error = done
            ? reply->error()
            : AuthError(AuthError::Kind::Network, QStringLiteral("the operation did not end"));
        if (data)
            *data = reply->data();
        delete reply;
        return error;
    }

    int getMe(AuthClient *c, QJsonObject *body = nullptr)
    {
        QNetworkReply *reply = c->networkAccessManager()->get(
            QNetworkRequest(QUrl(provider.issuer().toString() + QStringLiteral("/me"))));
        if (!QTest::qWaitFor([reply] { return reply->isFinished(); }, 30000))
            return -1;
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (body)
            *body = QJsonDocument::fromJson(reply->readAll()).object();
        reply->deleteLater();
        return status;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QString why;
        QVERIFY2(OidcProvider::available(&why), qPrintable(why));
        QVERIFY2(provider.start({ QStringLiteral("--device-interval"), QStringLiteral("1") }),
            qPrintable(provider.errorString()));
    }

    void browserSignInWithPkceOnAFreeLoopbackPort()
    {
        auto c = client();
        QCOMPARE(browserSignIn(c.get()).kind(), AuthError::Kind::NoError);
        QCOMPARE(c->state(), AuthClient::State::SignedIn);
        QCOMPARE(c->identity(), QStringLiteral("alice@example.com"));
        QCOMPARE(c->user().value(QLatin1String("name")).toString(), QStringLiteral("Alice"));
        // What went to the browser: PKCE S256, state, nonce, a loopback redirect on a real port.
        QCOMPARE(queryValue(lastOpened, QStringLiteral("code_challenge_method")),
            QStringLiteral("S256"));
        QCOMPARE(queryValue(lastOpened, QStringLiteral("code_challenge")).size(), 43);
        QVERIFY(!queryValue(lastOpened, QStringLiteral("state")).isEmpty());
        QVERIFY(!queryValue(lastOpened, QStringLiteral("nonce")).isEmpty());
        const QUrl redirect(queryValue(lastOpened, QStringLiteral("redirect_uri")));
        QCOMPARE(redirect.host(), QStringLiteral("127.0.0.1"));
        QVERIFY(redirect.port() > 0);
        QCOMPARE(redirect.path(), QStringLiteral("/callback"));
        // The access token works at the API, the refresh token is in the store.
        QJsonObject me;
        QCOMPARE(getMe(c.get(), &me), 200);
        QCOMPARE(me.value(QLatin1String("sub")).toString(), QStringLiteral("alice"));
        QVERIFY(!storedRefreshToken(c.get(), c->identity()).isEmpty());
    }

    void fixedRedirectPortAndPathFromTheProfile()
    {
        // Some providers match the registered redirect URI exactly: the profile names it.
        quint16 port = 0;
        {
            QTcpServer probe;
            QVERIFY(probe.listen(QHostAddress::LocalHost));
            port = probe.serverPort();
        }
        const QString uri = QStringLiteral("http://127.0.0.1:%1/callback").arg(port);
        auto c = client(native, {}, { { QStringLiteral("redirectUri"), uri } });
        QCOMPARE(browserSignIn(c.get()).kind(), AuthError::Kind::NoError);
        QCOMPARE(queryValue(lastOpened, QStringLiteral("redirect_uri")), uri);
        QCOMPARE(c->identity(), QStringLiteral("alice@example.com"));
    }

    void redirectToAPrivateUseSchemeIsHandedInByTheApp()
    {
        auto c = client(native, {},
            { { QStringLiteral("redirectUri"),
                QStringLiteral("com.example.latchkey:/callback") } });
        QProcess *agent = nullptr;
        QObject::connect(c.get(), &AuthClient::openUrlRequested, c.get(),
            [&](const QUrl &url) { agent = provider.authorize(url, userLogin); });
        AuthReply *reply = c->signInWithBrowser();
        QTRY_VERIFY_WITH_TIMEOUT(agent && agent->state() == QProcess::NotRunning, 30000);
        const QUrl redirect = OidcProvider::redirectOf(agent);
        QCOMPARE(redirect.scheme(), QStringLiteral("com.example.latchkey"));
        QVERIFY(!c->handleRedirect(QUrl(QStringLiteral("com.example.other:/callback"))));
        QVERIFY(c->handleRedirect(redirect));
        QCOMPARE(wait(reply).kind(), AuthError::Kind::NoError);
        QCOMPARE(c->identity(), QStringLiteral("alice@example.com"));
        QVERIFY(!c->handleRedirect(redirect)); // nothing in progress any more
    }

    void redirectWithAnotherStateIsIgnored()
    {
        auto c = client(native, {},
            { { QStringLiteral("redirectUri"),
                QStringLiteral("com.example.latchkey:/callback") } });
        QProcess *agent = nullptr;
        QObject::connect(c.get(), &AuthClient::openUrlRequested, c.get(),
            [&](const QUrl &url) { agent = provider.authorize(url, userLogin); });
        AuthReply *reply = c->signInWithBrowser();
        reply->setAutoDelete(false);
        QTRY_VERIFY_WITH_TIMEOUT(agent && agent->state() == QProcess::NotRunning, 30000);
        const QUrl redirect = OidcProvider::redirectOf(agent);
        const QUrl forged
            = withQueryValue(redirect, QStringLiteral("state"), QStringLiteral("forged"));
        // Not this sign-in's answer: refused, and the sign-in waits on for its own.
        QVERIFY(!c->handleRedirect(forged));
        QTest::qWait(50);
        QVERIFY(!reply->isFinished());
        QCOMPARE(c->state(), AuthClient::State::SigningIn);
        QVERIFY(c->handleRedirect(redirect));
        QCOMPARE(wait(reply).kind(), AuthError::Kind::NoError);
        QCOMPARE(c->identity(), QStringLiteral("alice@example.com"));
    }

    void authorizationWithoutPkceIsRefusedByTheProvider()
    {
        auto c = client();
        const AuthError error = browserSignIn(c.get(), userLogin, [](QUrl url) {
            url = withQueryValue(url, QStringLiteral("code_challenge"), QString());
            return withQueryValue(url, QStringLiteral("code_challenge_method"), QString());
        });
        QCOMPARE(error.kind(), AuthError::Kind::Protocol);
        QCOMPARE(c->state(), AuthClient::State::SignedOut);
    }

    void codeBoundToAnotherVerifierIsNotExchanged()
    {
        // The code is issued for another challenge than the client's verifier: the token
        // endpoint refuses the exchange (what stops a stolen code).
        auto c = client();
        const AuthError error = browserSignIn(c.get(), userLogin, [](QUrl url) {
            return withQueryValue(url, QStringLiteral("code_challenge"),
                QStringLiteral("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        });
        QCOMPARE(error.kind(), AuthError::Kind::Protocol);
        QCOMPARE(c->state(), AuthClient::State::SignedOut);
        QVERIFY(!storedRefreshToken(c.get(), c->identity()).size());
    }

    void refusedConsentIsAccessDenied()
    {
        auto c = client();
        const AuthError error
            = browserSignIn(c.get(), userLogin + QStringList { QStringLiteral("--deny") });
        QCOMPARE(error.kind(), AuthError::Kind::AccessDenied);
        QVERIFY2(!error.message().contains(QLatin1Char('+')), qPrintable(error.message()));
        QCOMPARE(c->state(), AuthClient::State::SignedOut);
    }

    void idTokenWithAnotherNonceIsRefused()
    {
        auto c = client();
        const AuthError error = browserSignIn(c.get(), userLogin, [](QUrl url) {
            return withQueryValue(url, QStringLiteral("nonce"), QStringLiteral("not-the-clients"));
        });
        QCOMPARE(error.kind(), AuthError::Kind::Protocol);
        QVERIFY2(error.message().contains(QLatin1String("nonce")), qPrintable(error.message()));
        QCOMPARE(c->state(), AuthClient::State::SignedOut);
    }

    void cancelledBrowserSignInStopsListening()
    {
        auto c = client();
        QUrl opened;
        QObject::connect(c.get(), &AuthClient::openUrlRequested, c.get(),
            [&](const QUrl &url) { opened = url; });
        AuthReply *reply = c->signInWithBrowser();
        reply->setAutoDelete(false);
        QTRY_VERIFY_WITH_TIMEOUT(opened.isValid(), 10000);
        c->cancelSignIn();
        QTRY_VERIFY(reply->isFinished());
        QCOMPARE(reply->error().kind(), AuthError::Kind::Cancelled);
        delete reply;
        QCOMPARE(c->state(), AuthClient::State::SignedOut);
        // The browser arriving late finds nobody listening.
        QProcess *agent = provider.authorize(opened, userLogin);
        QTRY_VERIFY_WITH_TIMEOUT(agent->state() == QProcess::NotRunning, 30000);
        QVERIFY2(agent->exitCode() != 0, OidcProvider::describe(agent).constData());
    }

    void browserThatNeverComesBackEndsTheSignIn()
    {
        ManualClock clock;
        auto c = client();
        c->setRedirectTimeout(120s);
        QUrl opened;
        QObject::connect(c.get(), &AuthClient::openUrlRequested, c.get(),
            [&](const QUrl &url) { opened = url; });
        AuthReply *reply = c->signInWithBrowser();
        reply->setAutoDelete(false);
        QTRY_VERIFY_WITH_TIMEOUT(opened.isValid(), 10000);
        clock.advance(119s);
        QTest::qWait(50);
        QVERIFY(!reply->isFinished());
        clock.advance(2s);
        QTRY_VERIFY(reply->isFinished());
        QCOMPARE(reply->error().kind(), AuthError::Kind::AuthorizationExpired);
        delete reply;
    }

    void rotatedRefreshTokenIsStoredAndAnotherClientRestores()
    {
        auto c = client();
        QCOMPARE(browserSignIn(c.get()).kind(), AuthError::Kind::NoError);
        const QByteArray first = storedRefreshToken(c.get(), c->identity());
        QVERIFY(!first.isEmpty());
        // The provider forgets the access token: the next request meets a 401, refreshes once.
        provider.expireAccessTokens();
        QSignalSpy refreshed(c.get(), &AuthClient::tokenRefreshed);
        QCOMPARE(getMe(c.get()), 200);
        QCOMPARE(refreshed.count(), 1);
        QVERIFY(QTest::qWaitFor(
            [&] { return storedRefreshToken(c.get(), c->identity()) != first; }, 10000));
        QVERIFY(!provider.isActive(first)); // rotated: the old one is spent
        // Another client (as another process would) restores from the store.
        ServerProfile profile = c->profile();
        AuthClient second(profile, provider.issuer());
        second.setTokenStore(store);
        QCOMPARE(wait(second.restore()).kind(), AuthError::Kind::NoError);
        QCOMPARE(second.state(), AuthClient::State::SignedIn);
        QCOMPARE(second.identity(), QStringLiteral("alice@example.com"));
        QCOMPARE(getMe(&second), 200);
        store->setParent(&second);
    }

    void restoreWithoutTheProviderKeepsTheSessionOffline()
    {
        auto c = client();
        QCOMPARE(browserSignIn(c.get()).kind(), AuthError::Kind::NoError);
        // The next start: the provider cannot be reached (not even its discovery document).
        const QUrl api = c->baseUrl();
        provider.stop();
        AuthClient next(c->profile(), api);
        next.setTokenStore(store);
        store->setParent(&next);
        const AuthError error = wait(next.restore());
        QCOMPARE(error.kind(), AuthError::Kind::Network);
        QCOMPARE(next.state(), AuthClient::State::SignedIn);
        QVERIFY(!next.isOnline());
        QCOMPARE(next.identity(), QStringLiteral("alice@example.com"));
        QVERIFY(!storedRefreshToken(&next, next.identity()).isEmpty());
        QVERIFY2(provider.start({ QStringLiteral("--device-interval"), QStringLiteral("1") }),
            qPrintable(provider.errorString()));
    }

    void signOutRevokesAndOffersTheEndSessionUrl()
    {
        auto c = client();
        QCOMPARE(browserSignIn(c.get()).kind(), AuthError::Kind::NoError);
        const QByteArray refreshToken = storedRefreshToken(c.get(), c->identity());
        QVERIFY(provider.isActive(refreshToken));
        QJsonObject data;
        QCOMPARE(wait(c->signOut(), &data).kind(), AuthError::Kind::NoError);
        QVERIFY(!provider.isActive(refreshToken));
        const QUrl endSession(data.value(QLatin1String("endSessionUrl")).toString());
        QCOMPARE(endSession, c->endSessionUrl());
        QVERIFY(endSession.toString().startsWith(provider.issuer().toString()));
        QVERIFY(!queryValue(endSession, QStringLiteral("id_token_hint")).isEmpty());
        QCOMPARE(queryValue(endSession, QStringLiteral("client_id")), native);
    }

    void deviceSignInOnceApprovedElsewhere()
    {
        auto c = client();
        QProcess *agent = nullptr;
        DeviceAuthorization shown;
        QObject::connect(c.get(), &AuthClient::deviceCodeReceived, c.get(),
            [&](const DeviceAuthorization &code) {
                shown = code;
                agent = provider.approveDevice(code.verificationUri, code.userCode, userLogin);
            });
        QCOMPARE(wait(c->signInWithDevice()).kind(), AuthError::Kind::NoError);
        QVERIFY(shown.isValid());
        QVERIFY(shown.expiresAt > QDateTime::currentDateTimeUtc());
        QCOMPARE(c->identity(), QStringLiteral("alice@example.com"));
        QCOMPARE(getMe(c.get()), 200);
    }

    void devicePollingHonoursIntervalAndSlowDown()
    {
        ManualClock clock;
        auto c = client();
        DeviceAuthorization shown;
        QObject::connect(c.get(), &AuthClient::deviceCodeReceived, c.get(),
            [&](const DeviceAuthorization &code) { shown = code; });
        AuthReply *reply = c->signInWithDevice();
        reply->setAutoDelete(false);
        QTRY_VERIFY_WITH_TIMEOUT(shown.isValid(), 10000);
        QCOMPARE(shown.interval, 1);
        const QString grant = QStringLiteral("urn:ietf:params:oauth:grant-type:device_code");
        provider.resetCounters();
        provider.slowDown(1);
        QTest::qWait(100);
        QCOMPARE(provider.tokenRequests(grant), 0); // not before the interval
        clock.advance(1s);
        QTRY_COMPARE(provider.tokenRequests(grant), 1); // answered slow_down
        clock.advance(1s);
        QTest::qWait(200);
        QCOMPARE(provider.tokenRequests(grant), 1); // the interval is 1 + 5 s now
        clock.advance(5s);
        QTRY_COMPARE(provider.tokenRequests(grant), 2); // authorization_pending
        QVERIFY(!reply->isFinished());
        c->cancelSignIn();
        QTRY_VERIFY(reply->isFinished());
        QCOMPARE(reply->error().kind(), AuthError::Kind::Cancelled);
        delete reply;
    }

    void expiredDeviceCodeEndsTheSignIn()
    {
        ManualClock clock;
        auto c = client();
        bool shown = false;
        QObject::connect(c.get(), &AuthClient::deviceCodeReceived, c.get(),
            [&](const DeviceAuthorization &) { shown = true; });
        AuthReply *reply = c->signInWithDevice();
        reply->setAutoDelete(false);
        QTRY_VERIFY_WITH_TIMEOUT(shown, 10000);
        provider.expireDeviceCodes();
        clock.advance(1s);
        QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 10000);
        QCOMPARE(reply->error().kind(), AuthError::Kind::AuthorizationExpired);
        delete reply;
        QCOMPARE(c->state(), AuthClient::State::SignedOut);
    }

    void deniedDeviceCodeIsAccessDenied()
    {
        auto c = client();
        QObject::connect(c.get(), &AuthClient::deviceCodeReceived, c.get(),
            [&](const DeviceAuthorization &code) {
                provider.approveDevice(code.verificationUri, code.userCode,
                    userLogin + QStringList { QStringLiteral("--deny") });
            });
        QCOMPARE(wait(c->signInWithDevice()).kind(), AuthError::Kind::AccessDenied);
        QCOMPARE(c->state(), AuthClient::State::SignedOut);
    }

    void clientCredentialsStormFetchesOneNewToken()
    {
        // An API that honours a token until it says otherwise: the first token is refused.
        ScriptedServer api;
        QByteArray refusedToken;
        api.on(QStringLiteral("/api/data"), [&](const QHttpServerRequest &request) {
            const QByteArray bearer = request.value("Authorization");
            if (refusedToken.isEmpty())
                refusedToken = bearer;
            return bearer == refusedToken ? ScriptedServer::json("{\"error\":\"expired\"}", 401)
                                          : ScriptedServer::json("{\"ok\":true}");
        });
        QVERIFY(api.listen());
        auto profile = ServerProfile::openIdConnect(
            provider.issuer(), QStringLiteral("latchkey-service"), { QStringLiteral("api:read") });
        QJsonObject root = profile.toJson();
        QJsonObject oidc = root.value(QLatin1String("oidc")).toObject();
        oidc.insert(QStringLiteral("clientAuth"), QStringLiteral("basic"));
        oidc.insert(QStringLiteral("resource"), QStringLiteral("http://127.0.0.1/api"));
        root.insert(QStringLiteral("oidc"), oidc);
        AuthClient c(ServerProfile::fromJsonObject(root), api.baseUrl());
        auto *memory = new MemoryTokenStore(&c);
        c.setTokenStore(memory);
        provider.resetCounters();
        QCOMPARE(
            wait(c.signInWithClientCredentials("service-secret")).kind(), AuthError::Kind::NoError);
        QCOMPARE(c.identity(), QStringLiteral("latchkey-service"));
        QCOMPARE(provider.tokenRequests(QStringLiteral("client_credentials")), 1);
        QList<QNetworkReply *> replies;
        for (int i = 0; i < 20; ++i)
            replies << c.networkAccessManager()->get(
                QNetworkRequest(api.url(QStringLiteral("/api/data"))));
        QTRY_VERIFY_WITH_TIMEOUT(std::all_of(replies.begin(), replies.end(),
                                     [](QNetworkReply *r) { return r->isFinished(); }),
            30000);
        for (QNetworkReply *r : replies) {
            QCOMPARE(r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
            r->deleteLater();
        }
        QCOMPARE(provider.tokenRequests(QStringLiteral("client_credentials")), 2);
        // Nothing of a client's session is kept: no secret, no token in the store.
        QCOMPARE(memory->count(), 0);
    }

    void clientCredentialsWithAWrongSecretAreRefused()
    {
        AuthClient c(ServerProfile::openIdConnect(provider.issuer(),
                         QStringLiteral("latchkey-service"), { QStringLiteral("api:read") }),
            provider.issuer());
        c.setTokenStore(new MemoryTokenStore(&c));
        QCOMPARE(wait(c.signInWithClientCredentials("not-the-secret")).kind(),
            AuthError::Kind::InvalidCredentials);
        QCOMPARE(c.state(), AuthClient::State::SignedOut);
    }

    void discoveryFailureIsAClearError()
    {
        // Nobody listens at this issuer.
        ScriptedServer nothing;
        QVERIFY(nothing.listen());
        const QUrl dead = nothing.baseUrl();
        {
            AuthClient c(ServerProfile::openIdConnect(
                             QUrl(QStringLiteral("http://127.0.0.1:9/realms/none")), native),
                provider.issuer());
            c.setTokenStore(new MemoryTokenStore(&c));
            const AuthError error = wait(c.signInWithBrowser());
            QCOMPARE(error.kind(), AuthError::Kind::Network);
            QVERIFY2(
                error.message().contains(QLatin1String("discovery")), qPrintable(error.message()));
        }
        // A discovery document for another issuer.
        nothing.on(
            QStringLiteral("/.well-known/openid-configuration"), [](const QHttpServerRequest &) {
                return ScriptedServer::json(
                    "{\"issuer\":\"https://evil.example\",\"token_endpoint\":\"https://"
                    "evil.example/t\"}");
            });
        AuthClient c(ServerProfile::openIdConnect(dead, native), provider.issuer());
        c.setTokenStore(new MemoryTokenStore(&c));
        const AuthError error = wait(c.signInWithBrowser());
        QCOMPARE(error.kind(), AuthError::Kind::Protocol);
        QVERIFY2(error.message().contains(QLatin1String("issuer")), qPrintable(error.message()));
    }

    void idTokenForAnotherAudienceIsRefused()
    {
        // A provider no certification would pass: its ID token names another client.
        ScriptedServer fake;
        QVERIFY(fake.listen());
        const QString issuer = fake.baseUrl().toString(QUrl::StripTrailingSlash);
        fake.on(QStringLiteral("/.well-known/openid-configuration"),
            [issuer](const QHttpServerRequest &) {
                QJsonObject doc { { QStringLiteral("issuer"), issuer },
                    { QStringLiteral("authorization_endpoint"),
                        QString(issuer + QStringLiteral("/auth")) },
                    { QStringLiteral("token_endpoint"),
                        QString(issuer + QStringLiteral("/token")) } };
                return ScriptedServer::json(QJsonDocument(doc).toJson());
            });
        QByteArray nonce;
        fake.on(QStringLiteral("/token"), [&, issuer](const QHttpServerRequest &) {
            const QJsonObject claims { { QStringLiteral("iss"), issuer },
                { QStringLiteral("sub"), QStringLiteral("mallory") },
                { QStringLiteral("aud"), QStringLiteral("another-client") },
                { QStringLiteral("exp"), QDateTime::currentSecsSinceEpoch() + 300 },
                { QStringLiteral("nonce"), QString::fromLatin1(nonce) } };
            const QByteArray idToken = part({ { QStringLiteral("alg"), QStringLiteral("none") } })
                + '.' + part(claims) + '.';
            QJsonObject answer { { QStringLiteral("access_token"), QStringLiteral("at") },
                { QStringLiteral("token_type"), QStringLiteral("Bearer") },
                { QStringLiteral("expires_in"), 300 },
                { QStringLiteral("id_token"), QString::fromLatin1(idToken) } };
            return ScriptedServer::json(QJsonDocument(answer).toJson());
        });
        AuthClient c(ServerProfile::openIdConnect(QUrl(issuer), native), fake.baseUrl());
        c.setTokenStore(new MemoryTokenStore(&c));
        QNetworkAccessManager browser;
        QObject::connect(&c, &AuthClient::openUrlRequested, &c, [&](const QUrl &url) {
            nonce = queryValue(url, QStringLiteral("nonce")).toLatin1();
            QUrl redirect(queryValue(url, QStringLiteral("redirect_uri")));
            redirect.setQuery(
                QStringLiteral("code=abc&state=") + queryValue(url, QStringLiteral("state")));
            browser.get(QNetworkRequest(redirect));
        });
        const AuthError error = wait(c.signInWithBrowser());
        QCOMPARE(error.kind(), AuthError::Kind::Protocol);
        QVERIFY2(error.message().contains(QLatin1String("aud")), qPrintable(error.message()));
        QCOMPARE(c.state(), AuthClient::State::SignedOut);
    }
};

QTEST_GUILESS_MAIN(tst_Oidc)
#include "tst_oidc.moc"
