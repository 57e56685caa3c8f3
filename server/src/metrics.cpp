#include "metrics.h"

#include <iterator>

namespace {
void appendSeries(QByteArray &out, const char *name, const char *label, quint64 value)
{
    out.append(name);
    if (label) {
        out.append("{result=\"");
        out.append(label);
        out.append("\"}");
    }
    out.append(' ');
    out.append(QByteArray::number(value));
    out.append('\n');
}

void appendHeader(QByteArray &out, const char *name, const char *help)
{
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(" counter\n");
}
} // namespace

QByteArray Metrics::render() const
{
    static const char *const loginLabels[] = { "ok", "invalid", "locked", "rate_limited" };
    static const char *const refreshLabels[] = { "ok", "missing", "invalid", "reused", "injected" };
    static_assert(std::size(loginLabels) == size_t(Login::Count_));
    static_assert(std::size(refreshLabels) == size_t(Refresh::Count_));

    QByteArray out;
    appendHeader(out, "latchkey_logins_total", "Login attempts by result.");
    for (int i = 0; i < int(Login::Count_); ++i)
        appendSeries(out, "latchkey_logins_total", loginLabels[i], m_logins[i]);
    appendHeader(out, "latchkey_refresh_total", "Refresh attempts by result.");
    for (int i = 0; i < int(Refresh::Count_); ++i)
        appendSeries(out, "latchkey_refresh_total", refreshLabels[i], m_refreshes[i]);
    appendHeader(out, "latchkey_unauthorized_total", "Protected-route requests answered 401.");
    appendSeries(out, "latchkey_unauthorized_total", nullptr, m_unauthorized);
    appendHeader(out, "latchkey_requests_total", "HTTP requests received.");
    appendSeries(out, "latchkey_requests_total", nullptr, m_requests);
    return out;
}
