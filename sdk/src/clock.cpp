#include "clock_p.h"

#include <QElapsedTimer>

#include <atomic>

namespace Latchkey {

namespace {

std::atomic<Clock *> installed { nullptr };

Clock *systemClock()
{
    static Clock *const clock = new Clock; // lives as long as the process; no owner thread
    return clock;
}

} // namespace

Clock::Clock() = default;
Clock::~Clock()
{
    Clock *self = this;
    installed.compare_exchange_strong(self, nullptr);
}

qint64 Clock::nowMs() const
{
    static const QElapsedTimer start = [] {
        QElapsedTimer t;
        t.start();
        return t;
    }();
    return start.elapsed();
}

Clock *Clock::instance()
{
    Clock *clock = installed.load();
    return clock ? clock : systemClock();
}

void Clock::setInstance(Clock *clock)
{
    installed.store(clock);
}

DeadlineTimer::DeadlineTimer(QObject *parent)
    : QObject(parent)
{
    m_timer.setSingleShot(true);
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &DeadlineTimer::check);
}

void DeadlineTimer::start(std::chrono::milliseconds delay)
{
    Clock *clock = Clock::instance();
    if (m_clock != clock) {
        if (m_clock)
            disconnect(m_clock, &Clock::jumped, this, &DeadlineTimer::check);
        m_clock = clock;
        connect(clock, &Clock::jumped, this, &DeadlineTimer::check);
    }
    m_deadline = clock->nowMs() + std::max<qint64>(delay.count(), 0);
    m_active = true;
    arm();
}

void DeadlineTimer::stop()
{
    m_active = false;
    m_timer.stop();
}

void DeadlineTimer::arm()
{
    const qint64 left = m_deadline - m_clock->nowMs();
    m_timer.start(int(std::clamp<qint64>(left, 0, maxStepMs)));
}

void DeadlineTimer::check()
{
    if (!m_active || !m_clock)
        return;
    if (m_clock->nowMs() < m_deadline) {
        arm(); // one step of a long wait, or a clock that was not advanced: wait on
        return;
    }
    m_active = false;
    m_timer.stop();
    Q_EMIT timeout();
}

} // namespace Latchkey
