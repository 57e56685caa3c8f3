#pragma once

#include "routeddialect.h"

// The native dialect of latchkey-server (see docs and the `latchkey` SDK profile):
//   POST /api/auth/register|login|refresh|logout, GET|PUT /api/user/profile,
//   GET /api/user/avatar (a PNG identicon of the user),
//   POST /api/user/change-password, GET|POST /api/bookings, GET /api/admin/users,
//   POST /api/echo, GET /api/ping.
// Refresh tokens travel in the JSON body and in an HttpOnly cookie scoped to /api/auth.
//
// As `oauth2` it is a pure OAuth2 resource server: the same protected routes, no /api/auth/*
// (tokens come from /oauth/token, which every dialect has).
class LatchkeyDialect : public RoutedDialect
{
public:
    enum class Flavor { Native, OAuth2 };
    LatchkeyDialect(AuthService &auth, Metrics &metrics, Flavor flavor = Flavor::Native);

    QString name() const override;

    static QJsonObject userJson(const UserRecord &user);
    static QJsonObject bookingJson(const BookingRecord &booking);
    static QHttpServerResponse passwordPolicyError(const QStringList &requirements);
    // Fills *booking from {hotel, checkIn, checkOut, guests}; the error text when invalid.
    static QString parseBooking(const QJsonObject &body, BookingRecord *booking);

private:
    QHttpServerResponse registerUser(const QHttpServerRequest &request);
    QHttpServerResponse passwordPolicy(const QHttpServerRequest &request);
    QHttpServerResponse login(const QHttpServerRequest &request);
    QHttpServerResponse refresh(const QHttpServerRequest &request);
    QHttpServerResponse logout(const QHttpServerRequest &request);
    QHttpServerResponse getProfile(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse avatar(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse putProfile(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse changePassword(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse listBookings(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse createBooking(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse adminUsers(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse echo(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse ping(const QHttpServerRequest &request, const UserRecord &user);

    QHttpServerResponse unauthorized(const BearerResult &bearer) override;
    QHttpServerResponse grantResponse(const TokenGrant &grant);

    Flavor m_flavor;
};
