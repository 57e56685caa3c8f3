#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/keychaintokenstore.h>
#include <latchkey/memorytokenstore.h>

#include "serverprocess.h"
#include "testhelpers.h"

#include <QJsonDocument>
#include <QtTest>

using namespace Latchkey;
using namespace LatchkeyTest;
using namespace std::chrono_literals;

namespace {
const QString refreshOk = QStringLiteral("latchkey_refresh_total{result=\"ok\"}");

// Writes a session into a store as an earlier process would have left it.
void seed(TokenStore *store, const AuthClient &client, const QByteArray &refreshToken)
{
    int pending = 2;
    store->write(tokenKey(client.profile().name(), client.baseUrl(), guest), refreshToken,
        [&](const AuthError &) { --pending; });
    store->write(lastIdentityKey(client.profile().name(), client.baseUrl()), guest.toUtf8(),
        [&](const AuthError &) { --pending; });
    QTRY_COMPARE(pending, 0);
}
} // namespace

class TestDialects : public QObject
{
    Q_OBJECT

    std::unique_ptr<ServerProcess> m_server;
    QString m_profile;
    QString m_protectedGet;

    void addRows()
    {
        QTest::addColumn<QString>("dialect"); // latchkey-server --dialect
        QTest::addColumn<QString>("profile"); // built-in profile
        QTest::addColumn<QString>("role"); // the guest's role in that dialect
        QTest::newRow("latchkey") << "latchkey"
                                  << "latchkey"
                                  << "guest";
        QTest::newRow("innhotel") << "innhotel"
                                  << "innhotel"
                                  << "User";
        QTest::newRow("hotel-reviews") << "hotel-reviews"
                                       << "hotel-reviews"
                                       << "user";
        QTest::newRow("schedule-manager") << "schedule-manager"
                                          << "schedule-manager"
                                          << "employee";
        // RFC 6749 token endpoint of the native server.
        QTest::newRow("oauth2") << "latchkey"
                                << "oauth2"
                                << "guest";
    }

    // Starts the row's server; every sign-in limit off unless a test turns one on.
    bool start(const QStringList &extra = {})
    {
        QFETCH(QString, dialect);
        QFETCH(QString, profile);
        m_profile = profile;
        m_protectedGet = ServerProfile::builtin(profile)
                             .toJson()
                             .value(QStringLiteral("endpoints"))
                             .toObject()
                             .value(QStringLiteral("protectedGet"))
                             .toString();
        m_server = std::make_unique<ServerProcess>();
        QStringList args { QStringLiteral("--dialect"), dialect, QStringLiteral("--seed-demo"),
            QStringLiteral("--pbkdf2-iterations"), QStringLiteral("1000") };
        if (!extra.contains(QStringLiteral("--login-rate-limit")))
            args << QStringLiteral("--login-rate-limit") << QStringLiteral("0");
        if (!extra.contains(QStringLiteral("--lockout-threshold")))
            args << QStringLiteral("--lockout-threshold") << QStringLiteral("0");
        if (!m_server->start(args + extra)) {
            qWarning() << m_server->errorString();
            return false;
        }
        return !m_protectedGet.isEmpty();
    }

    std::unique_ptr<AuthClient> client(TokenStore *store = new MemoryTokenStore)
    {
        auto c
            = std::make_unique<AuthClient>(ServerProfile::builtin(m_profile), m_server->baseUrl());
        c->setTokenStore(store);
        return c;
    }

    QNetworkReply *getProtected(AuthClient *c)
    {
        return c->networkAccessManager()->get(
            QNetworkRequest(m_server->baseUrl().resolved(QUrl(m_protectedGet))));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("Latchkey"));
        // A keychain service of this process alone: tests run in parallel and a loopback port
        // (part of every entry's key) can be reused by the next server.
        QCoreApplication::setApplicationName(
            QStringLiteral("tst_dialects-%1").arg(QCoreApplication::applicationPid()));
    }
    void cleanup() { m_server.reset(); }

    void signInAndCallTheApi_data() { addRows(); }
    void signInAndCallTheApi()
    {
        QFETCH(QString, role);
        QVERIFY(start());
        auto c = client();
        const AuthError error = await(c->signIn(guest, guestPassword));
        QVERIFY2(!error.isError(), qPrintable(error.toString()));
        QCOMPARE(c->state(), AuthClient::State::SignedIn);
        QVERIFY2(c->roles().contains(role), qPrintable(c->roles().join(QLatin1Char(','))));
        QVERIFY(c->expiresAt() > QDateTime::currentDateTimeUtc());
        QNetworkReply *reply = getProtected(c.get());
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(httpStatus(reply), 200);
        delete reply;
    }

    void badCredentials_data() { addRows(); }
    void badCredentials()
    {
        QVERIFY(start());
        auto c = client();
        const AuthError error = await(c->signIn(guest, QStringLiteral("Not-The-Password-1!")));
        QCOMPARE(error.kind(), AuthError::Kind::InvalidCredentials);
        QVERIFY(!error.message().isEmpty());
        QCOMPARE(c->state(), AuthClient::State::SignedOut);
    }

    void restoreFromTheKeychain_data() { addRows(); }
    void restoreFromTheKeychain()
    {
        QVERIFY(start());
        {
            auto first = client(new KeychainTokenStore);
            QVERIFY(!await(first->signIn(guest, guestPassword)).isError());
        }
        auto second = client(new KeychainTokenStore);
        const AuthError error = await(second->restore());
        QVERIFY2(!error.isError(), qPrintable(error.toString()));
        QCOMPARE(second->state(), AuthClient::State::SignedIn);
        QNetworkReply *reply = getProtected(second.get());
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(httpStatus(reply), 200);
        delete reply;
        QVERIFY(!await(second->signOut()).isError());
    }

    void proactiveRefresh_data() { addRows(); }
    void proactiveRefresh()
    {
        QVERIFY(start({ QStringLiteral("--access-ttl"), QStringLiteral("2") }));
        auto c = client();
        c->setRefreshLeadTime(1500ms); // refresh half a second after each new token
        QVERIFY(!await(c->signIn(guest, guestPassword)).isError());
        QSignalSpy refreshed(c.get(), &AuthClient::tokenRefreshed);
        QVERIFY(refreshed.wait(10000));
        QCOMPARE(refreshed.at(0).at(0).value<AuthClient::RefreshReason>(),
            AuthClient::RefreshReason::Proactive);
        QNetworkReply *reply = getProtected(c.get());
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(httpStatus(reply), 200);
        QCOMPARE(m_server->metric(QStringLiteral("latchkey_unauthorized_total")), 0.0);
        delete reply;
    }

    void stormOfFiftyCausesOneRefresh_data() { addRows(); }
    void stormOfFiftyCausesOneRefresh()
    {
        QVERIFY(start());
        auto c = client();
        QVERIFY(!await(c->signIn(guest, guestPassword)).isError());
        const double before = m_server->metric(refreshOk);
        QCOMPARE(m_server->hook(QStringLiteral("/test/expire-access-tokens")), 204);
        QList<QNetworkReply *> replies;
        for (int i = 0; i < 50; ++i)
            replies << getProtected(c.get());
        QVERIFY(awaitAll(replies));
        for (QNetworkReply *reply : replies)
            QCOMPARE(httpStatus(reply), 200);
        QCOMPARE(m_server->metric(refreshOk) - before, 1.0);
        qDeleteAll(replies);
    }

    void rotationIsKept_data() { addRows(); }
    void rotationIsKept()
    {
        QVERIFY(start());
        auto first = client(new KeychainTokenStore);
        QVERIFY(!await(first->signIn(guest, guestPassword)).isError());
        const QByteArray original = storedRefreshToken(first.get(), guest);
        QVERIFY(!original.isEmpty());
        auto second = client(new KeychainTokenStore);
        QVERIFY(!await(second->restore()).isError());
        QVERIFY(!await(second->flush()).isError());
        const QByteArray rotated = storedRefreshToken(second.get(), guest);
        QVERIFY(!rotated.isEmpty());
        QVERIFY(rotated != original);
        auto third = client(new KeychainTokenStore); // the rotated token is the live one
        QVERIFY(!await(third->restore()).isError());
        QVERIFY(!await(third->signOut()).isError());
    }

    void rejectedRefreshSignsOut_data() { addRows(); }
    void rejectedRefreshSignsOut()
    {
        QVERIFY(start());
        auto c = client(new KeychainTokenStore);
        QVERIFY(!await(c->signIn(guest, guestPassword)).isError());
        QSignalSpy expired(c.get(), &AuthClient::sessionExpired);
        QCOMPARE(m_server->hook(
                     QStringLiteral("/test/revoke-sessions"), R"({"email":"guest@latchkey.test"})"),
            204);
        QCOMPARE(m_server->hook(QStringLiteral("/test/expire-access-tokens")), 204);
        QNetworkReply *reply = getProtected(c.get());
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(AuthorizedNetworkAccessManager::authError(reply).kind(),
            AuthError::Kind::SessionExpired);
        QCOMPARE(expired.size(), 1);
        QCOMPARE(c->state(), AuthClient::State::SignedOut);
        QVERIFY(!await(c->flush()).isError());
        QVERIFY(storedRefreshToken(c.get(), guest).isEmpty());
        delete reply;
    }

    void signOutRevokes_data() { addRows(); }
    void signOutRevokes()
    {
        QVERIFY(start());
        auto c = client();
        QVERIFY(!await(c->signIn(guest, guestPassword)).isError());
        const QByteArray token = storedRefreshToken(c.get(), guest);
        QVERIFY(!token.isEmpty());
        const AuthError error = await(c->signOut());
        QVERIFY2(!error.isError(), qPrintable(error.toString()));
        QVERIFY(storedRefreshToken(c.get(), guest).isEmpty());
        // The token the session had is dead on the server too.
        auto *store = new MemoryTokenStore;
        auto later = client(store);
        seed(store, *later, token);
        QCOMPARE(await(later->restore()).kind(), AuthError::Kind::SessionExpired);
    }

    void lockout_data() { addRows(); }
    void lockout()
    {
        QVERIFY(start({ QStringLiteral("--lockout-threshold"), QStringLiteral("3") }));
        auto c = client();
        for (int i = 0; i < 3; ++i)
            QCOMPARE(await(c->signIn(guest, QStringLiteral("Wrong-Password-1!"))).kind(),
                AuthError::Kind::InvalidCredentials);
        const AuthError error = await(c->signIn(guest, guestPassword));
        QCOMPARE(error.kind(), AuthError::Kind::AccountLocked);
        QVERIFY2(
            error.lockedUntil() > QDateTime::currentDateTimeUtc(), qPrintable(error.toString()));
        QVERIFY(!error.message().isEmpty());
    }

    void rateLimit_data() { addRows(); }
    void rateLimit()
    {
        QVERIFY(start({ QStringLiteral("--login-rate-limit"), QStringLiteral("2"),
            QStringLiteral("--login-rate-window"), QStringLiteral("60") }));
        auto c = client();
        QVERIFY(!await(c->signIn(guest, guestPassword)).isError());
        QVERIFY(!await(c->signIn(guest, guestPassword)).isError());
        const AuthError error = await(c->signIn(guest, guestPassword));
        QCOMPARE(error.kind(), AuthError::Kind::RateLimited);
        QVERIFY2(error.retryAfter() > 0 && error.retryAfter() <= 60, qPrintable(error.toString()));
    }

    void passwordPolicy_data() { addRows(); }
    void passwordPolicy()
    {
        QVERIFY(start());
        if (!ServerProfile::builtin(m_profile).toJson().contains(QLatin1String("register")))
            QSKIP("RFC 6749 defines no registration endpoint");
        auto c = client();
        const AuthError error = await(
            c->registerAccount(QStringLiteral("weak@latchkey.test"), QStringLiteral("weak")));
        QCOMPARE(error.kind(), AuthError::Kind::PasswordPolicy);
        QVERIFY2(!error.requirements().isEmpty(), qPrintable(error.toString()));
        const AuthError taken
            = await(c->registerAccount(guest, QStringLiteral("Strong-Enough-2026!")));
        QCOMPARE(taken.kind(), AuthError::Kind::AlreadyExists);
    }

    void changePassword_data() { addRows(); }
    void changePassword()
    {
        QVERIFY(start());
        if (!ServerProfile::builtin(m_profile).toJson().contains(QLatin1String("changePassword")))
            QSKIP("RFC 6749 defines no password change");
        auto c = client();
        QVERIFY(!await(c->signIn(guest, guestPassword)).isError());
        const QString next = QStringLiteral("Brand-New-2027!");
        QCOMPARE(await(c->changePassword(QStringLiteral("Not-It-2026!"), next)).kind(),
            AuthError::Kind::InvalidCredentials);
        const AuthError weak = await(c->changePassword(guestPassword, QStringLiteral("weak")));
        QCOMPARE(weak.kind(), AuthError::Kind::PasswordPolicy);
        QVERIFY(!weak.requirements().isEmpty());
        const AuthError changed = await(c->changePassword(guestPassword, next));
        QVERIFY2(!changed.isError(), qPrintable(changed.toString()));
        auto again = client();
        QCOMPARE(
            await(again->signIn(guest, guestPassword)).kind(), AuthError::Kind::InvalidCredentials);
        QVERIFY(!await(again->signIn(guest, next)).isError());
    }

    void fetchProfile_data() { addRows(); }
    void fetchProfile()
    {
        QVERIFY(start());
        if (!ServerProfile::builtin(m_profile).toJson().contains(QLatin1String("me")))
            QSKIP("RFC 6749 defines no user endpoint");
        auto c = client();
        QVERIFY(!await(c->signIn(guest, guestPassword)).isError());
        AuthReply *reply = c->fetchProfile();
        reply->setAutoDelete(false);
        const AuthError error = await(reply);
        QVERIFY2(!error.isError(), qPrintable(error.toString()));
        QCOMPARE(reply->data().value(QStringLiteral("email")).toString(), guest);
        QCOMPARE(c->user().value(QStringLiteral("email")).toString(), guest);
        delete reply;
    }

    void apiKeyMode_data()
    {
        QTest::addColumn<QString>("dialect");
        QTest::addColumn<QString>("profile");
        QTest::addColumn<QString>("role");
        QTest::newRow("hotel-reviews") << "hotel-reviews"
                                       << "hotel-reviews"
                                       << "user";
    }
    void apiKeyMode()
    {
        QVERIFY(start());
        const QJsonObject endpoints = ServerProfile::builtin(m_profile)
                                          .toJson()
                                          .value(QStringLiteral("endpoints"))
                                          .toObject();
        const QUrl keys = m_server->baseUrl().resolved(
            QUrl(endpoints.value(QStringLiteral("apiKeys")).toString()));
        const QUrl status = m_server->baseUrl().resolved(
            QUrl(endpoints.value(QStringLiteral("apiKeyGet")).toString()));

        // A user creates a key through the authorized manager...
        auto user = client();
        QVERIFY(!await(user->signIn(guest, guestPassword)).isError());
        QNetworkRequest create(keys);
        create.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        QNetworkReply *created
            = user->networkAccessManager()->post(create, QByteArrayLiteral(R"({"name":"ci"})"));
        QVERIFY(awaitAll({ created }));
        QCOMPARE(httpStatus(created), 201);
        const QByteArray key = QJsonDocument::fromJson(created->readAll())
                                   .object()
                                   .value(QStringLiteral("data"))
                                   .toObject()
                                   .value(QStringLiteral("key"))
                                   .toString()
                                   .toUtf8();
        QVERIFY(!key.isEmpty());
        delete created;

        // ...and a service client that never signs in uses it.
        auto service = client();
        QNetworkReply *without = service->networkAccessManager()->get(QNetworkRequest(status));
        QVERIFY(awaitAll({ without }));
        QCOMPARE(httpStatus(without), 401);
        delete without;
        service->setApiKey(key);
        QVERIFY(service->hasApiKey());
        QNetworkReply *with = service->networkAccessManager()->get(QNetworkRequest(status));
        QVERIFY(awaitAll({ with }));
        QCOMPARE(httpStatus(with), 200);
        QVERIFY(with->readAll().contains("service is healthy"));
        delete with;
    }
};

QTEST_GUILESS_MAIN(TestDialects)
#include "tst_dialects.moc"
