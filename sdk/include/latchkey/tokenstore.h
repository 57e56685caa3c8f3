#pragma once

#include <latchkey/autherror.h>
#include <latchkey/latchkey_export.h>

#include <QByteArray>
#include <QObject>
#include <QString>

#include <functional>

namespace Latchkey {

/*!
    Where the refresh token lives between runs. Asynchronous like the OS keychains behind it:
    every call returns at once and its callback runs later from the event loop of the store's
    thread (never synchronously inside the call). A read of a missing entry reports an empty
    secret and no error.

    Latchkey ships KeychainTokenStore (the default: the OS keychain) and MemoryTokenStore
    (nothing survives the process). Subclass for anything else.
*/
class LATCHKEY_EXPORT TokenStore : public QObject
{
    Q_OBJECT
public:
    using ReadCallback = std::function<void(const QByteArray &secret, const AuthError &error)>;
    using DoneCallback = std::function<void(const AuthError &error)>;

    explicit TokenStore(QObject *parent = nullptr);
    ~TokenStore() override;

    virtual void read(const QString &key, ReadCallback done) = 0;
    virtual void write(const QString &key, const QByteArray &secret, DoneCallback done) = 0;
    virtual void remove(const QString &key, DoneCallback done) = 0;

    /*! A name for the storage when other processes (or other stores in this one) see the same
        entries, as with the OS keychain; empty when the entries are this object's alone. Clients
        of a shared store take turns to refresh one session and re-read its token first, so that
        two processes never present the same rotating refresh token. */
    virtual QString sharedName() const { return QString(); }
};

} // namespace Latchkey
