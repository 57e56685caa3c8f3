#pragma once

#include <QByteArray>

// Counters exposed at /metrics in the Prometheus text format. Every series is always printed
// (zeros included) so clients can diff before/after values.
class Metrics
{
public:
    enum class Login { Ok, Invalid, Locked, RateLimited, Count_ };
    enum class Refresh { Ok, Missing, Invalid, Reused, Injected, Count_ };

    void count(Login result) { ++m_logins[int(result)]; }
    void count(Refresh result) { ++m_refreshes[int(result)]; }
    void countUnauthorized() { ++m_unauthorized; }
    void countRequest() { ++m_requests; }

    quint64 value(Login result) const { return m_logins[int(result)]; }
    quint64 value(Refresh result) const { return m_refreshes[int(result)]; }
    quint64 requests() const { return m_requests; }

    QByteArray render() const;

private:
    quint64 m_logins[int(Login::Count_)] = {};
    quint64 m_refreshes[int(Refresh::Count_)] = {};
    quint64 m_unauthorized = 0;
    quint64 m_requests = 0;
};
