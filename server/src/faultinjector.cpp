#include "faultinjector.h"

#include <algorithm>

void FaultInjector::noteIssued(const QString &jti)
{
    m_issued.insert(jti, m_nextSeq++);
}

bool FaultInjector::isForcedExpired(const QString &jti, qint64 userId) const
{
    const quint64 cutoff = std::max(m_globalCutoff, m_userCutoff.value(userId, 0));
    // A token this process never issued (seq 0) predates every cutoff.
    return m_issued.value(jti, 0) < cutoff;
}

void FaultInjector::expireAccessTokens()
{
    m_globalCutoff = m_nextSeq;
}

void FaultInjector::expireAccessTokens(qint64 userId)
{
    m_userCutoff.insert(userId, m_nextSeq);
}

void FaultInjector::failRefresh(int status, int count, int retryAfterSeconds)
{
    m_failStatus = status;
    m_failCount = count;
    m_failRetryAfter = retryAfterSeconds;
}

std::optional<int> FaultInjector::takeRefreshFailure()
{
    if (m_failCount <= 0)
        return std::nullopt;
    --m_failCount;
    return m_failStatus;
}
