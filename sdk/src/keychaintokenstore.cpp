#include <latchkey/keychaintokenstore.h>

#include "logging_p.h"
#ifdef LATCHKEY_SECRET_SERVICE
#include "secretservice_p.h"
#endif

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QList>
#include <QPointer>
#include <qt6keychain/keychain.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>

namespace Latchkey {

// A secret longer than the chunk size is kept in pieces. The entry under the key itself then
// holds a manifest, "latchkey-pieces:1:<slot>:<count>:<SHA-256 of the whole, hex>", and the
// pieces are "<key> #<slot><n>", n = 1..count. A new secret goes to the slot ("a" or "b") the
// current manifest does not use, and the manifest is written last: a reader in another process
// never meets pieces of two secrets, and one that read the old manifest finds either all of its
// pieces or a changed manifest (then it reads again). A secret that itself begins like a
// manifest is always stored in pieces, so an entry is never mistaken for one.
//
// Every operation runs to its end even if the store is deleted meanwhile (a write still lands);
// only the callback is dropped then.

namespace {

using Done = std::function<void(const AuthError &)>;

const QByteArray manifestPrefix = QByteArrayLiteral("latchkey-pieces:");
constexpr int maxPieces = 256;
constexpr int maxReadAttempts = 3;

struct Manifest
{
    char slot = 'a';
    int count = 0;
    QByteArray sha256; // hex
};

QByteArray sha256Hex(const QByteArray &data)
{
    return QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex();
}

QByteArray toBytes(const Manifest &m)
{
    return manifestPrefix + "1:" + QByteArray(1, m.slot) + ':' + QByteArray::number(m.count) + ':'
        + m.sha256;
}

std::optional<Manifest> parseManifest(const QByteArray &entry)
{
    if (!entry.startsWith(manifestPrefix))
        return std::nullopt;
    const QList<QByteArray> fields = entry.mid(manifestPrefix.size()).split(':');
    if (fields.size() != 4 || fields.at(0) != "1" || (fields.at(1) != "a" && fields.at(1) != "b"))
        return std::nullopt;
    bool ok = false;
    Manifest m;
    m.slot = fields.at(1).at(0);
    m.count = fields.at(2).toInt(&ok);
    m.sha256 = fields.at(3);
    if (!ok || m.count < 1 || m.count > maxPieces || m.sha256.size() != 64)
        return std::nullopt;
    return m;
}

QString pieceKey(const QString &key, char slot, int n)
{
    return key + QStringLiteral(" #") + QLatin1Char(slot) + QString::number(n);
}

char otherSlot(char slot)
{
    return slot == 'a' ? 'b' : 'a';
}

AuthError jobError(const QKeychain::Job *job, const char *operation)
{
    return AuthError(AuthError::Kind::KeychainUnavailable,
        QStringLiteral("The keychain refused to %1 the session (%2)")
            .arg(QLatin1String(operation), job->errorString()));
}

AuthError lockedError(const char *operation)
{
    if (qstrcmp(operation, "read") == 0) {
        return AuthError(AuthError::Kind::KeychainUnavailable,
            QStringLiteral("The keychain is locked: unlock it and restore again (the stored "
                           "session is kept)"));
    }
    return AuthError(AuthError::Kind::KeychainUnavailable,
        QStringLiteral("The keychain is locked: could not %1 the session in it")
            .arg(QLatin1String(operation)));
}

// Every job goes through here, so no job can ever be started with the plaintext fallback.
// Jobs have no parent: one still running when the store is deleted must live until it ends
// (QtKeychain's libsecret backend calls back into it and crashes otherwise); it deletes itself.
template<typename JobT> JobT *makeJob(const QString &service, const QString &key)
{
    auto *job = new JobT(service);
    job->setAutoDelete(true);
    job->setInsecureFallback(false);
    job->setKey(key);
    return job;
}

// QtKeychain reports a locked item as "not found" and a write into a locked collection as
// some other error: ask the Secret Service what it is (Linux), before saying so.
void ifItemLocked(const QString &service, const QString &key, std::function<void(bool)> done)
{
#ifdef LATCHKEY_SECRET_SERVICE
    SecretService::hasLockedItem(service, key, std::move(done));
#else
    Q_UNUSED(service);
    Q_UNUSED(key);
    done(false);
#endif
}

void ifKeychainLocked(std::function<void(bool)> done)
{
#ifdef LATCHKEY_SECRET_SERVICE
    SecretService::isDefaultCollectionLocked(std::move(done));
#else
    done(false);
#endif
}

enum class Found { Yes, No, Failed };

struct Entry
{
    Found found = Found::No;
    QByteArray data;
    AuthError error;
};

// One entry. With \a askIfLocked a "not found" is checked against a locked keyring.
void readEntry(const QString &service, const QString &key, bool askIfLocked,
    std::function<void(const Entry &)> done)
{
    auto *job = makeJob<QKeychain::ReadPasswordJob>(service, key);
    QObject::connect(
        job, &QKeychain::Job::finished, job, [job, service, askIfLocked, done = std::move(done)] {
            switch (job->error()) {
            case QKeychain::NoError:
                qCDebug(lcStore) << "read" << job->key() << redacted(job->binaryData());
                done({ Found::Yes, job->binaryData(), AuthError() });
                return;
            case QKeychain::EntryNotFound:
                if (!askIfLocked) {
                    done({ Found::No, {}, AuthError() });
                    return;
                }
                ifItemLocked(service, job->key(), [key = job->key(), done](bool locked) {
                    if (locked) {
                        qCWarning(lcStore) << "read" << key << "failed: the keychain is locked";
                        done({ Found::Failed, {}, lockedError("read") });
                    } else {
                        qCDebug(lcStore) << "read" << key << "not found";
                        done({ Found::No, {}, AuthError() });
                    }
                });
                return;
            default:
                qCWarning(lcStore) << "read" << job->key() << "failed:" << job->errorString();
                done({ Found::Failed, {}, jobError(job, "read") });
            }
        });
    job->start();
}

// A failed write or removal says "locked" when the keyring is.
void explainFailure(const QKeychain::Job *job, const char *operation, const Done &done)
{
    qCWarning(lcStore) << operation << job->key() << "failed:" << job->errorString();
    ifKeychainLocked([error = jobError(job, operation), operation, done](
                         bool locked) { done(locked ? lockedError(operation) : error); });
}

void writeEntry(const QString &service, const QString &key, const QByteArray &data, Done done)
{
    auto *job = makeJob<QKeychain::WritePasswordJob>(service, key);
    job->setBinaryData(data);
    QObject::connect(job, &QKeychain::Job::finished, job, [job, done = std::move(done)] {
        if (job->error() != QKeychain::NoError) {
            explainFailure(job, "save", done);
            return;
        }
        qCDebug(lcStore) << "wrote" << job->key();
        done(AuthError());
    });
    job->start();
}

void removeEntry(const QString &service, const QString &key, Done done)
{
    auto *job = makeJob<QKeychain::DeletePasswordJob>(service, key);
    QObject::connect(job, &QKeychain::Job::finished, job, [job, done = std::move(done)] {
        if (job->error() != QKeychain::NoError && job->error() != QKeychain::EntryNotFound) {
            explainFailure(job, "remove", done);
            return;
        }
        qCDebug(lcStore) << "removed" << job->key();
        done(AuthError());
    });
    job->start();
}

// Runs the steps one after the other; the first error ends the run.
using Step = std::function<void(Done next)>;
void runInOrder(std::shared_ptr<std::deque<Step>> steps, Done done)
{
    if (steps->empty()) {
        done(AuthError());
        return;
    }
    Step step = std::move(steps->front());
    steps->pop_front();
    step([steps, done = std::move(done)](const AuthError &error) {
        if (error.isError())
            done(error);
        else
            runInOrder(steps, done);
    });
}

// The highest n >= from for which the pieces from..n all exist (from - 1 if none).
void findLastPiece(
    const QString &service, const QString &key, char slot, int from, std::function<void(int)> done)
{
    if (from > maxPieces) {
        done(maxPieces);
        return;
    }
    readEntry(service, pieceKey(key, slot, from), false,
        [service, key, slot, from, done = std::move(done)](const Entry &entry) {
            if (entry.found == Found::Yes)
                findLastPiece(service, key, slot, from + 1, done);
            else
                done(from - 1);
        });
}

// Removes the pieces of \a slot from \a from on: at least up to \a through, and beyond as long
// as there are more (left over from an operation that was cut short). The highest goes first,
// so what a failure leaves behind still starts at \a from and is found next time.
void removePieces(
    const QString &service, const QString &key, char slot, int from, int through, Done done)
{
    findLastPiece(service, key, slot, std::max(from, through + 1),
        [service, key, slot, from, through, done = std::move(done)](int last) {
            auto steps = std::make_shared<std::deque<Step>>();
            for (int n = std::max(last, through); n >= from; --n) {
                steps->push_back([service, key = pieceKey(key, slot, n)](
                                     Done next) { removeEntry(service, key, std::move(next)); });
            }
            runInOrder(steps, done);
        });
}

// Removes every piece under \a key but those of \a keep (its slot 1..count); \a old is what the
// entry said before, so that pieces in a gap are not missed.
void removeOtherPieces(const QString &service, const QString &key,
    const std::optional<Manifest> &keep, const std::optional<Manifest> &old, Done done)
{
    auto steps = std::make_shared<std::deque<Step>>();
    for (char slot : { 'a', 'b' }) {
        const int from = keep && keep->slot == slot ? keep->count + 1 : 1;
        const int through = old && old->slot == slot ? old->count : 0;
        steps->push_back([service, key, slot, from, through](Done next) {
            removePieces(service, key, slot, from, through, std::move(next));
        });
    }
    runInOrder(steps, std::move(done));
}

// The entry and every piece: what is left of a secret whose pieces do not add up.
void discard(
    const QString &service, const QString &key, const std::optional<Manifest> &old, Done done)
{
    removeEntry(service, key, [service, key, old, done = std::move(done)](const AuthError &error) {
        if (error.isError()) {
            done(error);
            return;
        }
        removeOtherPieces(service, key, std::nullopt, old, done);
    });
}

// After a write: pieces of an earlier secret are no longer anyone's. They are removed before
// the callback, so whatever the caller does next meets a clean store; failing to is no failure
// of the write (the next write tries again).
void removeLeftovers(const QString &service, const QString &key,
    const std::optional<Manifest> &keep, const std::optional<Manifest> &old, const Done &done)
{
    removeOtherPieces(service, key, keep, old, [key, done](const AuthError &error) {
        if (error.isError())
            qCWarning(lcStore) << "could not remove old pieces of" << key << error.message();
        done(AuthError());
    });
}

using ReadDone = std::function<void(const QByteArray &, const AuthError &)>;

void readPieces(const QString &service, const QString &key, const Manifest &manifest, int n,
    std::shared_ptr<QByteArray> joined, std::function<void(const Entry &)> done)
{
    if (n > manifest.count) {
        done({ Found::Yes, *joined, AuthError() });
        return;
    }
    readEntry(service, pieceKey(key, manifest.slot, n), true,
        [service, key, manifest, n, joined, done = std::move(done)](const Entry &piece) {
            if (piece.found != Found::Yes) {
                done(piece);
                return;
            }
            joined->append(piece.data);
            readPieces(service, key, manifest, n + 1, joined, done);
        });
}

void readSecret(const QString &service, const QString &key, int attempt, ReadDone done)
{
    readEntry(
        service, key, true, [service, key, attempt, done = std::move(done)](const Entry &entry) {
            if (entry.found != Found::Yes) {
                done(QByteArray(), entry.error);
                return;
            }
            const std::optional<Manifest> manifest = parseManifest(entry.data);
            if (!manifest && !entry.data.startsWith(manifestPrefix)) {
                done(entry.data, AuthError()); // one entry, the usual case
                return;
            }
            // Nothing can be made of it: no session, and nothing left behind.
            auto giveUp = [service, key, manifest, done](const char *why) {
                qCWarning(lcStore) << "read" << key << why << "(removed)";
                discard(service, key, manifest, [key, done](const AuthError &error) {
                    if (error.isError())
                        qCWarning(lcStore) << "could not remove" << key << error.message();
                    done(QByteArray(), AuthError());
                });
            };
            if (!manifest) {
                giveUp("is no manifest it can read");
                return;
            }
            readPieces(service, key, *manifest, 1, std::make_shared<QByteArray>(),
                [service, key, attempt, manifest, raw = entry.data, giveUp, done](
                    const Entry &whole) {
                    if (whole.found == Found::Failed) {
                        done(QByteArray(), whole.error);
                        return;
                    }
                    if (whole.found == Found::Yes && sha256Hex(whole.data) == manifest->sha256) {
                        done(whole.data, AuthError());
                        return;
                    }
                    // A piece is missing or does not fit. If another process wrote the secret
                    // meanwhile, the manifest has changed: read again.
                    readEntry(service, key, true,
                        [service, key, attempt, raw, giveUp, done](const Entry &now) {
                            if (now.found == Found::Failed) { // locked meanwhile, say
                                done(QByteArray(), now.error);
                                return;
                            }
                            if (now.found == Found::Yes && now.data != raw) {
                                if (attempt + 1 < maxReadAttempts) {
                                    readSecret(service, key, attempt + 1, done);
                                } else {
                                    done(QByteArray(),
                                        AuthError(AuthError::Kind::KeychainUnavailable,
                                            QStringLiteral("The session in the keychain kept "
                                                           "changing while it was read")));
                                }
                                return;
                            }
                            giveUp(now.found == Found::Yes ? "has a piece missing or changed"
                                                           : "vanished while it was read");
                        });
                });
        });
}

} // namespace

class KeychainTokenStorePrivate
{
public:
    QString service;
    int chunkSize = KeychainTokenStore::defaultChunkSize();
};

KeychainTokenStore::KeychainTokenStore(QObject *parent)
    : KeychainTokenStore(defaultService(), parent)
{ }

KeychainTokenStore::KeychainTokenStore(const QString &service, QObject *parent)
    : TokenStore(parent)
    , d(new KeychainTokenStorePrivate)
{
    d->service = service.isEmpty() ? defaultService() : service;
}

KeychainTokenStore::~KeychainTokenStore() = default;

QString KeychainTokenStore::service() const
{
    return d->service;
}

QString KeychainTokenStore::sharedName() const
{
    return QStringLiteral("keychain:") + d->service;
}

QString KeychainTokenStore::defaultService()
{
    const QString org = QCoreApplication::organizationName();
    const QString app = QCoreApplication::applicationName();
    if (app.isEmpty())
        return QStringLiteral("latchkey");
    return org.isEmpty() ? app : org + QLatin1Char('/') + app;
}

int KeychainTokenStore::chunkSize() const
{
    return d->chunkSize;
}

void KeychainTokenStore::setChunkSize(int bytes)
{
    d->chunkSize = std::max(0, bytes);
}

int KeychainTokenStore::defaultChunkSize()
{
#if defined(Q_OS_WIN)
    return 2560; // CRED_MAX_CREDENTIAL_BLOB_SIZE of the Credential Manager
#elif defined(Q_OS_ANDROID)
    return 245; // QtKeychain 0.13 encrypts an entry in one RSA-2048 PKCS#1 block
#else
    return 0;
#endif
}

void KeychainTokenStore::read(const QString &key, ReadCallback done)
{
    readSecret(d->service, key, 0,
        [self = QPointer<KeychainTokenStore>(this), done = std::move(done)](
            const QByteArray &secret, const AuthError &error) {
            if (self && done)
                done(secret, error);
        });
}

void KeychainTokenStore::write(const QString &key, const QByteArray &secret, DoneCallback done)
{
    const QString service = d->service;
    const int chunk = d->chunkSize;
    auto finish = [self = QPointer<KeychainTokenStore>(this), done = std::move(done)](
                      const AuthError &error) {
        if (self && done)
            done(error);
    };
    const bool split = (chunk > 0 && secret.size() > chunk) || secret.startsWith(manifestPrefix);
    const qsizetype pieceSize = chunk > 0 ? chunk : std::max<qsizetype>(1, secret.size());
    const qsizetype count = split ? (secret.size() + pieceSize - 1) / pieceSize : 0;
    if (count > maxPieces) {
        const AuthError tooLong(AuthError::Kind::KeychainUnavailable,
            QStringLiteral("The session (%1 bytes) is too long for the keychain (at most %2 "
                           "pieces of %3 bytes)")
                .arg(secret.size())
                .arg(maxPieces)
                .arg(pieceSize));
        // Never from inside the call (TokenStore's contract).
        QMetaObject::invokeMethod(
            this, [finish, tooLong] { finish(tooLong); }, Qt::QueuedConnection);
        return;
    }
    if (!split) {
        // One entry, written at once (a write started before the store is deleted lands).
        writeEntry(service, key, secret, [service, key, finish](const AuthError &error) {
            if (error.isError()) {
                finish(error);
                return;
            }
            removeLeftovers(service, key, std::nullopt, std::nullopt, finish);
        });
        return;
    }
    // In pieces: what the entry holds now decides the slot, and what to clean up after.
    readEntry(
        service, key, false, [service, key, secret, pieceSize, count, finish](const Entry &before) {
            const std::optional<Manifest> old
                = before.found == Found::Yes ? parseManifest(before.data) : std::nullopt;
            const Manifest manifest { old ? otherSlot(old->slot) : 'a', int(count),
                sha256Hex(secret) };
            auto steps = std::make_shared<std::deque<Step>>();
            for (int n = 1; n <= count; ++n) {
                steps->push_back(
                    [service, key = pieceKey(key, manifest.slot, n),
                        piece = secret.mid((n - 1) * pieceSize, pieceSize)](
                        Done next) { writeEntry(service, key, piece, std::move(next)); });
            }
            // The manifest last: until it is written, readers see the old secret whole.
            steps->push_back([service, key, entry = toBytes(manifest)](
                                 Done next) { writeEntry(service, key, entry, std::move(next)); });
            runInOrder(steps, [service, key, manifest, old, finish](const AuthError &error) {
                if (error.isError())
                    finish(error);
                else
                    removeLeftovers(service, key, manifest, old, finish);
            });
        });
}

void KeychainTokenStore::remove(const QString &key, DoneCallback done)
{
    discard(d->service, key, std::nullopt,
        [self = QPointer<KeychainTokenStore>(this), done = std::move(done)](
            const AuthError &error) {
            if (self && done)
                done(error);
        });
}

} // namespace Latchkey
