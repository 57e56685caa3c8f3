#include "ratelimiter.h"

namespace {
constexpr qsizetype PruneAbove = 4096; // keys kept before stale ones are swept
}

RateLimiter::RateLimiter(int limit, qint64 windowMs)
    : m_limit(limit)
    , m_windowMs(windowMs)
{ }

void RateLimiter::prune(qint64 nowMs)
{
    for (auto it = m_hits.begin(); it != m_hits.end();) {
        if (it->isEmpty() || it->last() <= nowMs - m_windowMs)
            it = m_hits.erase(it);
        else
            ++it;
    }
}

RateLimiter::Decision RateLimiter::hit(const QString &key, qint64 nowMs)
{
    Decision decision;
    if (m_limit <= 0)
        return decision;
    if (m_hits.size() > PruneAbove)
        prune(nowMs);
    decision.limit = m_limit;
    QList<qint64> &times = m_hits[key];
    while (!times.isEmpty() && times.first() <= nowMs - m_windowMs)
        times.removeFirst();
    if (times.size() >= m_limit) {
        decision.allowed = false;
        decision.resetAtMs = times.first() + m_windowMs;
        decision.retryAfterSeconds = std::max<qint64>(1, (decision.resetAtMs - nowMs + 999) / 1000);
        return decision;
    }
    times.append(nowMs);
    decision.remaining = m_limit - int(times.size());
    decision.resetAtMs = times.first() + m_windowMs;
    return decision;
}
