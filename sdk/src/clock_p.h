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
    bool isActive() const { return m_active; }
    qint64 deadlineMs() const { return m_deadline; }

    // The longest single QTimer interval used (well inside int).
    static constexpr qint64 maxStepMs = 24 * 3600 * 1000; // one day

Q_SIGNALS:
    void timeout();

private:
    void arm();
    void check();

    QTimer m_timer;
    QPointer<Clock> m_clock;
    qint64 m_deadline = 0;
    bool m_active = false;
};

} // namespace Latchkey
