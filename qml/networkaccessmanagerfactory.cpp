#include "networkaccessmanagerfactory.h"

#include "sessionregistry_p.h"

#include <latchkey/authclient.h>

#include <QLoggingCategory>
#include <QNetworkReply>
#include <QQmlEngine>
#include <QThread>

namespace Latchkey {

Q_LOGGING_CATEGORY(lcQml, "latchkey.qml", QtWarningMsg)

// --- SessionRegistry ---------------------------------------------------------------------

void SessionRegistry::add(AuthClient *client)
{
    QMutexLocker lock(&mutex);
    for (const Entry &e : std::as_const(entries)) {
        if (e.client == client)
            return;
    }
    entries.append({ nextId++, client, client->baseUrl() });
}

void SessionRegistry::remove(AuthClient *client)
{
    QMutexLocker lock(&mutex);
    entries.removeIf([client](const Entry &e) { return e.client == client; });
}

bool SessionRegistry::sameOrigin(const QUrl &a, const QUrl &b)
{
    const auto port
        = [](const QUrl &u) { return u.port(u.scheme() == QLatin1String("https") ? 443 : 80); };
    return a.scheme().compare(b.scheme(), Qt::CaseInsensitive) == 0
        && a.host().compare(b.host(), Qt::CaseInsensitive) == 0 && port(a) == port(b);
}

// --- ForwardingNetworkAccessManager ------------------------------------------------------

ForwardingNetworkAccessManager::ForwardingNetworkAccessManager(
    std::shared_ptr<SessionRegistry> registry, QObject *parent)
    : QNetworkAccessManager(parent)
    , m_registry(std::move(registry))
{ }

QNetworkReply *ForwardingNetworkAccessManager::createRequest(
    Operation op, const QNetworkRequest &request, QIODevice *outgoingData)
{
    ForwardTarget *target = nullptr;
    {
        QMutexLocker lock(&m_registry->mutex);
        dropStaleTargets();
        for (const SessionRegistry::Entry &e : std::as_const(m_registry->entries)) {
            if (!SessionRegistry::sameOrigin(e.baseUrl, request.url()))
                continue;
            target = m_targets.value(e.id);
            if (!target) {
                // The SDK's constructor is thread-safe while the client lives; the registry
                // mutex keeps it alive (removal comes first and takes the same mutex).
                target = new ForwardTarget(e.client, this);
                target->setRedirectPolicy(redirectPolicy());
                m_targets.insert(e.id, target);
                qCDebug(lcQml) << "authorizing manager for" << e.baseUrl.host() << "on thread"
                               << QThread::currentThread();
            }
            break;
        }
    }
    if (target)
        return target->forward(op, request, outgoingData);
    return QNetworkAccessManager::createRequest(op, request, outgoingData);
}

void ForwardingNetworkAccessManager::dropStaleTargets()
{
    for (auto it = m_targets.begin(); it != m_targets.end();) {
        const quint64 id = it.key();
        const bool registered
            = std::any_of(m_registry->entries.cbegin(), m_registry->entries.cend(),
                [id](const SessionRegistry::Entry &e) { return e.id == id; });
        // A manager of a removed client goes once its last reply is gone.
        if (!registered && it.value()->findChildren<QNetworkReply *>().isEmpty()) {
            delete it.value();
            it = m_targets.erase(it);
        } else {
            ++it;
        }
    }
}

// --- QmlNetworkAccessManagerFactory ------------------------------------------------------

class QmlNetworkAccessManagerFactoryPrivate
{
public:
    // The clients, shared with the managers made on any thread and with the engine's Sessions.
    std::shared_ptr<SessionRegistry> registry = std::make_shared<SessionRegistry>();
};

QmlNetworkAccessManagerFactory::QmlNetworkAccessManagerFactory()
    : d(new QmlNetworkAccessManagerFactoryPrivate)
{ }

QmlNetworkAccessManagerFactory::~QmlNetworkAccessManagerFactory() = default;

std::shared_ptr<SessionRegistry> QmlNetworkAccessManagerFactory::registry() const
{
    return d->registry;
}

QNetworkAccessManager *QmlNetworkAccessManagerFactory::create(QObject *parent)
{
    return new ForwardingNetworkAccessManager(d->registry, parent);
}

void QmlNetworkAccessManagerFactory::addClient(AuthClient *client)
{
    if (client)
        d->registry->add(client);
}

void QmlNetworkAccessManagerFactory::removeClient(AuthClient *client)
{
    d->registry->remove(client);
}

QmlNetworkAccessManagerFactory *QmlNetworkAccessManagerFactory::of(QQmlEngine *engine)
{
    if (!engine)
        return nullptr;
    return dynamic_cast<QmlNetworkAccessManagerFactory *>(engine->networkAccessManagerFactory());
}

namespace {
// Deletes the factory with the engine (QQmlEngine does not own its factory).
class FactoryOwner : public QObject
{
public:
    FactoryOwner(QmlNetworkAccessManagerFactory *factory, QObject *parent)
        : QObject(parent)
        , m_factory(factory)
    { }
    ~FactoryOwner() override { delete m_factory; }

private:
    QmlNetworkAccessManagerFactory *m_factory;
};
} // namespace

QmlNetworkAccessManagerFactory *QmlNetworkAccessManagerFactory::install(QQmlEngine *engine)
{
    if (!engine)
        return nullptr;
    if (QQmlNetworkAccessManagerFactory *existing = engine->networkAccessManagerFactory()) {
        auto *ours = dynamic_cast<QmlNetworkAccessManagerFactory *>(existing);
        if (!ours) {
            qCWarning(lcQml) << "the QML engine has a network access manager factory of its own:"
                                " XMLHttpRequest and Image are not authorized by Latchkey (derive"
                                " it from Latchkey::QmlNetworkAccessManagerFactory)";
        }
        return ours;
    }
    auto *factory = new QmlNetworkAccessManagerFactory;
    new FactoryOwner(factory, engine);
    engine->setNetworkAccessManagerFactory(factory);
    return factory;
}

} // namespace Latchkey
