#include "testhooks.h"

#include "authservice.h"
#include "faultinjector.h"
#include "httputil.h"
#include "serverlog.h"

#include <QHttpServerRequest>

using HttpUtil::Status;

namespace {
// An integer field with a default when absent; false when present but not an integer in range.
bool intField(const QJsonObject &body, const char *name, int fallback, int min, int max, int *out)
{
    const QJsonValue value = body.value(QLatin1String(name));
    if (value.isUndefined() || value.isNull()) {
        *out = fallback;
        return true;
    }
    const double d = value.toDouble(-1e18);
    if (!value.isDouble() || d != double(qint64(d)) || d < min || d > max)
        return false;
    *out = int(d);
    return true;
}
} // namespace

TestHooks::TestHooks(FaultInjector &faults, AuthService &auth)
    : m_faults(faults)
    , m_auth(auth)
{ }

std::optional<QHttpServerResponse> TestHooks::handle(const QHttpServerRequest &request)
{
    const QString path = request.url().path();
    if (!path.startsWith(QLatin1String("/test/")))
        return std::nullopt;
    if (path == QLatin1String("/test/redirect-loop")) {
        // Any method: a redirect to itself, for clients that must not follow it forever.
        QHttpServerResponse response(QHttpServerResponse::StatusCode::Found);
        response.setHeader(QByteArrayLiteral("Location"), QByteArrayLiteral("/test/redirect-loop"));
        return response;
    }
    const bool known = path == QLatin1String("/test/expire-access-tokens")
        || path == QLatin1String("/test/fail-refresh")
        || path == QLatin1String("/test/revoke-sessions") || path == QLatin1String("/test/latency");
    if (!known)
        return std::nullopt;
    if (request.method() != QHttpServerRequest::Method::Post)
        return HttpUtil::message(Status::MethodNotAllowed, QStringLiteral("Use POST."));
    const auto body = HttpUtil::jsonObject(request.body(), true);
    if (!body)
        return HttpUtil::message(
            Status::BadRequest, QStringLiteral("Request body must be a JSON object."));

    const QString email = body->value(QLatin1String("email")).toString();
    std::optional<UserRecord> user;
    if (!email.isEmpty()) {
        user = m_auth.database().userByEmail(email.trimmed());
        if (!user)
            return HttpUtil::message(Status::NotFound, QStringLiteral("Unknown user."));
    }

    if (path == QLatin1String("/test/expire-access-tokens")) {
        if (user)
            m_faults.expireAccessTokens(user->id);
        else
            m_faults.expireAccessTokens();
        qCInfo(lcServer) << "test hook: access tokens expired for"
                         << (user ? QString::number(user->id) : QStringLiteral("everyone"));
    } else if (path == QLatin1String("/test/fail-refresh")) {
        int status = 0, count = 0, retryAfter = 0;
        if (!intField(*body, "status", 503, 400, 599, &status)
            || !intField(*body, "count", 1, 0, 1000000, &count)
            || !intField(*body, "retryAfter", 0, 0, 3600, &retryAfter))
            return HttpUtil::message(Status::BadRequest,
                QStringLiteral("status must be 400..599, count >= 0, retryAfter 0..3600."));
        m_faults.failRefresh(status, count, retryAfter);
        qCInfo(lcServer) << "test hook: next" << count << "refresh call(s) answer" << status;
    } else if (path == QLatin1String("/test/revoke-sessions")) {
        if (!user)
            return HttpUtil::message(Status::BadRequest, QStringLiteral("email is required."));
        const int revoked = m_auth.refreshTokens().revokeAllOfUser(user->id);
        qCInfo(lcServer) << "test hook: revoked" << revoked << "refresh token(s) of user"
                         << user->id;
    } else {
        int ms = 0;
        if (!intField(*body, "ms", 0, 0, 600000, &ms))
            return HttpUtil::message(Status::BadRequest, QStringLiteral("ms must be 0..600000."));
        m_faults.setLatencyMs(ms);
        qCInfo(lcServer) << "test hook: latency" << ms << "ms";
    }
    return HttpUtil::noContent();
}
