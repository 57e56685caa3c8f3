#pragma once

#include "routeddialect.h"

// The InnHotel API, an ASP.NET Core service: the access token in the body, the
// refresh token only in the HttpOnly cookie `refreshToken`, rotated on every refresh; errors as
// its FailureResponse {"status", "message"}, validation errors as ASP.NET ProblemDetails.
//   POST /api/auth/login|refresh|logout|register|change-password, GET /api/auth/me,
//   GET|POST /api/reservations, GET /api/employees (Admin), POST /api/echo, GET /api/ping.
class InnHotelDialect : public RoutedDialect
{
public:
    InnHotelDialect(AuthService &auth, Metrics &metrics);

    QString name() const override { return QStringLiteral("innhotel"); }
    QJsonObject accessClaims(const UserRecord &user) const override;

    static QString roleOf(const UserRecord &user); // "User" or "Admin"

private:
    QHttpServerResponse registerUser(const QHttpServerRequest &request);
    QHttpServerResponse login(const QHttpServerRequest &request);
    QHttpServerResponse refresh(const QHttpServerRequest &request);
    QHttpServerResponse logout(const QHttpServerRequest &request);
    QHttpServerResponse changePassword(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse me(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse listReservations(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse createReservation(
        const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse employees(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse echoRoute(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse ping(const QHttpServerRequest &request, const UserRecord &user);

    QHttpServerResponse unauthorized(const BearerResult &bearer) override;
    QHttpServerResponse methodNotAllowed() override;
    QHttpServerResponse authResponse(const TokenGrant &grant);
};
