#pragma once

#include <reachability_p.h>

namespace LatchkeyTest {

// Network reachability the test announces (a container's backends report nothing), installed
// for the SDK while it lives.
class ManualReachability : public Latchkey::Reachability
{
public:
    ManualReachability() { Latchkey::Reachability::setInstance(this); }
    ~ManualReachability() override { Latchkey::Reachability::setInstance(nullptr); }
    void networkBack() { Q_EMIT online(); }
};

} // namespace LatchkeyTest
