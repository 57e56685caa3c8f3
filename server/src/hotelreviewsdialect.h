#pragma once

#include "routeddialect.h"

// The hotel-reviews microservice, a Go service under /api/v1: every answer is the
// envelope {"message", "data"} (errors {"message", "error", "data"?}), the refresh token travels
// in JSON bodies, `expires_in` in seconds. Profile, change-password, API keys (`hr_…`, stored
// hashed, accepted as X-API-Key by /api/v1/service/status), admin routes, roles user/admin.
class HotelReviewsDialect : public RoutedDialect
{
public:
    HotelReviewsDialect(AuthService &auth, Metrics &metrics);

    QString name() const override { return QStringLiteral("hotel-reviews"); }
    QJsonObject accessClaims(const UserRecord &user) const override;

    static QString roleOf(const UserRecord &user); // "user" or "admin"
    static QStringList permissionsOf(const QString &role);

private:
    QHttpServerResponse registerUser(const QHttpServerRequest &request);
    QHttpServerResponse login(const QHttpServerRequest &request);
    QHttpServerResponse refresh(const QHttpServerRequest &request);
    QHttpServerResponse logout(const QHttpServerRequest &request);
    QHttpServerResponse getProfile(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse putProfile(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse changePassword(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse createApiKey(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse listApiKeys(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse deleteApiKey(
        const QHttpServerRequest &request, const UserRecord &user, const Args &args);
    QHttpServerResponse serviceStatus(const QHttpServerRequest &request);
    QHttpServerResponse adminUsers(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse adminUser(
        const QHttpServerRequest &request, const UserRecord &user, const Args &args);
    QHttpServerResponse adminAssignRole(
        const QHttpServerRequest &request, const UserRecord &user, const Args &args);
    QHttpServerResponse listBookings(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse createBooking(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse echoRoute(const QHttpServerRequest &request, const UserRecord &user);
    QHttpServerResponse ping(const QHttpServerRequest &request, const UserRecord &user);

    QHttpServerResponse unauthorized(const BearerResult &bearer) override;
    QHttpServerResponse methodNotAllowed() override;
    QHttpServerResponse tokenResponse(
        const QString &message, const TokenGrant &grant, bool withUser);
};
