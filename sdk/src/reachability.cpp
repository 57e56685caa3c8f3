#include "reachability_p.h"

#include "logging_p.h"

#include <QCoreApplication>
#include <QNetworkInformation>

#include <atomic>

namespace Latchkey {

namespace {

std::atomic<Reachability *> installed { nullptr };

// The system's: QNetworkInformation's reachability, loaded once, living in the main thread.
class SystemReachability : public Reachability
{
public:
    // In the application's thread, whichever thread asks first: the backend and this object
    // must outlive any worker thread a client was made in.
    void load()
    {
        if (!QNetworkInformation::loadBackendByFeatures(
                QNetworkInformation::Feature::Reachability)) {
            qCDebug(lcAuth) << "no network information backend: reconnects follow the backoff";
            return;
        }
        QNetworkInformation *info = QNetworkInformation::instance();
        qCDebug(lcAuth) << "network information backend" << info->backendName();
        connect(info, &QNetworkInformation::reachabilityChanged, this,
            [this](QNetworkInformation::Reachability reachability) {
                if (reachability == QNetworkInformation::Reachability::Online) {
                    qCInfo(lcAuth) << "the network is back";
                    Q_EMIT online();
                }
            });
    }
};

} // namespace

Reachability::Reachability() = default;

Reachability::~Reachability()
{
    Reachability *self = this;
    installed.compare_exchange_strong(self, nullptr);
}

Reachability *Reachability::instance()
{
    if (Reachability *reachability = installed.load())
        return reachability;
    // Made by the first client that asks, moved to the application's thread and loaded there,
    // and kept for the life of the process.
    static SystemReachability *const system = [] {
        auto *r = new SystemReachability;
        if (QCoreApplication *app = QCoreApplication::instance())
            r->moveToThread(app->thread());
        QMetaObject::invokeMethod(
            r, [r] { r->load(); }, Qt::QueuedConnection);
        return r;
    }();
    return system;
}

void Reachability::setInstance(Reachability *reachability)
{
    installed.store(reachability);
}

} // namespace Latchkey
