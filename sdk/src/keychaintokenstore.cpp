#include <latchkey/keychaintokenstore.h>

#include "logging_p.h"

#include <QCoreApplication>
#include <qt6keychain/keychain.h>

namespace Latchkey {

class KeychainTokenStorePrivate
{
public:
    QString service;

    // Every job goes through here, so no job can ever be started with the plaintext fallback.
    // Jobs have no parent: one still running when the store is deleted must live until it ends
    // (QtKeychain's libsecret backend calls back into it and crashes otherwise); it deletes
    // itself then, and its callback, bound to the store, is dropped.
    template<typename JobT> JobT *makeJob(const QString &key) const
    {
        auto *job = new JobT(service);
        job->setAutoDelete(true);
        job->setInsecureFallback(false);
        job->setKey(key);
        return job;
    }
};

namespace {

AuthError toAuthError(const QKeychain::Job *job, const char *operation)
{
    return AuthError(AuthError::Kind::KeychainUnavailable,
        QStringLiteral("The keychain refused to %1 the session (%2)")
            .arg(QLatin1String(operation), job->errorString()));
}

} // namespace

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

void KeychainTokenStore::read(const QString &key, ReadCallback done)
{
    auto *job = d->makeJob<QKeychain::ReadPasswordJob>(key);
    connect(job, &QKeychain::Job::finished, this, [job, done = std::move(done)] {
        switch (job->error()) {
        case QKeychain::NoError:
            qCDebug(lcStore) << "read" << job->key() << redacted(job->binaryData());
            done(job->binaryData(), AuthError());
            break;
        case QKeychain::EntryNotFound:
            // A locked keyring also reads as "not found": not proof of "signed out".
            qCDebug(lcStore) << "read" << job->key() << "not found";
            done(QByteArray(), AuthError());
            break;
        default:
            qCWarning(lcStore) << "read" << job->key() << "failed:" << job->errorString();
            done(QByteArray(), toAuthError(job, "read"));
        }
    });
    job->start();
}

void KeychainTokenStore::write(const QString &key, const QByteArray &secret, DoneCallback done)
{
    auto *job = d->makeJob<QKeychain::WritePasswordJob>(key);
    job->setBinaryData(secret);
    connect(job, &QKeychain::Job::finished, this, [job, done = std::move(done)] {
        if (job->error() == QKeychain::NoError) {
            qCDebug(lcStore) << "wrote" << job->key();
            done(AuthError());
        } else {
            qCWarning(lcStore) << "write" << job->key() << "failed:" << job->errorString();
            done(toAuthError(job, "save"));
        }
    });
    job->start();
}

void KeychainTokenStore::remove(const QString &key, DoneCallback done)
{
    auto *job = d->makeJob<QKeychain::DeletePasswordJob>(key);
    connect(job, &QKeychain::Job::finished, this, [job, done = std::move(done)] {
        if (job->error() == QKeychain::NoError || job->error() == QKeychain::EntryNotFound) {
            qCDebug(lcStore) << "removed" << job->key();
            done(AuthError());
        } else {
            qCWarning(lcStore) << "remove" << job->key() << "failed:" << job->errorString();
            done(toAuthError(job, "remove"));
        }
    });
    job->start();
}

} // namespace Latchkey
