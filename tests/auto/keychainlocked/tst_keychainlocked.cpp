#include <latchkey/authclient.h>
#include <latchkey/keychaintokenstore.h>

#include "keyringcontrol.h"
#include "serverprocess.h"
#include "testhelpers.h"

#include <QtTest>

using namespace Latchkey;
using namespace LatchkeyTest;

// The real Secret Service (gnome-keyring of with-keyring.sh), locked and unlocked over D-Bus
// the way a screen lock and its unlock do it.
class TestKeychainLocked : public QObject
{
    Q_OBJECT

    std::unique_ptr<ServerProcess> m_server;

    std::unique_ptr<AuthClient> newClient()
    {
        return std::make_unique<AuthClient>(
            ServerProfile::builtin(QStringLiteral("latchkey")), m_server->baseUrl());
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(qEnvironmentVariableIsSet("LATCHKEY_KEYRING_PASSWORD"),
            "run under tests/support/with-keyring.sh (CTest does)");
        QCoreApplication::setOrganizationName(QStringLiteral("Latchkey"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_keychainlocked"));
    }

    void init()
    {
        m_server = std::make_unique<ServerProcess>();
        QVERIFY2(m_server->start(ServerProcess::demoArgs()), qPrintable(m_server->errorString()));
    }

    void cleanup()
    {
        if (Keyring::isLocked())
            Keyring::unlock();
        m_server.reset();
    }

    void lockedKeyringIsReportedAndKeepsTheSession()
    {
        QByteArray storedToken;
        {
            auto first = newClient();
            const AuthError error = await(first->signIn(guest, guestPassword));
            QVERIFY2(!error.isError(), qPrintable(error.toString()));
            storedToken = storedRefreshToken(first.get(), guest);
            QVERIFY(!storedToken.isEmpty());
        } // that process is gone; the keychain keeps its session

        QString why;
        QVERIFY2(Keyring::lock(&why), qPrintable(why));

        // QtKeychain reads a locked item as "not found"; the client must not take that for a
        // signed-out user.
        auto second = newClient();
        QSignalSpy states(second.get(), &AuthClient::stateChanged);
        const AuthError locked = await(second->restore());
        QCOMPARE(locked.kind(), AuthError::Kind::KeychainUnavailable);
        QVERIFY2(locked.message().contains(QLatin1String("locked")), qPrintable(locked.message()));
        QCOMPARE(second->state(), AuthClient::State::SignedOut);
        QVERIFY(Keyring::isLocked()); // nothing unlocked it behind our back

        // Unlocked: every entry is still there, and the same client restores the session.
        QVERIFY2(Keyring::unlock(&why), qPrintable(why));
        QCOMPARE(storedLastIdentity(second.get()), guest.toUtf8());
        QCOMPARE(storedRefreshToken(second.get(), guest), storedToken);
        const AuthError restored = await(second->restore());
        QVERIFY2(!restored.isError(), qPrintable(restored.toString()));
        QCOMPARE(second->state(), AuthClient::State::SignedIn);
        QCOMPARE(second->identity(), guest);
        QVERIFY(!await(second->signOut()).isError());
    }

    void writeToALockedKeyringSaysLocked()
    {
        QString why;
        QVERIFY2(Keyring::lock(&why), qPrintable(why));
        auto client = newClient();
        const AuthError error = await(client->signIn(guest, guestPassword));
        QCOMPARE(error.kind(), AuthError::Kind::KeychainUnavailable);
        QVERIFY2(error.message().contains(QLatin1String("keychain is locked")),
            qPrintable(error.message()));
        // Signed in all the same, for as long as the process lives.
        QCOMPARE(client->state(), AuthClient::State::SignedIn);
        QCOMPARE(client->identity(), guest);

        // A write is refused the same way whatever it stores, and nothing lands.
        KeychainTokenStore store;
        AuthError written(AuthError::Kind::Cancelled, QStringLiteral("no answer"));
        bool done = false;
        store.write(QStringLiteral("probe"), QByteArrayLiteral("value"), [&](const AuthError &e) {
            written = e;
            done = true;
        });
        QTRY_VERIFY(done);
        QCOMPARE(written.kind(), AuthError::Kind::KeychainUnavailable);
        QVERIFY2(written.message().contains(QLatin1String("keychain is locked")),
            qPrintable(written.message()));
        QVERIFY2(Keyring::unlock(&why), qPrintable(why));
        QVERIFY(Keyring::keysOf(store.service()).isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestKeychainLocked)
#include "tst_keychainlocked.moc"
