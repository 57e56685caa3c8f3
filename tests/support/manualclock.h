#pragma once

#include <clock_p.h>

#include <chrono>

namespace LatchkeyTest {

// A clock the test advances by hand, installed for the SDK while it lives: token lifetimes,
// proactive refreshes and backoff are then tested without waiting for them.
class ManualClock : public Latchkey::Clock
{
public:
    ManualClock()
        : m_now(Latchkey::Clock::instance()->nowMs())
    {
        Latchkey::Clock::setInstance(this);
    }
    ~ManualClock() override { Latchkey::Clock::setInstance(nullptr); }

    qint64 nowMs() const override { return m_now; }
    void advance(std::chrono::milliseconds by)
    {
        m_now += by.count();
        Q_EMIT jumped();
    }

private:
    qint64 m_now;
};

} // namespace LatchkeyTest
