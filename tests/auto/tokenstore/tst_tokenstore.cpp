#include <latchkey/keychaintokenstore.h>
#include <latchkey/memorytokenstore.h>

#include <QUuid>
#include <QtTest>

#include <memory>
#include <optional>

using namespace Latchkey;

namespace {

// What a read answers, waited for (bounded).
QByteArray readBack(TokenStore *store, const QString &key)
{
    auto result = std::make_shared<std::optional<QByteArray>>();
    store->read(key, [result](const QByteArray &secret, const AuthError &error) {
        *result = error.isError() ? QByteArrayLiteral("<error>") : secret;
    });
    (void)QTest::qWaitFor([&] { return result->has_value(); }, 10000);
    return result->value_or(QByteArrayLiteral("<no answer>"));
}

// A store called with empty callbacks does each call and tells nobody: no crash, and the
// write and the removal still land.
void toleratesEmptyCallbacks(TokenStore *store)
{
    const QString key = QStringLiteral("empty-callback ") + QUuid::createUuid().toString();
    store->read(key, TokenStore::ReadCallback());
    QCOMPARE(readBack(store, key), QByteArray()); // the empty read answered first, into nothing
    store->write(key, QByteArrayLiteral("rt-1"), TokenStore::DoneCallback());
    QTRY_COMPARE_WITH_TIMEOUT(readBack(store, key), QByteArrayLiteral("rt-1"), 10000);
    store->read(key, TokenStore::ReadCallback());
    QCOMPARE(readBack(store, key), QByteArrayLiteral("rt-1"));
    store->remove(key, TokenStore::DoneCallback());
    QTRY_COMPARE_WITH_TIMEOUT(readBack(store, key), QByteArray(), 10000);
}

} // namespace

// Built twice from this file (tests/auto/tokenstore/CMakeLists.txt): tst_tokenstore runs the
// MemoryTokenStore function (unit), tst_tokenstorekeychain the KeychainTokenStore one (keychain).
class TestTokenStore : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void memoryStoreToleratesEmptyCallbacks()
    {
        MemoryTokenStore store;
        toleratesEmptyCallbacks(&store);
    }

    void keychainStoreToleratesEmptyCallbacks()
    {
        KeychainTokenStore store(QStringLiteral("latchkey-test-tokenstore"));
        toleratesEmptyCallbacks(&store);
    }
};

QTEST_GUILESS_MAIN(TestTokenStore)
#include "tst_tokenstore.moc"
