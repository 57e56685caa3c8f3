#pragma once

#include <latchkey/authorizednetworkaccessmanager.h>

#include <QHash>
#include <QList>
#include <QMutex>
#include <QNetworkAccessManager>
#include <QUrl>

#include <memory>

namespace Latchkey {

class AuthClient;

// The clients whose origins a QML engine's managers authorize. Shared by the factory and every
// manager it made, on any thread; everything under one mutex. A client is removed before it is
// destroyed, so a manager constructing an AuthorizedNetworkAccessManager for it under the mutex
// never sees a dangling pointer.
class SessionRegistry
{
public:
    struct Entry
    {
        quint64 id = 0;
        AuthClient *client = nullptr;
        QUrl baseUrl;
    };

    void add(AuthClient *client);
    void remove(AuthClient *client);

    // Origins: scheme, host and port (with the scheme's default port) compare equal.
    static bool sameOrigin(const QUrl &a, const QUrl &b);

    QMutex mutex;
    QList<Entry> entries; // under mutex
    quint64 nextId = 1; // under mutex
};

// An AuthorizedNetworkAccessManager whose createRequest() the forwarding manager may call.
class ForwardTarget : public AuthorizedNetworkAccessManager
{
    Q_OBJECT
public:
    using AuthorizedNetworkAccessManager::AuthorizedNetworkAccessManager;
    QNetworkReply *forward(Operation op, const QNetworkRequest &request, QIODevice *data)
    {
        return createRequest(op, request, data);
    }
};

// What the QML engine gets from the factory, one per thread: each request to a registered
// client's origin is handed to that client's AuthorizedNetworkAccessManager of this thread
// (made on first use); anything else is sent as by a plain QNetworkAccessManager.
class ForwardingNetworkAccessManager : public QNetworkAccessManager
{
    Q_OBJECT
public:
    ForwardingNetworkAccessManager(std::shared_ptr<SessionRegistry> registry, QObject *parent);

protected:
    QNetworkReply *createRequest(
        Operation op, const QNetworkRequest &request, QIODevice *outgoingData) override;

private:
    void dropStaleTargets(); // with the registry mutex held

    std::shared_ptr<SessionRegistry> m_registry;
    QHash<quint64, ForwardTarget *> m_targets; // registry entry id → manager of this thread
};

} // namespace Latchkey
