#pragma once

#include <QHash>
#include <QList>
#include <QString>

// A sliding-window limiter: at most `limit` hits per key (a client address) within `windowMs`.
// Rejected hits are not recorded, so a client that keeps knocking is let in again as soon as
// its oldest counted attempt leaves the window. Time is passed in, so tests need no sleeps.
class RateLimiter
{
public:
    struct Decision
    {
        bool allowed = true;
        int limit = 0; // 0: limiting is off
        int remaining = 0; // hits left in the window after this one
        qint64 resetAtMs = 0; // when the oldest counted hit leaves the window
        qint64 retryAfterSeconds = 0; // only when !allowed; at least 1
    };

    RateLimiter(int limit, qint64 windowMs);

    bool enabled() const { return m_limit > 0; }
    Decision hit(const QString &key, qint64 nowMs);

private:
    void prune(qint64 nowMs);

    int m_limit;
    qint64 m_windowMs;
    QHash<QString, QList<qint64>> m_hits; // key -> times of the counted hits, oldest first
};
