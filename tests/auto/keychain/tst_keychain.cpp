#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/keychaintokenstore.h>

#include "scriptedserver.h"
#include "serverprocess.h"
#include "testhelpers.h"

#include <QDirIterator>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QRandomGenerator>
#include <QtTest>

using namespace Latchkey;
using namespace LatchkeyTest;

namespace {
const QString refreshOk = QStringLiteral("latchkey_refresh_total{result=\"ok\"}");

QString randomHex(int bytes)
{
    QByteArray raw(bytes, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(raw.data()), bytes / 4);
    return QString::fromLatin1(raw.toHex());
}

// Files under \a root that contain any of \a needles (regular files up to 64 MiB).
QStringList filesContaining(const QString &root, const QList<QByteArray> &needles)
{
    QStringList hits;
    QDirIterator it(
        root, QDir::Files | QDir::Hidden | QDir::NoSymLinks, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        QFile file(path);
        if (file.size() > (64 << 20) || !file.open(QIODevice::ReadOnly))
            continue;
        const QByteArray content = file.readAll();
        for (const QByteArray &needle : needles) {
            if (content.contains(needle))
                hits << path;
        }
    }
    return hits;
}
} // namespace

class TestKeychain : public QObject
{
    Q_OBJECT

    std::unique_ptr<ServerProcess> m_server;

    bool startServer()
    {
        m_server = std::make_unique<ServerProcess>();
        const bool ok = m_server->start(ServerProcess::demoArgs());
        if (!ok)
            qWarning() << m_server->errorString();
        return ok;
    }

    std::unique_ptr<AuthClient> newClient()
    {
        // The default store: the OS keychain (here the Secret Service of with-keyring.sh).
        return std::make_unique<AuthClient>(
            ServerProfile::builtin(QStringLiteral("latchkey")), m_server->baseUrl());
    }

    // POSTs a refresh token straight to the server, as an attacker or a second process would.
    int refreshWith(const QByteArray &refreshToken)
    {
        QNetworkAccessManager nam;
        QNetworkRequest request(
            m_server->baseUrl().resolved(QUrl(QStringLiteral("/api/auth/refresh"))));
        request.setHeader(
            QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        QNetworkReply *reply = nam.post(request,
            QJsonDocument(QJsonObject { { QStringLiteral("refresh_token"),
                              QString::fromUtf8(refreshToken) } })
                .toJson());
        awaitAll({ reply });
        const int code = httpStatus(reply);
        delete reply;
        return code;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(qEnvironmentVariableIsSet("DBUS_SESSION_BUS_ADDRESS"),
            "run under tests/support/with-keyring.sh (scripts/test.sh does)");
        QCoreApplication::setOrganizationName(QStringLiteral("Latchkey"));
        // A keychain service of this process alone: tests run in parallel and a loopback port
        // (part of every entry's key) can be reused by the next server.
        QCoreApplication::setApplicationName(
            QStringLiteral("tst_keychain-%1").arg(QCoreApplication::applicationPid()));
    }

    void cleanup() { m_server.reset(); }

    void restoreInAFreshClient()
    {
        QVERIFY(startServer());
        {
            auto first = newClient();
            QVERIFY(qobject_cast<KeychainTokenStore *>(first->tokenStore()));
            const AuthError error = await(first->signIn(guest, guestPassword));
            QVERIFY2(!error.isError(), qPrintable(error.toString()));
        } // the first "process" is gone; only the keychain remembers

        auto second = newClient();
        QSignalSpy restored(second.get(), &AuthClient::sessionRestored);
        const AuthError error = await(second->restore());
        QVERIFY2(!error.isError(), qPrintable(error.toString()));
        QCOMPARE(second->state(), AuthClient::State::SignedIn);
        QCOMPARE(second->identity(), guest);
        QCOMPARE(second->user().value(QStringLiteral("email")).toString(), guest);
        QCOMPARE(restored.size(), 1);
        QNetworkReply *reply = second->networkAccessManager()->get(
            QNetworkRequest(m_server->baseUrl().resolved(QUrl(QStringLiteral("/api/bookings")))));
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(httpStatus(reply), 200);
        delete reply;
        QVERIFY(!await(second->signOut()).isError());
    }

    void keychainHoldsTheRotatedToken()
    {
        QVERIFY(startServer());
        auto first = newClient();
        QVERIFY(!await(first->signIn(guest, guestPassword)).isError());
        const QByteArray original = storedRefreshToken(first.get(), guest);
        QVERIFY(!original.isEmpty());

        auto second = newClient();
        QVERIFY(!await(second->restore()).isError()); // refreshes: the server rotates the token
        QVERIFY(!await(second->flush()).isError());
        const QByteArray rotated = storedRefreshToken(second.get(), guest);
        QVERIFY(!rotated.isEmpty());
        QVERIFY(rotated != original);
        QCOMPARE(refreshWith(rotated), 200); // the keychain holds the live token
        QCOMPARE(refreshWith(original), 401); // the old one is spent
    }

    void rejectedRefreshEndsTheSession()
    {
        QVERIFY(startServer());
        auto client = newClient();
        QVERIFY(!await(client->signIn(guest, guestPassword)).isError());
        QVERIFY(!storedRefreshToken(client.get(), guest).isEmpty());
        QSignalSpy expired(client.get(), &AuthClient::sessionExpired);

        QCOMPARE(m_server->hook(
                     QStringLiteral("/test/revoke-sessions"), R"({"email":"guest@latchkey.test"})"),
            204);
        QCOMPARE(m_server->hook(QStringLiteral("/test/expire-access-tokens")), 204);
        QList<QNetworkReply *> replies;
        for (int i = 0; i < 20; ++i) {
            replies << client->networkAccessManager()->get(QNetworkRequest(
                m_server->baseUrl().resolved(QUrl(QStringLiteral("/api/bookings")))));
        }
        QVERIFY(awaitAll(replies));
        for (QNetworkReply *reply : replies) {
            QCOMPARE(reply->error(), QNetworkReply::AuthenticationRequiredError);
            QCOMPARE(AuthorizedNetworkAccessManager::authError(reply).kind(),
                AuthError::Kind::SessionExpired);
        }
        QCOMPARE(expired.size(), 1);
        QCOMPARE(client->state(), AuthClient::State::SignedOut);
        QCOMPARE(client->identity(), guest); // kept: the sign-in form can offer it again
        QCOMPARE(
            m_server->metric(QStringLiteral("latchkey_refresh_total{result=\"invalid\"}")), 1.0);
        QVERIFY(!await(client->flush()).isError());
        QVERIFY(storedRefreshToken(client.get(), guest).isEmpty());
        QVERIFY(storedLastIdentity(client.get()).isEmpty());
        qDeleteAll(replies);
    }

    void signOutRevokesAndWipes()
    {
        QVERIFY(startServer());
        auto client = newClient();
        QVERIFY(!await(client->signIn(guest, guestPassword)).isError());
        const QByteArray token = storedRefreshToken(client.get(), guest);
        QVERIFY(!token.isEmpty());
        QSignalSpy signedOut(client.get(), &AuthClient::signedOut);
        QVERIFY(!await(client->signOut()).isError());
        QCOMPARE(signedOut.size(), 1);
        QCOMPARE(client->state(), AuthClient::State::SignedOut);
        QVERIFY(client->user().isEmpty());
        QVERIFY(client->identity().isEmpty());
        QVERIFY(storedRefreshToken(client.get(), guest).isEmpty());
        QVERIFY(storedLastIdentity(client.get()).isEmpty());
        QCOMPARE(refreshWith(token), 401); // revoked on the server too
    }

    void signOutFromAFreshClientRevokesTheStoredSession()
    {
        QVERIFY(startServer());
        QByteArray token;
        {
            auto first = newClient();
            QVERIFY(!await(first->signIn(guest, guestPassword)).isError());
            token = storedRefreshToken(first.get(), guest);
        }
        auto second = newClient(); // never restored: as `latchkey-cli logout` runs
        QVERIFY(!await(second->signOut()).isError());
        QVERIFY(storedRefreshToken(second.get(), guest).isEmpty());
        QCOMPARE(refreshWith(token), 401);
        QCOMPARE(await(second->restore()).kind(), AuthError::Kind::NotSignedIn);
    }

    void restoreWithNothingStored()
    {
        QVERIFY(startServer());
        auto client = newClient();
        const AuthError error = await(client->restore());
        QCOMPARE(error.kind(), AuthError::Kind::NotSignedIn);
        QCOMPARE(client->state(), AuthClient::State::SignedOut);
        QCOMPARE(m_server->metric(refreshOk), 0.0);
    }

    void clientsSharingAStoredSessionTakeTurns()
    {
        // Two clients (two processes of one app, in real life) restored the same keychain entry.
        // The server rotates refresh tokens and treats a reused one as theft: without taking
        // turns and re-reading the store, the second refresh would present a spent token and
        // the server would revoke the whole session.
        QVERIFY(startServer());
        {
            auto first = newClient();
            QVERIFY(!await(first->signIn(guest, guestPassword)).isError());
        }
        auto a = newClient();
        auto b = newClient();
        AuthReply *ra = a->restore(); // at the same time: both read the same stored token
        AuthReply *rb = b->restore();
        const AuthError ea = await(ra);
        const AuthError eb = await(rb);
        QVERIFY2(!ea.isError(), qPrintable(ea.toString()));
        QVERIFY2(!eb.isError(), qPrintable(eb.toString()));

        // One after the other, each holding the token the other has since rotated.
        QCOMPARE(m_server->hook(QStringLiteral("/test/expire-access-tokens")), 204);
        for (AuthClient *c : { a.get(), b.get(), a.get() }) {
            QNetworkReply *reply = c->networkAccessManager()->get(QNetworkRequest(
                m_server->baseUrl().resolved(QUrl(QStringLiteral("/api/bookings")))));
            QVERIFY(awaitAll({ reply }));
            QCOMPARE(httpStatus(reply), 200);
            delete reply;
            QCOMPARE(m_server->hook(QStringLiteral("/test/expire-access-tokens")), 204);
        }
        QCOMPARE(
            m_server->metric(QStringLiteral("latchkey_refresh_total{result=\"reused\"}")), 0.0);
        QCOMPARE(a->state(), AuthClient::State::SignedIn);
        QCOMPARE(b->state(), AuthClient::State::SignedIn);
        QVERIFY(!await(a->signOut()).isError());
    }

    void deletingAClientWithKeychainJobsInFlight()
    {
        // An app may drop its client (a QML Session re-configured, a window closed) while a
        // keychain write is still running: no crash, and the write still lands.
        QVERIFY(startServer());
        auto client = newClient();
        QVERIFY(!await(client->signIn(guest, guestPassword)).isError());
        auto *store = new KeychainTokenStore;
        store->write(QStringLiteral("in-flight"), QByteArrayLiteral("value"),
            [](const AuthError &) { QFAIL("the callback of a deleted store must not run"); });
        delete store;
        client.reset();
        auto reader = std::make_unique<KeychainTokenStore>();
        QByteArray read;
        bool done = false;
        reader->read(QStringLiteral("in-flight"), [&](const QByteArray &secret, const AuthError &) {
            read = secret;
            done = true;
        });
        QTRY_VERIFY(done);
        QCOMPARE(read, QByteArrayLiteral("value"));
        bool removed = false;
        reader->remove(QStringLiteral("in-flight"), [&](const AuthError &) { removed = true; });
        QTRY_VERIFY(removed);
    }

    void noTokenReachesTheDisk()
    {
        // Invariant 1, with token values we know: a scripted server issues them.
        const QByteArray access1 = "AT1-" + randomHex(16).toLatin1();
        const QByteArray access2 = "AT2-" + randomHex(16).toLatin1();
        const QByteArray refresh1 = "RT1-" + randomHex(16).toLatin1();
        const QByteArray refresh2 = "RT2-" + randomHex(16).toLatin1();
        const QString password = QStringLiteral("PW-") + randomHex(8);
        ScriptedServer server;
        server.on(QStringLiteral("/api/auth/login"), [&](const QHttpServerRequest &) {
            return ScriptedServer::json("{\"access_token\":\"" + access1 + "\",\"refresh_token\":\""
                + refresh1 + "\",\"expires_in\":900}");
        });
        server.on(QStringLiteral("/api/auth/refresh"), [&](const QHttpServerRequest &) {
            return ScriptedServer::json("{\"access_token\":\"" + access2 + "\",\"refresh_token\":\""
                + refresh2 + "\",\"expires_in\":900}");
        });
        server.on(QStringLiteral("/api/data"), [&](const QHttpServerRequest &request) {
            const bool fresh
                = request.value(QByteArrayLiteral("Authorization")) == "Bearer " + access2;
            return ScriptedServer::json(
                fresh ? "{}" : "{\"message\":\"expired\"}", fresh ? 200 : 401);
        });
        QVERIFY(server.listen());
        AuthClient client(ServerProfile::builtin(QStringLiteral("latchkey")), server.baseUrl());
        QVERIFY(!await(client.signIn(QStringLiteral("someone@latchkey.test"), password)).isError());
        QNetworkReply *reply = client.networkAccessManager()->get(
            QNetworkRequest(server.url(QStringLiteral("/api/data"))));
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(httpStatus(reply), 200); // 401 → refresh → replay happened
        delete reply;
        QVERIFY(!await(client.flush()).isError());
        QCOMPARE(storedRefreshToken(&client, QStringLiteral("someone@latchkey.test")), refresh2);

        const QString home = QDir::homePath();
        QVERIFY2(home != QStringLiteral("/root") || qEnvironmentVariableIsSet("LATCHKEY_TEST_HOME"),
            "expected a private HOME from with-keyring.sh");
        const QList<QByteArray> secrets { access1, access2, refresh1, refresh2, password.toUtf8() };
        for (const QString &root : { home, QStringLiteral(LATCHKEY_BUILD_DIR) }) {
            const QStringList hits = filesContaining(root, secrets);
            QVERIFY2(hits.isEmpty(), qPrintable(hits.join(QLatin1Char(' '))));
        }
    }
};

QTEST_GUILESS_MAIN(TestKeychain)
#include "tst_keychain.moc"
