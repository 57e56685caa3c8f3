#include "schedulemanagerdialect.h"

#include "httputil.h"
#include "jwtsigner.h"
#include "latchkeydialect.h"
#include "metrics.h"

#include <QJsonArray>

using HttpUtil::Status;

namespace {
const QByteArray cookieName = QByteArrayLiteral("refresh_token");

QHttpServerResponse detail(int status, const QString &text)
{
    return HttpUtil::json({ { QStringLiteral("detail"), text } }, static_cast<Status>(status));
}

// FastAPI's 422 for a body that does not validate.
QHttpServerResponse unprocessable(const QStringList &fields)
{
    QJsonArray errors;
    for (const QString &field : fields) {
        errors.append(
            QJsonObject { { QStringLiteral("loc"), QJsonArray { QStringLiteral("body"), field } },
                { QStringLiteral("msg"), QStringLiteral("field required") },
                { QStringLiteral("type"), QStringLiteral("value_error.missing") } });
    }
    return HttpUtil::json({ { QStringLiteral("detail"), errors } }, Status::UnprocessableEntity);
}

QHttpServerResponse passwordPolicy(const QStringList &requirements)
{
    return HttpUtil::json(
        { { QStringLiteral("error"), QStringLiteral("Password does not meet requirements") },
            { QStringLiteral("requirements"), QJsonArray::fromStringList(requirements) } },
        Status::BadRequest);
}

// As Starlette's Response.set_cookie writes it (no `Secure`: plain HTTP on loopback).
QByteArray setCookie(const QString &token, qint64 maxAge)
{
    return cookieName + '=' + token.toLatin1() + "; HttpOnly; Max-Age=" + QByteArray::number(maxAge)
        + "; Path=/; SameSite=lax";
}

void addRateHeaders(QHttpServerResponse &response, const RateLimiter::Decision &rate)
{
    if (rate.limit <= 0)
        return;
    response.setHeader(QByteArrayLiteral("X-RateLimit-Limit"), QByteArray::number(rate.limit));
    response.setHeader(
        QByteArrayLiteral("X-RateLimit-Remaining"), QByteArray::number(rate.remaining));
    response.setHeader(
        QByteArrayLiteral("X-RateLimit-Reset"), QByteArray::number((rate.resetAtMs + 999) / 1000));
}

QJsonObject userJson(const UserRecord &user)
{
    return { { QStringLiteral("email"), user.email },
        { QStringLiteral("role"), ScheduleManagerDialect::roleOf(user) } };
}
} // namespace

ScheduleManagerDialect::ScheduleManagerDialect(AuthService &auth, Metrics &metrics)
    : RoutedDialect(auth, metrics)
{
    using D = ScheduleManagerDialect;
    publicRoute(Method::Post, QStringLiteral("/api/auth/register"), &D::registerUser);
    publicRoute(Method::Post, QStringLiteral("/api/auth/login"), &D::login);
    publicRoute(Method::Post, QStringLiteral("/api/auth/refresh"), &D::refresh);
    publicRoute(Method::Post, QStringLiteral("/api/auth/logout"), &D::logout);
    userRoute(Method::Post, QStringLiteral("/api/auth/change-password"), &D::changePassword);
    userRoute(Method::Get, QStringLiteral("/api/auth/me"), &D::me);
    userRoute(Method::Get, QStringLiteral("/api/employees"), &D::employees);
    userRoute(Method::Post, QStringLiteral("/api/echo"), &D::echoRoute);
    userRoute(Method::Get, QStringLiteral("/api/ping"), &D::ping);
}

QString ScheduleManagerDialect::roleOf(const UserRecord &user)
{
    return user.roles.contains(QLatin1String("manager")) ? QStringLiteral("manager")
                                                         : QStringLiteral("employee");
}

QStringList ScheduleManagerDialect::permissionsOf(const QString &role)
{
    if (role == QLatin1String("manager")) {
        QStringList permissions;
        for (const char *resource : { "employees", "schedules", "rules" }) {
            for (const char *action : { "create", "read", "update", "delete" })
                permissions << QString::fromLatin1(resource) + QLatin1Char(':')
                        + QString::fromLatin1(action);
        }
        permissions << QStringLiteral("notifications:create")
                    << QStringLiteral("notifications:read") << QStringLiteral("analytics:read")
                    << QStringLiteral("schedule:generate") << QStringLiteral("schedule:optimize");
        return permissions;
    }
    return { QStringLiteral("employees:read_own"), QStringLiteral("schedules:read_own"),
        QStringLiteral("notifications:read_own"), QStringLiteral("notifications:update_own") };
}

QJsonObject ScheduleManagerDialect::accessClaims(const UserRecord &user) const
{
    const QString role = roleOf(user);
    return { { QStringLiteral("role"), role },
        { QStringLiteral("permissions"), QJsonArray::fromStringList(permissionsOf(role)) } };
}

QHttpServerResponse ScheduleManagerDialect::unauthorized(const BearerResult &bearer)
{
    m_metrics.countUnauthorized();
    QString text = QStringLiteral("Not authenticated");
    if (bearer.status == BearerResult::Status::Invalid) {
        text = bearer.errorDescription == JwtSigner::describe(JwtSigner::Error::Expired)
            ? QStringLiteral("Token has expired")
            : QStringLiteral("Could not validate credentials");
    }
    QHttpServerResponse response = detail(401, text);
    response.setHeader(QByteArrayLiteral("WWW-Authenticate"),
        bearerChallenge(QByteArrayLiteral("schedule-manager"), bearer));
    return response;
}

QHttpServerResponse ScheduleManagerDialect::methodNotAllowed()
{
    return detail(405, QStringLiteral("Method Not Allowed"));
}

QHttpServerResponse ScheduleManagerDialect::registerUser(const QHttpServerRequest &request)
{
    const auto body = HttpUtil::jsonObject(request.body());
    RegisterRequest in;
    in.namesOptional = true;
    QString name;
    if (!body || !HttpUtil::stringField(*body, "email", &in.email)
        || !HttpUtil::stringField(*body, "password", &in.password)
        || !HttpUtil::optionalString(*body, "name", &name))
        return unprocessable({ QStringLiteral("email"), QStringLiteral("password") });
    // "Jane Doe" -> first and last name; the role is always employee (managers are seeded).
    const qsizetype space = name.trimmed().indexOf(QLatin1Char(' '));
    in.firstName = space < 0 ? name.trimmed() : name.trimmed().left(space);
    in.lastName = space < 0 ? QString() : name.trimmed().mid(space + 1);
    const RegisterResult result = m_auth.registerUser(in);
    switch (result.status) {
    case RegisterResult::Status::Created:
        return HttpUtil::json(
            { { QStringLiteral("message"), QStringLiteral("User registered successfully") },
                { QStringLiteral("user"), userJson(result.user) } },
            Status::Created);
    case RegisterResult::Status::EmailTaken:
        return detail(409, QStringLiteral("Email already registered"));
    case RegisterResult::Status::WeakPassword:
        return passwordPolicy(result.requirements);
    case RegisterResult::Status::Invalid:
        return detail(422, result.message);
    case RegisterResult::Status::Failed:
        break;
    }
    return detail(500, QStringLiteral("Internal Server Error"));
}

QHttpServerResponse ScheduleManagerDialect::login(const QHttpServerRequest &request)
{
    const auto body = HttpUtil::jsonObject(request.body());
    QString email, password;
    if (!body || !HttpUtil::stringField(*body, "email", &email)
        || !HttpUtil::stringField(*body, "password", &password))
        return unprocessable({ QStringLiteral("email"), QStringLiteral("password") });
    const LoginResult result = m_auth.login(email, password, clientAddress(request));
    QHttpServerResponse response = detail(401, QStringLiteral("Invalid credentials"));
    switch (result.status) {
    case LoginResult::Status::Ok:
        response = HttpUtil::json({
            { QStringLiteral("access_token"), result.grant.accessToken },
            { QStringLiteral("token_type"), QStringLiteral("bearer") },
            { QStringLiteral("user"), userJson(result.grant.user) },
        });
        response.addHeader(QByteArrayLiteral("Set-Cookie"),
            setCookie(result.grant.refreshToken, result.grant.refreshExpiresIn));
        response.addHeader(QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-store"));
        break;
    case LoginResult::Status::Locked: {
        const QString until = isoUtc(result.lockedUntil);
        response = HttpUtil::json(
            { { QStringLiteral("error"), QStringLiteral("Account is locked") },
                { QStringLiteral("message"), QStringLiteral("Account locked until %1").arg(until) },
                { QStringLiteral("locked_until"), until } },
            Status::Locked);
        response.setHeader(
            QByteArrayLiteral("Retry-After"), QByteArray::number(result.lockedForSeconds));
        break;
    }
    case LoginResult::Status::RateLimited: {
        const qint64 wait = result.rate.retryAfterSeconds;
        response = HttpUtil::json(
            { { QStringLiteral("detail"),
                  QStringLiteral("Rate limit exceeded. Try again in %1 seconds.").arg(wait) },
                { QStringLiteral("retry_after"), wait } },
            Status::TooManyRequests);
        response.setHeader(QByteArrayLiteral("Retry-After"), QByteArray::number(wait));
        break;
    }
    case LoginResult::Status::InvalidCredentials:
        break;
    }
    addRateHeaders(response, result.rate);
    return response;
}

QHttpServerResponse ScheduleManagerDialect::refresh(const QHttpServerRequest &request)
{
    const QString token = QString::fromLatin1(HttpUtil::cookie(request, cookieName));
    if (token.isEmpty())
        return detail(401, QStringLiteral("Refresh token not found"));
    const RefreshResult result = m_auth.refresh(token);
    switch (result.status) {
    case RefreshResult::Status::Ok: {
        QHttpServerResponse response = HttpUtil::json(
            { { QStringLiteral("message"), QStringLiteral("Token refreshed successfully") },
                { QStringLiteral("access_token"), result.grant.accessToken } });
        response.addHeader(QByteArrayLiteral("Set-Cookie"),
            setCookie(result.grant.refreshToken, result.grant.refreshExpiresIn));
        response.addHeader(QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-store"));
        return response;
    }
    case RefreshResult::Status::Injected:
        return detail(result.injectedStatus, QStringLiteral("Injected failure"));
    case RefreshResult::Status::Missing:
    case RefreshResult::Status::Invalid:
    case RefreshResult::Status::Reused:
        break;
    }
    QHttpServerResponse response = detail(401, QStringLiteral("Invalid refresh token"));
    response.addHeader(QByteArrayLiteral("Set-Cookie"), setCookie({}, 0));
    return response;
}

QHttpServerResponse ScheduleManagerDialect::logout(const QHttpServerRequest &request)
{
    const QString token = QString::fromLatin1(HttpUtil::cookie(request, cookieName));
    if (token.isEmpty()) {
        // The seed's logout sends only the bearer; without the cookie there is nothing to
        // revoke, but a valid bearer still makes it a successful sign-out.
        const BearerResult bearer = m_auth.authenticate(HttpUtil::bearerToken(request));
        if (bearer.status != BearerResult::Status::Ok)
            return unauthorized(bearer);
    } else {
        m_auth.logout(token);
    }
    QHttpServerResponse response = HttpUtil::json(
        { { QStringLiteral("message"), QStringLiteral("Successfully logged out") } });
    response.addHeader(QByteArrayLiteral("Set-Cookie"), setCookie({}, 0));
    return response;
}

QHttpServerResponse ScheduleManagerDialect::changePassword(
    const QHttpServerRequest &request, const UserRecord &user)
{
    const auto body = HttpUtil::jsonObject(request.body());
    QString current, next;
    if (!body || !HttpUtil::stringField(*body, "current_password", &current)
        || !HttpUtil::stringField(*body, "new_password", &next))
        return unprocessable(
            { QStringLiteral("current_password"), QStringLiteral("new_password") });
    const ChangePasswordResult result = m_auth.changePassword(user, current, next);
    switch (result.status) {
    case ChangePasswordResult::Status::Ok:
        return HttpUtil::json(
            { { QStringLiteral("message"), QStringLiteral("Password changed successfully") } });
    case ChangePasswordResult::Status::WrongPassword:
        return detail(400, QStringLiteral("Current password is incorrect"));
    case ChangePasswordResult::Status::WeakPassword:
        return passwordPolicy(result.requirements);
    case ChangePasswordResult::Status::Failed:
        break;
    }
    return detail(500, QStringLiteral("Internal Server Error"));
}

QHttpServerResponse ScheduleManagerDialect::me(const QHttpServerRequest &, const UserRecord &user)
{
    const QString role = roleOf(user);
    return HttpUtil::json(
        { { QStringLiteral("id"), user.id }, { QStringLiteral("email"), user.email },
            { QStringLiteral("name"),
                QStringList({ user.firstName, user.lastName }).join(QLatin1Char(' ')).trimmed() },
            { QStringLiteral("role"), role },
            { QStringLiteral("permissions"), QJsonArray::fromStringList(permissionsOf(role)) } });
}

QHttpServerResponse ScheduleManagerDialect::employees(
    const QHttpServerRequest &, const UserRecord &user)
{
    // employees:read for managers; employees:read_own for everyone else.
    const bool all = roleOf(user) == QLatin1String("manager");
    QJsonArray list;
    const QList<UserRecord> records = all ? m_auth.database().users() : QList<UserRecord> { user };
    for (const UserRecord &u : records) {
        list.append(
            QJsonObject { { QStringLiteral("id"), u.id }, { QStringLiteral("email"), u.email },
                { QStringLiteral("name"),
                    QStringList({ u.firstName, u.lastName }).join(QLatin1Char(' ')).trimmed() },
                { QStringLiteral("role"), roleOf(u) } });
    }
    return HttpUtil::json(
        { { QStringLiteral("employees"), list }, { QStringLiteral("total"), list.size() } });
}

QHttpServerResponse ScheduleManagerDialect::echoRoute(
    const QHttpServerRequest &request, const UserRecord &)
{
    return echo(request);
}

QHttpServerResponse ScheduleManagerDialect::ping(const QHttpServerRequest &, const UserRecord &)
{
    return HttpUtil::json({ { QStringLiteral("ok"), true } });
}
