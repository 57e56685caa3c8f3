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
        , m_wall(Latchkey::Clock::instance()->wallMs())
    {
        Latchkey::Clock::setInstance(this);
    }
    ~ManualClock() override { Latchkey::Clock::setInstance(nullptr); }

    qint64 nowMs() const override { return m_now; }
    qint64 wallMs() const override { return m_wall; }
    // Time passes, for both clocks.
    void advance(std::chrono::milliseconds by)
    {
        m_now += by.count();
        m_wall += by.count();
        Q_EMIT jumped();
    }
    // The machine sleeps: real time passes, the monotonic clock stands still.
    void sleep(std::chrono::milliseconds by)
    {
        m_wall += by.count();
        Q_EMIT jumped();
    }

private:
    qint64 m_now;
    qint64 m_wall;
};

} // namespace LatchkeyTest
