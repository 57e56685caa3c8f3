#pragma once

#include "routeddialect.h"

// The AI Schedule Manager API, a FastAPI service: login answers
// {access_token, token_type, user{email, role}} and sets the refresh token as the HttpOnly
// cookie `refresh_token`; refresh answers {message, access_token} and rotates the cookie.
// Roles manager/employee with the seed's permission lists in the `role`/`permissions` claims;
// X-RateLimit-* headers on sign-in answers; errors as FastAPI's {"detail": …} except the seed's
// lockout and password-policy bodies.
//   POST /api/auth/login|refresh|logout|register|change-password, GET /api/auth/me,
//   GET /api/employees, POST /api/echo, GET /api/ping.
class ScheduleManagerDialect : public RoutedDialect
{
public:
    ScheduleManagerDialect(AuthService &auth, Metrics &metrics);

    QString name() const override { return QStringLiteral("schedule-manager"); }
    QJsonObject accessClaims(const UserRecord &user) const override;

    static QString roleOf(const UserRecord &user); // "manager" or "employee"
    static QStringList permissionsOf(const QString &role);

private:
    QHttpServerResponse registerUser(const QHttpServerRequest &request);
    QHttpServerResponse login(const QHttpServerRequest &request);
    QHttpServerResponse refresh(const QHttpServerRequest &request);
    QHttpServerResponse logout(const QHttpServerRequest &request);
    QHttpServerResponse changePassword(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse me(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse employees(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse echoRoute(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse ping(const QHttpServerRequest &request, const UserRecord &user);

    QHttpServerResponse unauthorized(const BearerResult &bearer) override;
    QHttpServerResponse methodNotAllowed() override;
};
