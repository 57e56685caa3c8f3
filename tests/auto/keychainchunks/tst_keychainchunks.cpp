#include <latchkey/authclient.h>
#include <latchkey/keychaintokenstore.h>

#include "keyringcontrol.h"
#include "scriptedserver.h"
#include "testhelpers.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QtTest>

using namespace Latchkey;
using namespace LatchkeyTest;

namespace {

// Windows' Credential Manager keeps at most this many bytes in one entry.
constexpr int windowsLimit = 2560;

// \a size bytes of token alphabet, different on every call.
QByteArray tokenOf(int size, const char *prefix)
{
    QByteArray token(prefix);
    while (token.size() < size) {
        token += QByteArray::number(QRandomGenerator::system()->generate64(), 36);
        token += '.';
    }
    token.truncate(size);
    return token;
}

QString pieceOf(const QString &key, const char *piece)
{
    return key + QStringLiteral(" #") + QLatin1String(piece);
}

// Store operations, waited for (an operation that never answers leaves the error Cancelled).
struct Result
{
    bool done = false;
    QByteArray secret;
    AuthError error { AuthError::Kind::Cancelled, QStringLiteral("no answer") };
};

Result readFrom(TokenStore *store, const QString &key)
{
    auto result = std::make_shared<Result>();
    store->read(key, [result](const QByteArray &secret, const AuthError &error) {
        result->secret = secret;
        result->error = error;
        result->done = true;
    });
    (void)QTest::qWaitFor([&] { return result->done; }, 10000);
    return *result;
}

AuthError writeTo(TokenStore *store, const QString &key, const QByteArray &secret)
{
    auto result = std::make_shared<Result>();
    store->write(key, secret, [result](const AuthError &error) {
        result->error = error;
        result->done = true;
    });
    (void)QTest::qWaitFor([&] { return result->done; }, 10000);
    return result->error;
}

AuthError removeFrom(TokenStore *store, const QString &key)
{
    auto result = std::make_shared<Result>();
    store->remove(key, [result](const AuthError &error) {
        result->error = error;
        result->done = true;
    });
    (void)QTest::qWaitFor([&] { return result->done; }, 10000);
    return result->error;
}

} // namespace

class TestKeychainChunks : public QObject
{
    Q_OBJECT

    int m_services = 0;

    // A keychain service of this test function alone.
    QString newService()
    {
        return QStringLiteral("Latchkey/tst_keychainchunks-%1-%2")
            .arg(QCoreApplication::applicationPid())
            .arg(++m_services);
    }

    KeychainTokenStore *newStore(const QString &service, QObject *parent = nullptr)
    {
        auto *store = new KeychainTokenStore(service, parent);
        store->setChunkSize(windowsLimit);
        return store;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(qEnvironmentVariableIsSet("DBUS_SESSION_BUS_ADDRESS"),
            "run under tests/support/with-keyring.sh (CTest does)");
    }

    void longTokenRoundTripsInPieces()
    {
        // A server whose refresh tokens are 4,000 bytes long; it rotates them on every refresh
        // and accepts only the one it issued last.
        const QString identity = QStringLiteral("someone@latchkey.test");
        QByteArray current = tokenOf(4000, "RT1-");
        QList<QByteArray> presented;
        int issued = 1;
        ScriptedServer server;
        auto answer = [&] {
            return ScriptedServer::json(QJsonDocument(
                QJsonObject {
                    { QStringLiteral("access_token"), QStringLiteral("AT-%1").arg(issued) },
                    { QStringLiteral("refresh_token"), QString::fromLatin1(current) },
                    { QStringLiteral("expires_in"),
                        900 } }).toJson(QJsonDocument::Compact));
        };
        server.on(QStringLiteral("/api/auth/login"),
            [&](const QHttpServerRequest &) { return answer(); });
        server.on(QStringLiteral("/api/auth/refresh"), [&](const QHttpServerRequest &request) {
            const QByteArray token = QJsonDocument::fromJson(request.body())
                                         .object()
                                         .value(QStringLiteral("refresh_token"))
                                         .toString()
                                         .toLatin1();
            presented << token;
            if (token != current)
                return ScriptedServer::json("{\"message\":\"invalid refresh token\"}", 401);
            current = tokenOf(4000, "RT2-");
            ++issued;
            return answer();
        });
        QVERIFY(server.listen());
        const ServerProfile profile = ServerProfile::builtin(QStringLiteral("latchkey"));
        const QString service = newService();
        const QString key = tokenKey(profile.name(), server.baseUrl(), identity);

        QByteArray first;
        {
            AuthClient client(profile, server.baseUrl());
            client.setTokenStore(newStore(service, &client));
            const AuthError error = await(client.signIn(identity, QStringLiteral("pw")));
            QVERIFY2(!error.isError(), qPrintable(error.toString()));
            first = current;
        }
        // In the keyring: the token in two pieces of at most 2,560 bytes, and the entry that
        // ties them together.
        const QString lastKey = lastIdentityKey(profile.name(), server.baseUrl());
        QStringList expected { key, pieceOf(key, "a1"), pieceOf(key, "a2"), lastKey };
        expected.sort();
        QCOMPARE(Keyring::keysOf(service), expected);
        {
            // No piece is larger than that (read one by one); a store of any chunk size
            // joins them.
            KeychainTokenStore plain(service);
            QCOMPARE(plain.chunkSize(), 0);
            QCOMPARE(readFrom(&plain, pieceOf(key, "a1")).secret.size(), windowsLimit);
            QCOMPARE(readFrom(&plain, pieceOf(key, "a2")).secret.size(), 4000 - windowsLimit);
            QCOMPARE(readFrom(&plain, key).secret, first);
        }

        // A new process restores with the whole token, and keeps the rotated one.
        AuthClient client(profile, server.baseUrl());
        client.setTokenStore(newStore(service, &client));
        const AuthError restored = await(client.restore());
        QVERIFY2(!restored.isError(), qPrintable(restored.toString()));
        QCOMPARE(presented.size(), 1);
        QCOMPARE(presented.constFirst(), first);
        QCOMPARE(client.state(), AuthClient::State::SignedIn);
        QVERIFY(!await(client.flush()).isError());
        QCOMPARE(storedRefreshToken(&client, identity), current);
        QVERIFY(current != first);

        // Signing out removes every piece.
        await(client.signOut());
        QCOMPARE(Keyring::keysOf(service), QStringList());
    }

    void missingPieceReadsAsNoSessionAndIsCleanedUp_data()
    {
        QTest::addColumn<QString>("piece");
        QTest::addColumn<bool>("replace"); // changed instead of removed
        QTest::newRow("first piece gone") << QStringLiteral("a1") << false;
        QTest::newRow("last piece gone") << QStringLiteral("a3") << false;
        QTest::newRow("a piece changed") << QStringLiteral("a2") << true;
    }

    void missingPieceReadsAsNoSessionAndIsCleanedUp()
    {
        QFETCH(QString, piece);
        QFETCH(bool, replace);
        const QString service = newService();
        const QString key = QStringLiteral("profile https://api.example session");
        std::unique_ptr<KeychainTokenStore> store(newStore(service));
        QVERIFY(!writeTo(store.get(), key, tokenOf(6000, "RT-")).isError());
        QCOMPARE(Keyring::keysOf(service).size(), 4); // the entry and three pieces

        const QString damaged = key + QStringLiteral(" #") + piece;
        if (replace) {
            KeychainTokenStore plain(service);
            QVERIFY(!writeTo(&plain, damaged, QByteArray(windowsLimit, 'x')).isError());
        } else {
            QString why;
            QVERIFY2(Keyring::removeItem(service, damaged, &why), qPrintable(why));
        }

        // No session, no error, and nothing of it left in the keyring.
        std::unique_ptr<KeychainTokenStore> reader(newStore(service));
        const Result read = readFrom(reader.get(), key);
        QVERIFY2(!read.error.isError(), qPrintable(read.error.toString()));
        QVERIFY(read.secret.isEmpty());
        QCOMPARE(Keyring::keysOf(service), QStringList());
    }

    void shorterSecretRemovesLeftoverPieces()
    {
        const QString service = newService();
        const QString key = QStringLiteral("profile https://api.example session");
        std::unique_ptr<KeychainTokenStore> store(newStore(service));

        const QByteArray longest = tokenOf(3 * windowsLimit - 10, "RT1-");
        QVERIFY(!writeTo(store.get(), key, longest).isError());
        QCOMPARE(Keyring::keysOf(service),
            QStringList({ key, pieceOf(key, "a1"), pieceOf(key, "a2"), pieceOf(key, "a3") }));

        // Two pieces now: the three of before are gone.
        const QByteArray shorter = tokenOf(2 * windowsLimit - 10, "RT2-");
        QVERIFY(!writeTo(store.get(), key, shorter).isError());
        QCOMPARE(
            Keyring::keysOf(service), QStringList({ key, pieceOf(key, "b1"), pieceOf(key, "b2") }));
        QCOMPARE(readFrom(store.get(), key).secret, shorter);

        // One entry: no piece left.
        const QByteArray shortest = tokenOf(100, "RT3-");
        QVERIFY(!writeTo(store.get(), key, shortest).isError());
        QCOMPARE(Keyring::keysOf(service), QStringList({ key }));
        QCOMPARE(readFrom(store.get(), key).secret, shortest);

        // remove() takes every piece along.
        QVERIFY(!writeTo(store.get(), key, longest).isError());
        QCOMPARE(Keyring::keysOf(service).size(), 4);
        QCOMPARE(readFrom(store.get(), key).secret, longest);
        QVERIFY(!removeFrom(store.get(), key).isError());
        QCOMPARE(Keyring::keysOf(service), QStringList());
    }
};

QTEST_GUILESS_MAIN(TestKeychainChunks)
#include "tst_keychainchunks.moc"
