#pragma once

#include "authservice.h"
#include "dialect.h"

#include <QHttpServerRequest>
#include <QList>

// The native dialect of latchkey-server (see docs and the `latchkey` SDK profile):
//   POST /api/auth/register|login|refresh|logout, GET|PUT /api/user/profile,
//   GET|POST /api/bookings, GET /api/admin/users, POST /api/echo, GET /api/ping.
// Refresh tokens travel in the JSON body and in an HttpOnly cookie scoped to /api/auth.
class LatchkeyDialect : public Dialect
{
public:
    LatchkeyDialect(AuthService &auth, Metrics &metrics);

    QString name() const override { return QStringLiteral("latchkey"); }
    std::optional<QHttpServerResponse> handle(const QHttpServerRequest &request) override;

    static QJsonObject userJson(const UserRecord &user);
    static QJsonObject bookingJson(const BookingRecord &booking);

private:
    using PublicHandler = QHttpServerResponse (LatchkeyDialect::*)(const QHttpServerRequest &);
    using UserHandler
        = QHttpServerResponse (LatchkeyDialect::*)(const QHttpServerRequest &, const UserRecord &);
    struct Route
    {
        QHttpServerRequest::Method method;
        QString path;
        PublicHandler publicHandler = nullptr; // exactly one of the two is set
        UserHandler userHandler = nullptr;
    };

    QHttpServerResponse registerUser(const QHttpServerRequest &request);
    QHttpServerResponse login(const QHttpServerRequest &request);
    QHttpServerResponse refresh(const QHttpServerRequest &request);
    QHttpServerResponse logout(const QHttpServerRequest &request);
    QHttpServerResponse getProfile(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse putProfile(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse listBookings(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse createBooking(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse adminUsers(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse echo(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse ping(const QHttpServerRequest &request, const UserRecord &user);

    QHttpServerResponse unauthorized(const BearerResult &bearer);
    QHttpServerResponse grantResponse(const TokenGrant &grant);

    AuthService &m_auth;
    Metrics &m_metrics;
    QList<Route> m_routes;
};
