#include "hotelreviewsdialect.h"

#include "httputil.h"
#include "latchkeydialect.h"
#include "metrics.h"

#include <QJsonArray>

using HttpUtil::Status;

namespace {
const QByteArray apiKeyHeader = QByteArrayLiteral("X-API-Key");
const QString apiKeyPrefix = QStringLiteral("hr_");

QHttpServerResponse ok(const QString &message, const QJsonObject &data, int status = 200)
{
    QJsonObject body { { QStringLiteral("message"), message } };
    if (!data.isEmpty())
        body.insert(QStringLiteral("data"), data);
    return HttpUtil::json(body, static_cast<Status>(status));
}

QHttpServerResponse fail(
    int status, const QString &message, const QString &code, const QJsonObject &data = {})
{
    QJsonObject body { { QStringLiteral("message"), message }, { QStringLiteral("error"), code } };
    if (!data.isEmpty())
        body.insert(QStringLiteral("data"), data);
    return HttpUtil::json(body, static_cast<Status>(status));
}

QHttpServerResponse badRequest(const QString &message)
{
    return fail(400, message, QStringLiteral("invalid_request"));
}

QHttpServerResponse weakPassword(const QStringList &requirements)
{
    return fail(400, QStringLiteral("Password does not meet requirements"),
        QStringLiteral("weak_password"),
        { { QStringLiteral("requirements"), QJsonArray::fromStringList(requirements) } });
}

QHttpServerResponse forbidden()
{
    return fail(403, QStringLiteral("insufficient permissions"), QStringLiteral("forbidden"));
}

QString usernameOf(const UserRecord &user)
{
    return user.username.isEmpty() ? user.email.section(QLatin1Char('@'), 0, 0) : user.username;
}

QJsonObject userJson(const UserRecord &user)
{
    return { { QStringLiteral("id"), user.id }, { QStringLiteral("username"), usernameOf(user) },
        { QStringLiteral("email"), user.email }, { QStringLiteral("first_name"), user.firstName },
        { QStringLiteral("last_name"), user.lastName },
        { QStringLiteral("roles"), QJsonArray { HotelReviewsDialect::roleOf(user) } } };
}

QJsonValue timeJson(qint64 ms)
{
    if (ms == 0)
        return QJsonValue::Null;
    return RoutedDialect::isoUtc(QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC));
}

QJsonObject apiKeyJson(const ApiKeyRecord &key)
{
    return { { QStringLiteral("id"), key.id }, { QStringLiteral("name"), key.name },
        { QStringLiteral("key_prefix"), key.prefix },
        { QStringLiteral("scopes"), QJsonArray::fromStringList(key.scopes) },
        { QStringLiteral("created_at"), timeJson(key.createdAtMs) },
        { QStringLiteral("expires_at"), timeJson(key.expiresAtMs) },
        { QStringLiteral("last_used_at"), timeJson(key.lastUsedAtMs) } };
}

bool isAdmin(const UserRecord &user)
{
    return HotelReviewsDialect::roleOf(user) == QLatin1String("admin");
}

bool parseId(const QString &text, qint64 *id)
{
    bool ok = false;
    *id = text.toLongLong(&ok);
    return ok && *id > 0;
}
} // namespace

HotelReviewsDialect::HotelReviewsDialect(AuthService &auth, Metrics &metrics)
    : RoutedDialect(auth, metrics)
{
    using D = HotelReviewsDialect;
    publicRoute(Method::Post, QStringLiteral("/api/v1/auth/register"), &D::registerUser);
    publicRoute(Method::Post, QStringLiteral("/api/v1/auth/login"), &D::login);
    publicRoute(Method::Post, QStringLiteral("/api/v1/auth/refresh"), &D::refresh);
    publicRoute(Method::Post, QStringLiteral("/api/v1/auth/logout"), &D::logout);
    userRoute(Method::Get, QStringLiteral("/api/v1/user/profile"), &D::getProfile);
    userRoute(Method::Put, QStringLiteral("/api/v1/user/profile"), &D::putProfile);
    userRoute(Method::Post, QStringLiteral("/api/v1/user/change-password"), &D::changePassword);
    userRoute(Method::Post, QStringLiteral("/api/v1/api-keys"), &D::createApiKey);
    userRoute(Method::Get, QStringLiteral("/api/v1/api-keys"), &D::listApiKeys);
    userRoute(Method::Delete, QStringLiteral("/api/v1/api-keys/{}"), &D::deleteApiKey);
    publicRoute(Method::Get, QStringLiteral("/api/v1/service/status"), &D::serviceStatus);
    userRoute(Method::Get, QStringLiteral("/api/v1/admin/users"), &D::adminUsers);
    userRoute(Method::Get, QStringLiteral("/api/v1/admin/users/{}"), &D::adminUser);
    userRoute(Method::Post, QStringLiteral("/api/v1/admin/users/{}/roles"), &D::adminAssignRole);
    userRoute(Method::Get, QStringLiteral("/api/v1/bookings"), &D::listBookings);
    userRoute(Method::Post, QStringLiteral("/api/v1/bookings"), &D::createBooking);
    userRoute(Method::Post, QStringLiteral("/api/v1/echo"), &D::echoRoute);
    userRoute(Method::Get, QStringLiteral("/api/v1/ping"), &D::ping);
}

QString HotelReviewsDialect::roleOf(const UserRecord &user)
{
    return user.roles.contains(QLatin1String("manager")) ? QStringLiteral("admin")
                                                         : QStringLiteral("user");
}

QStringList HotelReviewsDialect::permissionsOf(const QString &role)
{
    QStringList permissions { QStringLiteral("reviews:read"), QStringLiteral("reviews:write"),
        QStringLiteral("hotels:read"), QStringLiteral("bookings:read"),
        QStringLiteral("bookings:write"), QStringLiteral("profile:read"),
        QStringLiteral("profile:write"), QStringLiteral("api_keys:manage") };
    if (role == QLatin1String("admin"))
        permissions << QStringLiteral("users:read") << QStringLiteral("users:write")
                    << QStringLiteral("roles:assign");
    return permissions;
}

QJsonObject HotelReviewsDialect::accessClaims(const UserRecord &user) const
{
    const QString role = roleOf(user);
    return { { QStringLiteral("roles"), QJsonArray { role } },
        { QStringLiteral("permissions"), QJsonArray::fromStringList(permissionsOf(role)) } };
}

QHttpServerResponse HotelReviewsDialect::unauthorized(const BearerResult &bearer)
{
    m_metrics.countUnauthorized();
    QHttpServerResponse response = fail(401,
        bearer.status == BearerResult::Status::Invalid ? QStringLiteral("invalid or expired token")
                                                       : QStringLiteral("authentication required"),
        QStringLiteral("unauthorized"));
    response.setHeader(QByteArrayLiteral("WWW-Authenticate"),
        bearerChallenge(QByteArrayLiteral("hotel-reviews"), bearer));
    return response;
}

QHttpServerResponse HotelReviewsDialect::methodNotAllowed()
{
    return fail(405, QStringLiteral("method not allowed"), QStringLiteral("method_not_allowed"));
}

QHttpServerResponse HotelReviewsDialect::tokenResponse(
    const QString &message, const TokenGrant &grant, bool withUser)
{
    QJsonObject data {
        { QStringLiteral("access_token"), grant.accessToken },
        { QStringLiteral("refresh_token"), grant.refreshToken },
        { QStringLiteral("expires_in"), grant.expiresIn },
        { QStringLiteral("token_type"), QStringLiteral("Bearer") },
    };
    if (withUser)
        data.insert(QStringLiteral("user"), userJson(grant.user));
    QHttpServerResponse response = ok(message, data);
    response.addHeader(QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-store"));
    return response;
}

QHttpServerResponse HotelReviewsDialect::registerUser(const QHttpServerRequest &request)
{
    const auto body = HttpUtil::jsonObject(request.body());
    RegisterRequest in;
    in.namesOptional = true;
    if (!body || !HttpUtil::stringField(*body, "email", &in.email)
        || !HttpUtil::stringField(*body, "password", &in.password))
        return badRequest(QStringLiteral("email and password are required"));
    if (!HttpUtil::optionalString(*body, "username", &in.username)
        || !HttpUtil::optionalString(*body, "first_name", &in.firstName)
        || !HttpUtil::optionalString(*body, "last_name", &in.lastName))
        return badRequest(QStringLiteral("username, first_name and last_name must be strings"));
    if (in.username.trimmed().size() > 50)
        return badRequest(QStringLiteral("username must be at most 50 characters"));
    const RegisterResult result = m_auth.registerUser(in);
    switch (result.status) {
    case RegisterResult::Status::Created:
        return ok(QStringLiteral("user registered successfully"),
            { { QStringLiteral("user"), userJson(result.user) } }, 201);
    case RegisterResult::Status::EmailTaken:
        return fail(
            409, QStringLiteral("user with this email already exists"), QStringLiteral("conflict"));
    case RegisterResult::Status::WeakPassword:
        return weakPassword(result.requirements);
    case RegisterResult::Status::Invalid:
        return badRequest(result.message);
    case RegisterResult::Status::Failed:
        break;
    }
    return fail(500, QStringLiteral("registration failed"), QStringLiteral("internal_error"));
}

QHttpServerResponse HotelReviewsDialect::login(const QHttpServerRequest &request)
{
    const auto body = HttpUtil::jsonObject(request.body());
    QString email, password;
    if (!body || !HttpUtil::stringField(*body, "email", &email)
        || !HttpUtil::stringField(*body, "password", &password))
        return badRequest(QStringLiteral("email and password are required"));
    const LoginResult result = m_auth.login(email, password, clientAddress(request));
    switch (result.status) {
    case LoginResult::Status::Ok:
        return tokenResponse(QStringLiteral("login successful"), result.grant, true);
    case LoginResult::Status::Locked: {
        const QString until = isoUtc(result.lockedUntil);
        QHttpServerResponse response
            = fail(423, QStringLiteral("account is locked until %1").arg(until),
                QStringLiteral("account_locked"), { { QStringLiteral("locked_until"), until } });
        response.setHeader(
            QByteArrayLiteral("Retry-After"), QByteArray::number(result.lockedForSeconds));
        return response;
    }
    case LoginResult::Status::RateLimited: {
        const qint64 wait = result.rate.retryAfterSeconds;
        QHttpServerResponse response = fail(429,
            QStringLiteral("too many login attempts, try again in %1 seconds").arg(wait),
            QStringLiteral("rate_limited"), { { QStringLiteral("retry_after"), wait } });
        response.setHeader(QByteArrayLiteral("Retry-After"), QByteArray::number(wait));
        return response;
    }
    case LoginResult::Status::InvalidCredentials:
        break;
    }
    return fail(401, QStringLiteral("invalid credentials"), QStringLiteral("unauthorized"));
}

QHttpServerResponse HotelReviewsDialect::refresh(const QHttpServerRequest &request)
{
    const auto body = HttpUtil::jsonObject(request.body(), true);
    if (!body)
        return badRequest(QStringLiteral("request body must be a JSON object"));
    const QString token = body->value(QLatin1String("refresh_token")).toString();
    if (token.isEmpty())
        return fail(
            401, QStringLiteral("refresh token is required"), QStringLiteral("unauthorized"));
    const RefreshResult result = m_auth.refresh(token);
    switch (result.status) {
    case RefreshResult::Status::Ok:
        return tokenResponse(QStringLiteral("token refreshed successfully"), result.grant, false);
    case RefreshResult::Status::Injected:
        return fail(
            result.injectedStatus, QStringLiteral("Injected failure"), QStringLiteral("injected"));
    case RefreshResult::Status::Missing:
    case RefreshResult::Status::Invalid:
    case RefreshResult::Status::Reused:
        break;
    }
    return fail(
        401, QStringLiteral("invalid or expired refresh token"), QStringLiteral("unauthorized"));
}

QHttpServerResponse HotelReviewsDialect::logout(const QHttpServerRequest &request)
{
    const auto body = HttpUtil::jsonObject(request.body(), true);
    if (!body)
        return badRequest(QStringLiteral("request body must be a JSON object"));
    const QString token = body->value(QLatin1String("refresh_token")).toString();
    if (token.isEmpty()) {
        const BearerResult bearer = m_auth.authenticate(HttpUtil::bearerToken(request));
        if (bearer.status != BearerResult::Status::Ok)
            return unauthorized(bearer);
    } else {
        m_auth.logout(token);
    }
    return ok(QStringLiteral("logout successful"), {});
}

QHttpServerResponse HotelReviewsDialect::getProfile(
    const QHttpServerRequest &, const UserRecord &user)
{
    return ok(QStringLiteral("profile retrieved successfully"),
        { { QStringLiteral("user"), userJson(user) } });
}

QHttpServerResponse HotelReviewsDialect::putProfile(
    const QHttpServerRequest &request, const UserRecord &user)
{
    const auto body = HttpUtil::jsonObject(request.body());
    if (!body)
        return badRequest(QStringLiteral("request body must be a JSON object"));
    UserRecord updated = user;
    const struct
    {
        const char *field;
        QString *target;
    } fields[] = { { "first_name", &updated.firstName }, { "last_name", &updated.lastName } };
    for (const auto &f : fields) {
        if (!body->contains(QLatin1String(f.field)))
            continue;
        const QJsonValue value = body->value(QLatin1String(f.field));
        const QString text = value.toString().trimmed();
        if (!value.isString() || text.size() > 100) {
            return badRequest(QStringLiteral("%1 must be a string of at most 100 characters")
                                  .arg(QLatin1String(f.field)));
        }
        *f.target = text;
    }
    if (!m_auth.database().updateUserNames(user.id, updated.firstName, updated.lastName))
        return fail(500, QStringLiteral("update failed"), QStringLiteral("internal_error"));
    return ok(QStringLiteral("profile updated successfully"),
        { { QStringLiteral("user"), userJson(updated) } });
}

QHttpServerResponse HotelReviewsDialect::changePassword(
    const QHttpServerRequest &request, const UserRecord &user)
{
    const auto body = HttpUtil::jsonObject(request.body());
    QString current, next;
    if (!body || !HttpUtil::stringField(*body, "old_password", &current)
        || !HttpUtil::stringField(*body, "new_password", &next))
        return badRequest(QStringLiteral("old_password and new_password are required"));
    const ChangePasswordResult result = m_auth.changePassword(user, current, next);
    switch (result.status) {
    case ChangePasswordResult::Status::Ok:
        return ok(QStringLiteral("password changed successfully"), {});
    case ChangePasswordResult::Status::WrongPassword:
        return fail(400, QStringLiteral("current password is incorrect"),
            QStringLiteral("invalid_password"));
    case ChangePasswordResult::Status::WeakPassword:
        return weakPassword(result.requirements);
    case ChangePasswordResult::Status::Failed:
        break;
    }
    return fail(500, QStringLiteral("update failed"), QStringLiteral("internal_error"));
}

QHttpServerResponse HotelReviewsDialect::createApiKey(
    const QHttpServerRequest &request, const UserRecord &user)
{
    const auto body = HttpUtil::jsonObject(request.body());
    QString name;
    if (!body || !HttpUtil::stringField(*body, "name", &name) || name.trimmed().isEmpty()
        || name.size() > 100)
        return badRequest(QStringLiteral("name is required (1 to 100 characters)"));
    QStringList scopes;
    const QJsonValue scopeValue = body->value(QLatin1String("scopes"));
    if (!scopeValue.isUndefined() && !scopeValue.isNull()) {
        const QJsonArray array = scopeValue.toArray();
        if (!scopeValue.isArray() || array.size() > 50)
            return badRequest(QStringLiteral("scopes must be an array of strings"));
        for (const QJsonValue &v : array) {
            const QString scope = v.toString();
            if (!v.isString() || scope.isEmpty() || scope.size() > 100
                || scope.contains(QLatin1Char(' ')))
                return badRequest(QStringLiteral("scopes must be an array of strings"));
            scopes << scope;
        }
    }
    qint64 expiresAtMs = 0;
    QString expires;
    if (!HttpUtil::optionalString(*body, "expires_at", &expires))
        return badRequest(QStringLiteral("expires_at must be an RFC 3339 time"));
    if (!expires.isEmpty()) {
        const QDateTime time = QDateTime::fromString(expires, Qt::ISODate);
        if (!time.isValid())
            return badRequest(QStringLiteral("expires_at must be an RFC 3339 time"));
        expiresAtMs = time.toMSecsSinceEpoch();
        if (expiresAtMs <= m_auth.nowMs())
            return badRequest(QStringLiteral("expires_at must be in the future"));
    }
    const NewApiKey created
        = m_auth.createApiKey(user.id, name.trimmed(), scopes, expiresAtMs, apiKeyPrefix);
    if (created.key.isEmpty())
        return fail(
            500, QStringLiteral("could not create the API key"), QStringLiteral("internal_error"));
    QHttpServerResponse response = ok(QStringLiteral("API key created successfully"),
        { { QStringLiteral("api_key"), apiKeyJson(created.record) },
            { QStringLiteral("key"), created.key } },
        201);
    response.addHeader(QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-store"));
    return response;
}

QHttpServerResponse HotelReviewsDialect::listApiKeys(
    const QHttpServerRequest &, const UserRecord &user)
{
    QJsonArray keys;
    const QList<ApiKeyRecord> records = m_auth.database().apiKeysOfUser(user.id);
    for (const ApiKeyRecord &key : records)
        keys.append(apiKeyJson(key));
    return ok(QStringLiteral("API keys retrieved successfully"),
        { { QStringLiteral("api_keys"), keys } });
}

QHttpServerResponse HotelReviewsDialect::deleteApiKey(
    const QHttpServerRequest &, const UserRecord &user, const Args &args)
{
    qint64 id = 0;
    if (!parseId(args.value(0), &id) || !m_auth.database().deleteApiKey(user.id, id))
        return fail(404, QStringLiteral("API key not found"), QStringLiteral("not_found"));
    return ok(QStringLiteral("API key deleted successfully"), {});
}

QHttpServerResponse HotelReviewsDialect::serviceStatus(const QHttpServerRequest &request)
{
    const QString key = QString::fromLatin1(request.value(apiKeyHeader).trimmed());
    const auto found = m_auth.authenticateApiKey(key);
    if (!found) {
        m_metrics.countUnauthorized();
        QHttpServerResponse response = fail(401,
            key.isEmpty() ? QStringLiteral("API key required") : QStringLiteral("invalid API key"),
            QStringLiteral("unauthorized"));
        response.setHeader(QByteArrayLiteral("WWW-Authenticate"),
            QByteArrayLiteral("ApiKey realm=\"hotel-reviews\", header=\"X-API-Key\""));
        return response;
    }
    return ok(QStringLiteral("service is healthy"),
        { { QStringLiteral("status"), QStringLiteral("ok") },
            { QStringLiteral("service"), QStringLiteral("hotel-reviews") },
            { QStringLiteral("api_key"),
                QJsonObject { { QStringLiteral("id"), found->first.id },
                    { QStringLiteral("name"), found->first.name },
                    { QStringLiteral("scopes"), QJsonArray::fromStringList(found->first.scopes) },
                    { QStringLiteral("user_id"), found->second.id } } } });
}

QHttpServerResponse HotelReviewsDialect::adminUsers(
    const QHttpServerRequest &, const UserRecord &user)
{
    if (!isAdmin(user))
        return forbidden();
    QJsonArray users;
    const QList<UserRecord> records = m_auth.database().users();
    for (const UserRecord &u : records)
        users.append(userJson(u));
    return ok(QStringLiteral("users retrieved successfully"),
        { { QStringLiteral("users"), users }, { QStringLiteral("total"), users.size() } });
}

QHttpServerResponse HotelReviewsDialect::adminUser(
    const QHttpServerRequest &, const UserRecord &user, const Args &args)
{
    if (!isAdmin(user))
        return forbidden();
    qint64 id = 0;
    const auto found = parseId(args.value(0), &id) ? m_auth.database().userById(id) : std::nullopt;
    if (!found)
        return fail(404, QStringLiteral("user not found"), QStringLiteral("not_found"));
    return ok(QStringLiteral("user retrieved successfully"),
        { { QStringLiteral("user"), userJson(*found) } });
}

QHttpServerResponse HotelReviewsDialect::adminAssignRole(
    const QHttpServerRequest &request, const UserRecord &user, const Args &args)
{
    if (!isAdmin(user))
        return forbidden();
    qint64 id = 0;
    const auto target = parseId(args.value(0), &id) ? m_auth.database().userById(id) : std::nullopt;
    if (!target)
        return fail(404, QStringLiteral("user not found"), QStringLiteral("not_found"));
    const auto body = HttpUtil::jsonObject(request.body());
    QString role;
    if (!body || !HttpUtil::stringField(*body, "role_id", &role)
        || (role != QLatin1String("admin") && role != QLatin1String("user")))
        return badRequest(QStringLiteral("role_id must be \"admin\" or \"user\""));
    UserRecord updated = *target;
    updated.roles
        = { role == QLatin1String("admin") ? QStringLiteral("manager") : QStringLiteral("guest") };
    if (!m_auth.database().setUserRoles(updated.id, updated.roles))
        return fail(500, QStringLiteral("update failed"), QStringLiteral("internal_error"));
    return ok(QStringLiteral("role assigned successfully"),
        { { QStringLiteral("user"), userJson(updated) } });
}

QHttpServerResponse HotelReviewsDialect::listBookings(
    const QHttpServerRequest &, const UserRecord &user)
{
    QJsonArray bookings;
    const QList<BookingRecord> records = m_auth.database().bookingsForUser(user.id);
    for (const BookingRecord &b : records)
        bookings.append(LatchkeyDialect::bookingJson(b));
    return ok(QStringLiteral("bookings retrieved successfully"),
        { { QStringLiteral("bookings"), bookings } });
}

QHttpServerResponse HotelReviewsDialect::createBooking(
    const QHttpServerRequest &request, const UserRecord &user)
{
    const auto body = HttpUtil::jsonObject(request.body());
    if (!body)
        return badRequest(QStringLiteral("request body must be a JSON object"));
    BookingRecord booking;
    booking.userId = user.id;
    const QString error = LatchkeyDialect::parseBooking(*body, &booking);
    if (!error.isEmpty())
        return badRequest(error);
    booking.id = m_auth.database().insertBooking(booking);
    if (booking.id == 0)
        return fail(500, QStringLiteral("booking failed"), QStringLiteral("internal_error"));
    return ok(QStringLiteral("booking created successfully"),
        { { QStringLiteral("booking"), LatchkeyDialect::bookingJson(booking) } }, 201);
}

QHttpServerResponse HotelReviewsDialect::echoRoute(
    const QHttpServerRequest &request, const UserRecord &)
{
    return echo(request);
}

QHttpServerResponse HotelReviewsDialect::ping(const QHttpServerRequest &, const UserRecord &)
{
    return ok(QStringLiteral("pong"), { { QStringLiteral("ok"), true } });
}
