#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/keychaintokenstore.h>

#include "keyringcontrol.h"
#include "serverprocess.h"
#include "testhelpers.h"

#include <QtTest>

using namespace Latchkey;
using namespace LatchkeyTest;

class TestKeychainFailure : public QObject
{
    Q_OBJECT

    std::unique_ptr<ServerProcess> m_server;

    std::unique_ptr<AuthClient> newClient()
    {
        return std::make_unique<AuthClient>(
            ServerProfile::builtin(QStringLiteral("latchkey")), m_server->baseUrl());
    }

private Q_SLOTS:
    void init()
    {
        QCoreApplication::setApplicationName(QStringLiteral("tst_keychainfailure"));
        m_server = std::make_unique<ServerProcess>();
        QVERIFY2(m_server->start(ServerProcess::demoArgs()), qPrintable(m_server->errorString()));
    }
    void cleanup() { m_server.reset(); }

    void noSecretServiceKeepsTheSessionInMemory()
    {
        // No session bus to reach: every keychain job fails (QtKeychain's OtherError).
        qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/latchkey-test-bus");
        qunsetenv("DISPLAY");
        auto client = newClient();
        const AuthError error = await(client->signIn(guest, guestPassword));
        QCOMPARE(error.kind(), AuthError::Kind::KeychainUnavailable);
        QVERIFY(!error.message().isEmpty());
        // Nothing is lost: the session works in memory, it just will not survive a restart.
        QCOMPARE(client->state(), AuthClient::State::SignedIn);
        QNetworkReply *reply = client->networkAccessManager()->get(
            QNetworkRequest(m_server->baseUrl().resolved(QUrl(QStringLiteral("/api/bookings")))));
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        delete reply;
        // A restore in another client reports the keychain, not "signed out".
        auto other = newClient();
        QCOMPARE(await(other->restore()).kind(), AuthError::Kind::KeychainUnavailable);
        QCOMPARE(other->state(), AuthClient::State::SignedOut);
    }

    void lockedKeyringIsNotASilentSignOut()
    {
        QVERIFY2(
            qEnvironmentVariableIsSet("DBUS_SESSION_BUS_ADDRESS"), "run under with-keyring.sh");
        {
            // A session kept while the keyring was open.
            auto first = newClient();
            const AuthError error = await(first->signIn(guest, guestPassword));
            QVERIFY2(!error.isError(), qPrintable(error.toString()));
        }
        QString why;
        QVERIFY2(Keyring::lock(&why), qPrintable(why));
        auto client = newClient();
        const AuthError error = await(client->signIn(guest, guestPassword));
        QCOMPARE(error.kind(), AuthError::Kind::KeychainUnavailable);
        QVERIFY2(error.message().contains(QLatin1String("locked")), qPrintable(error.message()));
        QCOMPARE(client->state(), AuthClient::State::SignedIn);
        // Signing out still ends the session here and on the server; the keychain may say no.
        const AuthError out = await(client->signOut());
        QVERIFY2(!out.isError() || out.kind() == AuthError::Kind::KeychainUnavailable,
            qPrintable(out.toString()));
        QCOMPARE(client->state(), AuthClient::State::SignedOut);
        // QtKeychain reads a locked item as "no entry", but the session stored first is still
        // there: a restore says the keychain is locked, not that nobody is signed in
        // (docs/security.md).
        auto other = newClient();
        const AuthError restored = await(other->restore());
        QCOMPARE(restored.kind(), AuthError::Kind::KeychainUnavailable);
        QVERIFY2(
            restored.message().contains(QLatin1String("locked")), qPrintable(restored.message()));
        QCOMPARE(other->state(), AuthClient::State::SignedOut);
    }
};

QTEST_GUILESS_MAIN(TestKeychainFailure)
#include "tst_keychainfailure.moc"
