#include "clock_p.h"

#include <QDateTime>
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

qint64 Clock::wallMs() const
{
    return QDateTime::currentMSecsSinceEpoch();
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
    m_lookedMono = clock->nowMs();
    m_lookedWall = clock->wallMs();
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
    m_timer.start(int(std::clamp<qint64>(left, 0, std::min(m_maxStep, maxStepMs))));
}

void DeadlineTimer::check()
{
    if (!m_active || !m_clock)
        return;
    const qint64 mono = m_clock->nowMs();
    const qint64 wall = m_clock->wallMs();
    const qint64 drift = (wall - m_lookedWall) - (mono - m_lookedMono);
    m_lookedMono = mono;
    m_lookedWall = wall;
    if (std::abs(drift) > jumpToleranceMs) {
        Q_EMIT clockJumped(drift); // may stop or restart this timer
        if (!m_active)
            return;
    }
    if (m_clock->nowMs() < m_deadline) {
        arm(); // one step of a long wait, or a clock that was not advanced: wait on
        return;
    }
    m_active = false;
    m_timer.stop();
    Q_EMIT timeout();
}

} // namespace Latchkey
