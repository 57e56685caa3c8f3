#include "reachability_p.h"

#include "logging_p.h"

#include <QNetworkInformation>

#include <atomic>

namespace Latchkey {

namespace {

std::atomic<Reachability *> installed { nullptr };

// The system's: QNetworkInformation's reachability, loaded once, living in the main thread.
class SystemReachability : public Reachability
{
public:
    SystemReachability()
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
    // Made by the first client that asks, in its thread, and kept for the life of the process.
    static SystemReachability *const system = new SystemReachability;
    return system;
}

void Reachability::setInstance(Reachability *reachability)
{
    installed.store(reachability);
}

} // namespace Latchkey
