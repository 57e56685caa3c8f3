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
    /*! Gets the secret read (empty when there is none) and the error, NoError on success. */
    using ReadCallback = std::function<void(const QByteArray &secret, const AuthError &error)>;
    /*! Gets the error of a write or remove, NoError on success. */
    using DoneCallback = std::function<void(const AuthError &error)>;

    /*! A store owned by \a parent. */
    explicit TokenStore(QObject *parent = nullptr);
    ~TokenStore() override;

    /*! Reads the secret under \a key and calls \a done with it, later. \a done may be empty
        (then nothing is called). */
    virtual void read(const QString &key, ReadCallback done) = 0;
    /*! Keeps \a secret under \a key, replacing what was there, and calls \a done later (may be
        empty). */
    virtual void write(const QString &key, const QByteArray &secret, DoneCallback done) = 0;
    /*! Removes the entry under \a key (no error when there is none) and calls \a done later
        (may be empty). */
    virtual void remove(const QString &key, DoneCallback done) = 0;

    /*! A name for the storage when other processes (or other stores in this one) see the same
        entries, as with the OS keychain; empty when the entries are this object's alone. Clients
        of a shared store take turns to refresh one session and re-read its token first, so that
        two processes never present the same rotating refresh token. */
    virtual QString sharedName() const { return QString(); }
};

} // namespace Latchkey
