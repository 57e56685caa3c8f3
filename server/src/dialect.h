#pragma once

#include <QHttpServerResponse>
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>

class AuthService;
class Metrics;
class QHttpServerRequest;
struct UserRecord;

// A wire dialect: the paths, request fields and response envelopes of one family of servers,
// mapped onto the AuthService core operations: latchkey (native), oauth2 (a resource server
// only), innhotel, hotel-reviews, schedule-manager. The OAuth2 token endpoint is not a dialect:
// AuthServer serves it beside every one (OAuth2Endpoint).
class Dialect
{
public:
    virtual ~Dialect();

    virtual QString name() const = 0;

    // Answers a request for one of this dialect's paths; std::nullopt when the path is not one
    // of them (the server then answers 404).
    virtual std::optional<QHttpServerResponse> handle(const QHttpServerRequest &request) = 0;

    // The role/permission claims of this dialect's access tokens (sub, email, iat, exp and jti
    // are added by AuthService). Default: {"roles": [...], "permissions": [...]}.
    virtual QJsonObject accessClaims(const UserRecord &user) const;

    static QStringList availableNames();
    static std::unique_ptr<Dialect> create(
        const QString &name, AuthService &auth, Metrics &metrics);
};
