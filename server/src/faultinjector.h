#pragma once

#include <QHash>
#include <QString>

#include <optional>

// State behind the /test/* hooks (only created with --test-hooks): which access tokens count as
// expired, how many refresh calls to fail, how much latency to add. The core consults it; the
// HTTP side lives in TestHooks.
class FaultInjector
{
public:
    // Every access token is noted at issue with a monotonic sequence number, because `iat` has
    // only one-second resolution.
    void noteIssued(const QString &jti);
    bool isForcedExpired(const QString &jti, qint64 userId) const;
    void expireAccessTokens(); // everyone's tokens issued so far
    void expireAccessTokens(qint64 userId);

    // The next \a count refresh calls answer \a status (with Retry-After when retryAfter > 0).
    void failRefresh(int status, int count, int retryAfterSeconds = 0);
    std::optional<int> takeRefreshFailure(); // the status to answer, if one is pending
    int refreshFailureRetryAfter() const { return m_failRetryAfter; }

    void setLatencyMs(int ms) { m_latencyMs = ms; }
    int latencyMs() const { return m_latencyMs; }

private:
    quint64 m_nextSeq = 1;
    QHash<QString, quint64> m_issued; // jti -> sequence number
    quint64 m_globalCutoff = 0; // tokens with a sequence below this are expired
    QHash<qint64, quint64> m_userCutoff;
    int m_failStatus = 503;
    int m_failCount = 0;
    int m_failRetryAfter = 0;
    int m_latencyMs = 0;
};
