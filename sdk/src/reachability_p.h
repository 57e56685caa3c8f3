#pragma once

#include <latchkey/latchkey_export.h>

#include <QObject>

namespace Latchkey {

// Whether the network is there, as QNetworkInformation says: the session asks it nothing, it
// only listens for the network coming back, to retry a refresh that could not reach the server
// at once instead of at the end of its backoff. One per process; a test installs its own
// (setInstance) and says online() when it likes, since a container's backends report nothing.
// Exported for the tests only; not part of the public API.
class LATCHKEY_EXPORT Reachability : public QObject
{
    Q_OBJECT
public:
    Reachability();
    ~Reachability() override;

    static Reachability *instance();
    static void setInstance(Reachability *reachability); // no ownership; nullptr: the system's

Q_SIGNALS:
    // The network was away and is back (or the platform cannot tell and something changed).
    void online();
};

} // namespace Latchkey
