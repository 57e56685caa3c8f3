#pragma once

#include <latchkey/latchkey_export.h>

#include <QObject>
#include <QPointer>
#include <QTimer>

#include <chrono>

namespace Latchkey {

// The time every timing decision of the session core is made against: token freshness, the
// proactive refresh, backoff. Monotonic milliseconds, like QElapsedTimer. One per process;
// a test installs a clock it advances by hand (setInstance), so expiry, backoff and sleep are
// tested without sleeping. Exported for the tests only; not part of the public API.
class LATCHKEY_EXPORT Clock : public QObject
{
    Q_OBJECT
public:
    Clock();
    ~Clock() override;

    virtual qint64 nowMs() const;
    // Real time (ms since the epoch): only to notice that the machine slept, during which the
    // monotonic clock stood still, or that the wall clock was set.
    virtual qint64 wallMs() const;

    // The clock in force: the system clock unless a test installed another. setInstance()
    // takes no ownership; nullptr restores the system clock.
    static Clock *instance();
    static void setInstance(Clock *clock);

Q_SIGNALS:
    // The clock moved other than by the passing of time (a test advanced it): every
    // DeadlineTimer looks at its deadline again.
    void jumped();
};

// A single-shot timer toward a deadline on Clock::instance(), for any distance: Qt 6.4's
// QTimer takes its interval as an int (2^31 ms, about 24.9 days; longer ones go negative or
// wrap), so a long wait is a chain of shorter ones, each checking the clock again. It never
// fires before the deadline, and fires when the clock jumps past it.
class DeadlineTimer : public QObject
{
    Q_OBJECT
public:
    explicit DeadlineTimer(QObject *parent = nullptr);

    // Fires timeout() once, \a delay from now (negative: as soon as possible).
    void start(std::chrono::milliseconds delay);
    void stop();
    // The longest single step; also how often a long wait looks at the clocks (default: a day).
    void setMaxStep(std::chrono::milliseconds step) { m_maxStep = step.count(); }
    bool isActive() const { return m_active; }
    qint64 deadlineMs() const { return m_deadline; }

    // The longest single QTimer interval used (well inside int).
    static constexpr qint64 maxStepMs = 24 * 3600 * 1000; // one day

    // How far real time may run ahead of (or behind) the monotonic clock between two looks
    // before it counts as a sleep or a wall-clock jump.
    static constexpr qint64 jumpToleranceMs = 5000;

Q_SIGNALS:
    void timeout();
    // Real time moved \a driftMs more than the monotonic clock since the last look: the machine
    // slept (suspend stops the monotonic clock), or the wall clock was set. The deadline, on
    // the monotonic clock, is not trusted to mean what it meant.
    void clockJumped(qint64 driftMs);

private:
    void arm();
    void check();

    QTimer m_timer;
    QPointer<Clock> m_clock;
    qint64 m_deadline = 0;
    qint64 m_maxStep = maxStepMs;
    qint64 m_lookedMono = 0; // the last look at both clocks
    qint64 m_lookedWall = 0;
    bool m_active = false;
};

} // namespace Latchkey
