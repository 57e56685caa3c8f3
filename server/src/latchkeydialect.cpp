#include "latchkeydialect.h"

#include "httputil.h"
#include "metrics.h"

#include <QJsonArray>

using HttpUtil::Status;
using Method = QHttpServerRequest::Method;

namespace {
const QByteArray refreshCookieName = QByteArrayLiteral("refresh_token");
const QString malformedJson = QStringLiteral("Request body must be a JSON object.");
const QString invalidRefresh = QStringLiteral("Invalid or expired refresh token.");

QByteArray refreshCookie(const QString &token, qint64 maxAge)
{
    return refreshCookieName + '=' + token.toLatin1()
        + "; HttpOnly; SameSite=Strict; Path=/api/auth; Max-Age=" + QByteArray::number(maxAge);
}

// The refresh token from the JSON body field `refresh_token`, else from the cookie.
QString refreshTokenFrom(const QHttpServerRequest &request, const QJsonObject &body)
{
    const QString fromBody = body.value(QLatin1String("refresh_token")).toString();
    if (!fromBody.isEmpty())
        return fromBody;
    return QString::fromLatin1(HttpUtil::cookie(request, refreshCookieName));
}

// A required string field that must be present and non-empty.
bool stringField(const QJsonObject &body, const char *name, QString *out)
{
    const QJsonValue value = body.value(QLatin1String(name));
    if (!value.isString() || value.toString().isEmpty())
        return false;
    *out = value.toString();
    return true;
}
} // namespace

LatchkeyDialect::LatchkeyDialect(AuthService &auth, Metrics &metrics)
    : m_auth(auth)
    , m_metrics(metrics)
{
    m_routes = {
        { Method::Post, QStringLiteral("/api/auth/register"), &LatchkeyDialect::registerUser },
        { Method::Post, QStringLiteral("/api/auth/login"), &LatchkeyDialect::login },
        { Method::Post, QStringLiteral("/api/auth/refresh"), &LatchkeyDialect::refresh },
        { Method::Post, QStringLiteral("/api/auth/logout"), &LatchkeyDialect::logout },
        { Method::Get, QStringLiteral("/api/user/profile"), nullptr, &LatchkeyDialect::getProfile },
        { Method::Put, QStringLiteral("/api/user/profile"), nullptr, &LatchkeyDialect::putProfile },
        { Method::Get, QStringLiteral("/api/bookings"), nullptr, &LatchkeyDialect::listBookings },
        { Method::Post, QStringLiteral("/api/bookings"), nullptr, &LatchkeyDialect::createBooking },
        { Method::Get, QStringLiteral("/api/admin/users"), nullptr, &LatchkeyDialect::adminUsers },
        { Method::Post, QStringLiteral("/api/echo"), nullptr, &LatchkeyDialect::echo },
        { Method::Get, QStringLiteral("/api/ping"), nullptr, &LatchkeyDialect::ping },
    };
}

std::optional<QHttpServerResponse> LatchkeyDialect::handle(const QHttpServerRequest &request)
{
    const QString path = request.url().path();
    QByteArrayList allowed;
    for (const Route &route : std::as_const(m_routes)) {
        if (route.path != path)
            continue;
        if (route.method != request.method()) {
            allowed << HttpUtil::methodName(int(route.method));
            continue;
        }
        if (route.publicHandler)
            return (this->*route.publicHandler)(request);
        const BearerResult bearer = m_auth.authenticate(HttpUtil::bearerToken(request));
        if (bearer.status != BearerResult::Status::Ok)
            return unauthorized(bearer);
        return (this->*route.userHandler)(request, bearer.user);
    }
    if (allowed.isEmpty())
        return std::nullopt;
    QHttpServerResponse response
        = HttpUtil::message(Status::MethodNotAllowed, QStringLiteral("Method not allowed."));
    response.setHeader(QByteArrayLiteral("Allow"), allowed.join(", "));
    return response;
}

QJsonObject LatchkeyDialect::userJson(const UserRecord &user)
{
    return { { QStringLiteral("id"), user.id }, { QStringLiteral("email"), user.email },
        { QStringLiteral("firstName"), user.firstName },
        { QStringLiteral("lastName"), user.lastName },
        { QStringLiteral("roles"), QJsonArray::fromStringList(user.roles) } };
}

QJsonObject LatchkeyDialect::bookingJson(const BookingRecord &booking)
{
    return { { QStringLiteral("id"), booking.id }, { QStringLiteral("hotel"), booking.hotel },
        { QStringLiteral("checkIn"), booking.checkIn.toString(Qt::ISODate) },
        { QStringLiteral("checkOut"), booking.checkOut.toString(Qt::ISODate) },
        { QStringLiteral("guests"), booking.guests } };
}

QHttpServerResponse LatchkeyDialect::unauthorized(const BearerResult &bearer)
{
    m_metrics.countUnauthorized();
    QHttpServerResponse response = HttpUtil::message(
        Status::Unauthorized, QStringLiteral("Unauthorized: authentication is required."));
    QByteArray challenge = QByteArrayLiteral("Bearer realm=\"latchkey\"");
    if (bearer.status == BearerResult::Status::Invalid) {
        challenge += ", error=\"invalid_token\", error_description=\""
            + bearer.errorDescription.toLatin1() + '"';
    }
    response.setHeader(QByteArrayLiteral("WWW-Authenticate"), challenge);
    return response;
}

QHttpServerResponse LatchkeyDialect::grantResponse(const TokenGrant &grant)
{
    QHttpServerResponse response = HttpUtil::json({
        { QStringLiteral("access_token"), grant.accessToken },
        { QStringLiteral("token_type"), QStringLiteral("Bearer") },
        { QStringLiteral("expires_in"), grant.expiresIn },
        { QStringLiteral("refresh_token"), grant.refreshToken },
        { QStringLiteral("user"), userJson(grant.user) },
    });
    response.addHeader(
        QByteArrayLiteral("Set-Cookie"), refreshCookie(grant.refreshToken, grant.refreshExpiresIn));
    response.addHeader(QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-store"));
    return response;
}

QHttpServerResponse LatchkeyDialect::registerUser(const QHttpServerRequest &request)
{
    const auto body = HttpUtil::jsonObject(request.body());
    if (!body)
        return HttpUtil::message(Status::BadRequest, malformedJson);
    RegisterRequest in;
    if (!stringField(*body, "email", &in.email) || !stringField(*body, "password", &in.password)
        || !stringField(*body, "firstName", &in.firstName)
        || !stringField(*body, "lastName", &in.lastName)) {
        return HttpUtil::message(Status::BadRequest,
            QStringLiteral("email, password, firstName and lastName are "
                           "required."));
    }
    const RegisterResult result = m_auth.registerUser(in);
    switch (result.status) {
    case RegisterResult::Status::Created:
        return HttpUtil::json(
            { { QStringLiteral("user"), userJson(result.user) } }, Status::Created);
    case RegisterResult::Status::EmailTaken:
        return HttpUtil::message(Status::Conflict, QStringLiteral("Email already registered"));
    case RegisterResult::Status::WeakPassword: {
        const QString text = QStringLiteral("Password does not meet requirements");
        return HttpUtil::json(
            { { QStringLiteral("error"), text }, { QStringLiteral("message"), text },
                { QStringLiteral("requirements"),
                    QJsonArray::fromStringList(result.requirements) } },
            Status::BadRequest);
    }
    case RegisterResult::Status::Invalid:
        return HttpUtil::message(Status::BadRequest, result.message);
    case RegisterResult::Status::Failed:
        break;
    }
    return HttpUtil::message(Status::InternalServerError, QStringLiteral("Registration failed."));
}

QHttpServerResponse LatchkeyDialect::login(const QHttpServerRequest &request)
{
    const auto body = HttpUtil::jsonObject(request.body());
    if (!body)
        return HttpUtil::message(Status::BadRequest, malformedJson);
    QString email, password;
    if (!stringField(*body, "email", &email) || !stringField(*body, "password", &password))
        return HttpUtil::message(
            Status::BadRequest, QStringLiteral("email and password are required."));
    const LoginResult result = m_auth.login(email, password);
    switch (result.status) {
    case LoginResult::Status::Ok:
        return grantResponse(result.grant);
    case LoginResult::Status::Locked: {
        const QString until = result.lockedUntil.toString(Qt::ISODate);
        QHttpServerResponse response = HttpUtil::json(
            { { QStringLiteral("error"), QStringLiteral("Account is locked") },
                { QStringLiteral("message"), QStringLiteral("Account locked until %1").arg(until) },
                { QStringLiteral("locked_until"), until } },
            Status::Locked);
        const qint64 wait
            = std::max<qint64>(1, QDateTime::currentDateTimeUtc().secsTo(result.lockedUntil));
        response.setHeader(QByteArrayLiteral("Retry-After"), QByteArray::number(wait));
        return response;
    }
    case LoginResult::Status::InvalidCredentials:
        break;
    }
    return HttpUtil::message(Status::Unauthorized, QStringLiteral("Invalid Credentials"));
}

QHttpServerResponse LatchkeyDialect::refresh(const QHttpServerRequest &request)
{
    const auto body = HttpUtil::jsonObject(request.body(), true);
    if (!body)
        return HttpUtil::message(Status::BadRequest, malformedJson);
    const RefreshResult result = m_auth.refresh(refreshTokenFrom(request, *body));
    switch (result.status) {
    case RefreshResult::Status::Ok:
        return grantResponse(result.grant);
    case RefreshResult::Status::Missing:
        return HttpUtil::message(
            Status::Unauthorized, QStringLiteral("Refresh token is required."));
    case RefreshResult::Status::Injected:
        return HttpUtil::message(
            static_cast<Status>(result.injectedStatus), QStringLiteral("Injected failure"));
    case RefreshResult::Status::Invalid:
    case RefreshResult::Status::Reused:
        break;
    }
    QHttpServerResponse response = HttpUtil::message(Status::Unauthorized, invalidRefresh);
    response.addHeader(QByteArrayLiteral("Set-Cookie"), refreshCookie({}, 0));
    return response;
}

QHttpServerResponse LatchkeyDialect::logout(const QHttpServerRequest &request)
{
    const auto body = HttpUtil::jsonObject(request.body(), true);
    if (!body)
        return HttpUtil::message(Status::BadRequest, malformedJson);
    const QString token = refreshTokenFrom(request, *body);
    if (token.isEmpty()) {
        // No refresh token: a valid bearer still makes it a (no-op) sign-out.
        const BearerResult bearer = m_auth.authenticate(HttpUtil::bearerToken(request));
        if (bearer.status != BearerResult::Status::Ok)
            return unauthorized(bearer);
    } else {
        m_auth.logout(token); // unknown or already revoked: still 204 (idempotent)
    }
    QHttpServerResponse response = HttpUtil::noContent();
    response.addHeader(QByteArrayLiteral("Set-Cookie"), refreshCookie({}, 0));
    return response;
}

QHttpServerResponse LatchkeyDialect::getProfile(const QHttpServerRequest &, const UserRecord &user)
{
    return HttpUtil::json({ { QStringLiteral("user"), userJson(user) } });
}

QHttpServerResponse LatchkeyDialect::putProfile(
    const QHttpServerRequest &request, const UserRecord &user)
{
    const auto body = HttpUtil::jsonObject(request.body());
    if (!body)
        return HttpUtil::message(Status::BadRequest, malformedJson);
    UserRecord updated = user;
    const struct
    {
        const char *field;
        QString *target;
    } fields[] = { { "firstName", &updated.firstName }, { "lastName", &updated.lastName } };
    for (const auto &f : fields) {
        if (!body->contains(QLatin1String(f.field)))
            continue;
        const QJsonValue value = body->value(QLatin1String(f.field));
        const QString text = value.toString().trimmed();
        if (!value.isString() || text.isEmpty() || text.size() > 100) {
            return HttpUtil::message(Status::BadRequest,
                QStringLiteral("%1 must be a string of 1 to 100 characters.")
                    .arg(QLatin1String(f.field)));
        }
        *f.target = text;
    }
    if (!m_auth.database().updateUserNames(user.id, updated.firstName, updated.lastName))
        return HttpUtil::message(Status::InternalServerError, QStringLiteral("Update failed."));
    return HttpUtil::json({ { QStringLiteral("user"), userJson(updated) } });
}

QHttpServerResponse LatchkeyDialect::listBookings(
    const QHttpServerRequest &, const UserRecord &user)
{
    QJsonArray bookings;
    const QList<BookingRecord> records = m_auth.database().bookingsForUser(user.id);
    for (const BookingRecord &b : records)
        bookings.append(bookingJson(b));
    return HttpUtil::json({ { QStringLiteral("bookings"), bookings } });
}

QHttpServerResponse LatchkeyDialect::createBooking(
    const QHttpServerRequest &request, const UserRecord &user)
{
    const auto body = HttpUtil::jsonObject(request.body());
    if (!body)
        return HttpUtil::message(Status::BadRequest, malformedJson);
    BookingRecord booking;
    booking.userId = user.id;
    booking.hotel = body->value(QLatin1String("hotel")).toString().trimmed();
    booking.checkIn
        = QDate::fromString(body->value(QLatin1String("checkIn")).toString(), Qt::ISODate);
    booking.checkOut
        = QDate::fromString(body->value(QLatin1String("checkOut")).toString(), Qt::ISODate);
    const QJsonValue guests = body->value(QLatin1String("guests"));
    const double g = guests.toDouble(-1);
    if (booking.hotel.isEmpty() || booking.hotel.size() > 200)
        return HttpUtil::message(
            Status::BadRequest, QStringLiteral("hotel must be a string of 1 to 200 characters."));
    if (!booking.checkIn.isValid() || !booking.checkOut.isValid()
        || booking.checkOut <= booking.checkIn)
        return HttpUtil::message(Status::BadRequest,
            QStringLiteral("checkIn and checkOut must be YYYY-MM-DD dates, "
                           "checkOut after checkIn."));
    if (!guests.isDouble() || g != double(int(g)) || g < 1 || g > 20)
        return HttpUtil::message(
            Status::BadRequest, QStringLiteral("guests must be an integer from 1 to 20."));
    booking.guests = int(g);
    booking.id = m_auth.database().insertBooking(booking);
    if (booking.id == 0)
        return HttpUtil::message(Status::InternalServerError, QStringLiteral("Booking failed."));
    return HttpUtil::json({ { QStringLiteral("booking"), bookingJson(booking) } }, Status::Created);
}

QHttpServerResponse LatchkeyDialect::adminUsers(const QHttpServerRequest &, const UserRecord &user)
{
    if (!user.roles.contains(QLatin1String("manager")))
        return HttpUtil::message(
            Status::Forbidden, QStringLiteral("Forbidden: insufficient permissions."));
    QJsonArray users;
    const QList<UserRecord> records = m_auth.database().users();
    for (const UserRecord &u : records)
        users.append(userJson(u));
    return HttpUtil::json({ { QStringLiteral("users"), users } });
}

QHttpServerResponse LatchkeyDialect::echo(const QHttpServerRequest &request, const UserRecord &)
{
    QByteArray type = request.value(QByteArrayLiteral("Content-Type"));
    if (type.isEmpty())
        type = QByteArrayLiteral("application/octet-stream");
    return QHttpServerResponse(type, request.body());
}

QHttpServerResponse LatchkeyDialect::ping(const QHttpServerRequest &, const UserRecord &)
{
    return HttpUtil::json({ { QStringLiteral("ok"), true } });
}
