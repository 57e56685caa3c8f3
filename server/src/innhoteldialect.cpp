#include "innhoteldialect.h"

#include "httputil.h"
#include "latchkeydialect.h"
#include "metrics.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>

using HttpUtil::Status;

namespace {
const QByteArray cookieName = QByteArrayLiteral("refreshToken");

// FailureResponse of the InnHotel API: {"status": N, "message": "…"} plus extension fields.
QHttpServerResponse failure(int status, const QString &message, QJsonObject extra = {})
{
    extra.insert(QStringLiteral("status"), status);
    extra.insert(QStringLiteral("message"), message);
    return HttpUtil::json(extra, static_cast<Status>(status));
}

// ASP.NET Core's validation ProblemDetails, e.g. for the password rules.
QHttpServerResponse validationProblem(const QString &field, const QStringList &errors)
{
    QHttpServerResponse response(QByteArrayLiteral("application/problem+json"),
        QJsonDocument(
            QJsonObject {
                { QStringLiteral("type"),
                    QStringLiteral("https://tools.ietf.org/html/rfc9110#section-15.5.1") },
                { QStringLiteral("title"),
                    QStringLiteral("One or more validation errors occurred.") },
                { QStringLiteral("status"), 400 },
                { QStringLiteral("errors"),
                    QJsonObject { { field, QJsonArray::fromStringList(errors) } } },
            })
            .toJson(QJsonDocument::Compact),
        Status::BadRequest);
    return response;
}

// As ASP.NET Core writes it: lower-case attributes and an absolute expiry. No `secure`: the
// reference server speaks plain HTTP on loopback.
QByteArray setCookie(const QString &token, qint64 maxAgeSeconds)
{
    const QDateTime expires = maxAgeSeconds > 0
        ? QDateTime::currentDateTimeUtc().addSecs(maxAgeSeconds)
        : QDateTime::fromSecsSinceEpoch(0, Qt::UTC);
    return cookieName + '=' + token.toLatin1() + "; expires="
        + QLocale::c()
              .toString(expires, QStringLiteral("ddd, dd MMM yyyy hh:mm:ss 'GMT'"))
              .toLatin1()
        + "; path=/; samesite=strict; httponly";
}

QJsonObject userJson(const UserRecord &user)
{
    return { { QStringLiteral("id"), user.id }, { QStringLiteral("email"), user.email },
        { QStringLiteral("firstName"), user.firstName },
        { QStringLiteral("lastName"), user.lastName },
        { QStringLiteral("roles"), QJsonArray { InnHotelDialect::roleOf(user) } } };
}
} // namespace

InnHotelDialect::InnHotelDialect(AuthService &auth, Metrics &metrics)
    : RoutedDialect(auth, metrics)
{
    using D = InnHotelDialect;
    publicRoute(Method::Post, QStringLiteral("/api/auth/register"), &D::registerUser);
    publicRoute(Method::Post, QStringLiteral("/api/auth/login"), &D::login);
    publicRoute(Method::Post, QStringLiteral("/api/auth/refresh"), &D::refresh);
    publicRoute(Method::Post, QStringLiteral("/api/auth/logout"), &D::logout);
    userRoute(Method::Post, QStringLiteral("/api/auth/change-password"), &D::changePassword);
    userRoute(Method::Get, QStringLiteral("/api/auth/me"), &D::me);
    userRoute(Method::Get, QStringLiteral("/api/reservations"), &D::listReservations);
    userRoute(Method::Post, QStringLiteral("/api/reservations"), &D::createReservation);
    userRoute(Method::Get, QStringLiteral("/api/employees"), &D::employees);
    userRoute(Method::Post, QStringLiteral("/api/echo"), &D::echoRoute);
    userRoute(Method::Get, QStringLiteral("/api/ping"), &D::ping);
}

QString InnHotelDialect::roleOf(const UserRecord &user)
{
    return user.roles.contains(QLatin1String("manager")) ? QStringLiteral("Admin")
                                                         : QStringLiteral("User");
}

QJsonObject InnHotelDialect::accessClaims(const UserRecord &user) const
{
    // JwtSecurityTokenHandler writes ClaimTypes.Role as "role": a string for one role.
    return { { QStringLiteral("role"), roleOf(user) } };
}

QHttpServerResponse InnHotelDialect::unauthorized(const BearerResult &bearer)
{
    m_metrics.countUnauthorized();
    QHttpServerResponse response
        = failure(401, QStringLiteral("Unauthorized: authentication is required."));
    response.setHeader(QByteArrayLiteral("WWW-Authenticate"),
        bearerChallenge(QByteArrayLiteral("innhotel"), bearer));
    return response;
}

QHttpServerResponse InnHotelDialect::methodNotAllowed()
{
    return failure(405, QStringLiteral("Method not allowed."));
}

QHttpServerResponse InnHotelDialect::authResponse(const TokenGrant &grant)
{
    QHttpServerResponse response = HttpUtil::json({
        { QStringLiteral("accessToken"), grant.accessToken },
        { QStringLiteral("email"), grant.user.email },
        { QStringLiteral("roles"), QJsonArray { roleOf(grant.user) } },
    });
    response.addHeader(
        QByteArrayLiteral("Set-Cookie"), setCookie(grant.refreshToken, grant.refreshExpiresIn));
    response.addHeader(QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-store"));
    return response;
}

QHttpServerResponse InnHotelDialect::registerUser(const QHttpServerRequest &request)
{
    const auto body = HttpUtil::jsonObject(request.body());
    RegisterRequest in;
    in.namesOptional = true;
    if (!body || !HttpUtil::stringField(*body, "email", &in.email)
        || !HttpUtil::stringField(*body, "password", &in.password)
        || !HttpUtil::optionalString(*body, "firstName", &in.firstName)
        || !HttpUtil::optionalString(*body, "lastName", &in.lastName))
        return failure(400, QStringLiteral("email and password are required."));
    const RegisterResult result = m_auth.registerUser(in);
    switch (result.status) {
    case RegisterResult::Status::Created:
        return HttpUtil::json(userJson(result.user), Status::Created);
    case RegisterResult::Status::EmailTaken:
        return failure(409, QStringLiteral("Email already registered"));
    case RegisterResult::Status::WeakPassword:
        return validationProblem(QStringLiteral("Password"), result.requirements);
    case RegisterResult::Status::Invalid:
        return failure(400, result.message);
    case RegisterResult::Status::Failed:
        break;
    }
    return failure(500, QStringLiteral("Unexpected error."));
}

QHttpServerResponse InnHotelDialect::login(const QHttpServerRequest &request)
{
    const auto body = HttpUtil::jsonObject(request.body());
    QString email, password;
    if (!body || !HttpUtil::stringField(*body, "email", &email)
        || !HttpUtil::stringField(*body, "password", &password))
        return failure(400, QStringLiteral("email and password are required."));
    const LoginResult result = m_auth.login(email, password, clientAddress(request));
    switch (result.status) {
    case LoginResult::Status::Ok:
        return authResponse(result.grant);
    case LoginResult::Status::Locked: {
        const QString until = isoUtc(result.lockedUntil);
        QHttpServerResponse response
            = failure(423, QStringLiteral("Account locked until %1").arg(until),
                { { QStringLiteral("lockedUntil"), until } });
        response.setHeader(
            QByteArrayLiteral("Retry-After"), QByteArray::number(result.lockedForSeconds));
        return response;
    }
    case LoginResult::Status::RateLimited: {
        const qint64 wait = result.rate.retryAfterSeconds;
        QHttpServerResponse response = failure(429,
            QStringLiteral("Too many sign-in attempts. Try again in %1 seconds.").arg(wait),
            { { QStringLiteral("title"), QStringLiteral("Too Many Requests") },
                { QStringLiteral("retryAfter"), wait } });
        response.setHeader(QByteArrayLiteral("Retry-After"), QByteArray::number(wait));
        return response;
    }
    case LoginResult::Status::InvalidCredentials:
        break;
    }
    return failure(401, QStringLiteral("Invalid Credentials"));
}

QHttpServerResponse InnHotelDialect::refresh(const QHttpServerRequest &request)
{
    const QString token = QString::fromLatin1(HttpUtil::cookie(request, cookieName));
    if (token.isEmpty()) // checked here so the answer is the seed's message
        return failure(401, QStringLiteral("Refresh token is required."));
    const RefreshResult result = m_auth.refresh(token);
    switch (result.status) {
    case RefreshResult::Status::Ok:
        return authResponse(result.grant);
    case RefreshResult::Status::Injected:
        return failure(result.injectedStatus, QStringLiteral("Injected failure"));
    case RefreshResult::Status::Missing:
    case RefreshResult::Status::Invalid:
    case RefreshResult::Status::Reused:
        break;
    }
    QHttpServerResponse response
        = failure(401, QStringLiteral("Invalid or expired refresh token."));
    response.addHeader(QByteArrayLiteral("Set-Cookie"), setCookie({}, 0));
    return response;
}

QHttpServerResponse InnHotelDialect::logout(const QHttpServerRequest &request)
{
    // As InnHotel's Logout endpoint: an authenticated user and the cookie are both required.
    const BearerResult bearer = m_auth.authenticate(HttpUtil::bearerToken(request));
    if (bearer.status != BearerResult::Status::Ok) {
        m_metrics.countUnauthorized();
        QHttpServerResponse response = failure(401, QStringLiteral("Unauthorized."));
        response.setHeader(QByteArrayLiteral("WWW-Authenticate"),
            bearerChallenge(QByteArrayLiteral("innhotel"), bearer));
        return response;
    }
    const QString token = QString::fromLatin1(HttpUtil::cookie(request, cookieName));
    if (token.isEmpty())
        return failure(400, QStringLiteral("Missing refresh token cookie."));
    m_auth.logout(token); // an unknown token still ends the client's session
    QHttpServerResponse response = failure(200, QStringLiteral("Logged out successfully."));
    response.addHeader(QByteArrayLiteral("Set-Cookie"), setCookie({}, 0));
    return response;
}

QHttpServerResponse InnHotelDialect::changePassword(
    const QHttpServerRequest &request, const UserRecord &user)
{
    const auto body = HttpUtil::jsonObject(request.body());
    QString current, next;
    if (!body || !HttpUtil::stringField(*body, "currentPassword", &current)
        || !HttpUtil::stringField(*body, "newPassword", &next))
        return failure(400, QStringLiteral("currentPassword and newPassword are required."));
    const ChangePasswordResult result = m_auth.changePassword(user, current, next);
    switch (result.status) {
    case ChangePasswordResult::Status::Ok:
        return failure(200, QStringLiteral("Password changed successfully."));
    case ChangePasswordResult::Status::WrongPassword:
        return failure(400, QStringLiteral("Current password is incorrect."));
    case ChangePasswordResult::Status::WeakPassword:
        return validationProblem(QStringLiteral("Password"), result.requirements);
    case ChangePasswordResult::Status::Failed:
        break;
    }
    return failure(500, QStringLiteral("Unexpected error."));
}

QHttpServerResponse InnHotelDialect::me(const QHttpServerRequest &, const UserRecord &user)
{
    return HttpUtil::json(userJson(user));
}

QHttpServerResponse InnHotelDialect::listReservations(
    const QHttpServerRequest &, const UserRecord &user)
{
    QJsonArray items;
    const QList<BookingRecord> records = m_auth.database().bookingsForUser(user.id);
    for (const BookingRecord &b : records)
        items.append(LatchkeyDialect::bookingJson(b));
    return HttpUtil::json(
        { { QStringLiteral("items"), items }, { QStringLiteral("totalCount"), items.size() } });
}

QHttpServerResponse InnHotelDialect::createReservation(
    const QHttpServerRequest &request, const UserRecord &user)
{
    const auto body = HttpUtil::jsonObject(request.body());
    if (!body)
        return failure(400, QStringLiteral("Request body must be a JSON object."));
    BookingRecord booking;
    booking.userId = user.id;
    const QString error = LatchkeyDialect::parseBooking(*body, &booking);
    if (!error.isEmpty())
        return failure(400, error);
    booking.id = m_auth.database().insertBooking(booking);
    if (booking.id == 0)
        return failure(500, QStringLiteral("Unexpected error."));
    return HttpUtil::json(LatchkeyDialect::bookingJson(booking), Status::Created);
}

QHttpServerResponse InnHotelDialect::employees(const QHttpServerRequest &, const UserRecord &user)
{
    if (roleOf(user) != QLatin1String("Admin")) // the "AdminsOnly" policy
        return failure(403, QStringLiteral("Forbidden."));
    QJsonArray items;
    const QList<UserRecord> records = m_auth.database().users();
    for (const UserRecord &u : records)
        items.append(userJson(u));
    return HttpUtil::json(
        { { QStringLiteral("items"), items }, { QStringLiteral("totalCount"), items.size() } });
}

QHttpServerResponse InnHotelDialect::echoRoute(
    const QHttpServerRequest &request, const UserRecord &)
{
    return echo(request);
}

QHttpServerResponse InnHotelDialect::ping(const QHttpServerRequest &, const UserRecord &)
{
    return HttpUtil::json({ { QStringLiteral("ok"), true } });
}
