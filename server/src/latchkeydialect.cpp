#include "latchkeydialect.h"

#include "avatar.h"
#include "httputil.h"
#include "metrics.h"
#include "passwordpolicy.h"

#include <QJsonArray>

using HttpUtil::Status;

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

LatchkeyDialect::LatchkeyDialect(AuthService &auth, Metrics &metrics, Flavor flavor)
    : RoutedDialect(auth, metrics)
    , m_flavor(flavor)
{
    using D = LatchkeyDialect;
    if (flavor == Flavor::Native) {
        publicRoute(Method::Post, QStringLiteral("/api/auth/register"), &D::registerUser);
        publicRoute(Method::Post, QStringLiteral("/api/auth/login"), &D::login);
        publicRoute(Method::Post, QStringLiteral("/api/auth/refresh"), &D::refresh);
        publicRoute(Method::Post, QStringLiteral("/api/auth/logout"), &D::logout);
        publicRoute(Method::Get, QStringLiteral("/api/auth/password-policy"), &D::passwordPolicy);
    }
    userRoute(Method::Get, QStringLiteral("/api/user/profile"), &D::getProfile);
    userRoute(Method::Put, QStringLiteral("/api/user/profile"), &D::putProfile);
    userRoute(Method::Get, QStringLiteral("/api/user/avatar"), &D::avatar);
    userRoute(Method::Post, QStringLiteral("/api/user/change-password"), &D::changePassword);
    userRoute(Method::Get, QStringLiteral("/api/bookings"), &D::listBookings);
    userRoute(Method::Post, QStringLiteral("/api/bookings"), &D::createBooking);
    userRoute(Method::Get, QStringLiteral("/api/admin/users"), &D::adminUsers);
    userRoute(Method::Post, QStringLiteral("/api/echo"), &D::echo);
    userRoute(Method::Get, QStringLiteral("/api/ping"), &D::ping);
}

QString LatchkeyDialect::name() const
{
    return m_flavor == Flavor::Native ? QStringLiteral("latchkey") : QStringLiteral("oauth2");
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
    response.setHeader(QByteArrayLiteral("WWW-Authenticate"),
        bearerChallenge(QByteArrayLiteral("latchkey"), bearer));
    return response;
}

QHttpServerResponse LatchkeyDialect::passwordPolicyError(const QStringList &requirements)
{
    const QString text = QStringLiteral("Password does not meet requirements");
    return HttpUtil::json(
        { { QStringLiteral("error"), text }, { QStringLiteral("message"), text },
            { QStringLiteral("requirements"), QJsonArray::fromStringList(requirements) } },
        Status::BadRequest);
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
    in.namesOptional = true;
    if (!stringField(*body, "email", &in.email) || !stringField(*body, "password", &in.password))
        return HttpUtil::message(
            Status::BadRequest, QStringLiteral("email and password are required."));
    if (!HttpUtil::optionalString(*body, "firstName", &in.firstName)
        || !HttpUtil::optionalString(*body, "lastName", &in.lastName))
        return HttpUtil::message(
            Status::BadRequest, QStringLiteral("firstName and lastName must be strings."));
    const RegisterResult result = m_auth.registerUser(in);
    switch (result.status) {
    case RegisterResult::Status::Created:
        return HttpUtil::json(
            { { QStringLiteral("user"), userJson(result.user) } }, Status::Created);
    case RegisterResult::Status::EmailTaken:
        return HttpUtil::message(Status::Conflict, QStringLiteral("Email already registered"));
    case RegisterResult::Status::WeakPassword:
        return passwordPolicyError(result.requirements);
    case RegisterResult::Status::Invalid:
        return HttpUtil::message(Status::BadRequest, result.message);
    case RegisterResult::Status::Failed:
        break;
    }
    return HttpUtil::message(Status::InternalServerError, QStringLiteral("Registration failed."));
}

QHttpServerResponse LatchkeyDialect::passwordPolicy(const QHttpServerRequest &)
{
    // The rules a new password must meet, before anyone breaks them (a registration form).
    return HttpUtil::json({ { QStringLiteral("requirements"),
        QJsonArray::fromStringList(PasswordPolicy::allRequirements()) } });
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
    const LoginResult result = m_auth.login(email, password, clientAddress(request));
    switch (result.status) {
    case LoginResult::Status::Ok:
        return grantResponse(result.grant);
    case LoginResult::Status::Locked: {
        const QString until = isoUtc(result.lockedUntil);
        QHttpServerResponse response = HttpUtil::json(
            { { QStringLiteral("error"), QStringLiteral("Account is locked") },
                { QStringLiteral("message"), QStringLiteral("Account locked until %1").arg(until) },
                { QStringLiteral("locked_until"), until } },
            Status::Locked);
        response.setHeader(
            QByteArrayLiteral("Retry-After"), QByteArray::number(result.lockedForSeconds));
        return response;
    }
    case LoginResult::Status::RateLimited: {
        const qint64 wait = result.rate.retryAfterSeconds;
        QHttpServerResponse response = HttpUtil::json(
            { { QStringLiteral("message"),
                  QStringLiteral("Too many sign-in attempts. Try again in %1 seconds.").arg(wait) },
                { QStringLiteral("retry_after"), wait } },
            Status::TooManyRequests);
        response.setHeader(QByteArrayLiteral("Retry-After"), QByteArray::number(wait));
        return response;
    }
    case LoginResult::Status::InvalidCredentials:
        break;
    }
    if (result.attemptsLeft >= 0) {
        return HttpUtil::json(
            { { QStringLiteral("message"), QStringLiteral("Invalid Credentials") },
                { QStringLiteral("attempts_left"), result.attemptsLeft } },
            Status::Unauthorized);
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
    case RefreshResult::Status::Injected: {
        QHttpServerResponse response = HttpUtil::message(
            static_cast<Status>(result.injectedStatus), QStringLiteral("Injected failure"));
        if (result.injectedRetryAfter > 0)
            response.setHeader(
                QByteArrayLiteral("Retry-After"), QByteArray::number(result.injectedRetryAfter));
        return response;
    }
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

QHttpServerResponse LatchkeyDialect::avatar(const QHttpServerRequest &, const UserRecord &user)
{
    QHttpServerResponse response(QByteArrayLiteral("image/png"), Avatar::png(user.id));
    response.setHeader(QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("private, no-cache"));
    return response;
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

QHttpServerResponse LatchkeyDialect::changePassword(
    const QHttpServerRequest &request, const UserRecord &user)
{
    const auto body = HttpUtil::jsonObject(request.body());
    if (!body)
        return HttpUtil::message(Status::BadRequest, malformedJson);
    QString current, next;
    if (!stringField(*body, "current_password", &current)
        || !stringField(*body, "new_password", &next))
        return HttpUtil::message(
            Status::BadRequest, QStringLiteral("current_password and new_password are required."));
    const ChangePasswordResult result = m_auth.changePassword(user, current, next);
    switch (result.status) {
    case ChangePasswordResult::Status::Ok:
        return HttpUtil::message(Status::Ok, QStringLiteral("Password changed."));
    case ChangePasswordResult::Status::WrongPassword:
        return HttpUtil::message(
            Status::BadRequest, QStringLiteral("Current password is incorrect."));
    case ChangePasswordResult::Status::WeakPassword:
        return passwordPolicyError(result.requirements);
    case ChangePasswordResult::Status::Failed:
        break;
    }
    return HttpUtil::message(Status::InternalServerError, QStringLiteral("Update failed."));
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
    const QString error = parseBooking(*body, &booking);
    if (!error.isEmpty())
        return HttpUtil::message(Status::BadRequest, error);
    booking.id = m_auth.database().insertBooking(booking);
    if (booking.id == 0)
        return HttpUtil::message(Status::InternalServerError, QStringLiteral("Booking failed."));
    return HttpUtil::json({ { QStringLiteral("booking"), bookingJson(booking) } }, Status::Created);
}

QString LatchkeyDialect::parseBooking(const QJsonObject &body, BookingRecord *booking)
{
    booking->hotel = body.value(QLatin1String("hotel")).toString().trimmed();
    booking->checkIn
        = QDate::fromString(body.value(QLatin1String("checkIn")).toString(), Qt::ISODate);
    booking->checkOut
        = QDate::fromString(body.value(QLatin1String("checkOut")).toString(), Qt::ISODate);
    const QJsonValue guests = body.value(QLatin1String("guests"));
    const double g = guests.toDouble(-1);
    if (booking->hotel.isEmpty() || booking->hotel.size() > 200)
        return QStringLiteral("hotel must be a string of 1 to 200 characters.");
    if (!booking->checkIn.isValid() || !booking->checkOut.isValid()
        || booking->checkOut <= booking->checkIn)
        return QStringLiteral("checkIn and checkOut must be YYYY-MM-DD dates, checkOut after "
                              "checkIn.");
    if (!guests.isDouble() || g != double(int(g)) || g < 1 || g > 20)
        return QStringLiteral("guests must be an integer from 1 to 20.");
    booking->guests = int(g);
    return {};
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
    return RoutedDialect::echo(request);
}

QHttpServerResponse LatchkeyDialect::ping(const QHttpServerRequest &, const UserRecord &)
{
    return HttpUtil::json({ { QStringLiteral("ok"), true } });
}
