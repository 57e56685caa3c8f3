#pragma once

#include <latchkey/serverprofile.h>

#include <QSharedData>

namespace Latchkey {

class ServerProfileData : public QSharedData
{
public:
    bool valid = false;
    QJsonObject json;
    QString name;
    ServerProfile::Endpoint login, refresh, logout, registration, changePassword;
    QString accessPointer;
    ServerProfile::TokenLocation refreshLocation;
    QString expiresInPointer;
    QString idTokenPointer;
    bool hasOidc = false;
    ServerProfile::OpenIdConnect oidc;
    QString userPointer;
    QString mePath;
    QString meUserPointer;
    QStringList rolesPointers;
    QString permissionsPointer;
    QByteArray apiKeyHeader;
    QByteArray authorizationHeader;
    QByteArray authorizationScheme;
    QStringList messagePointers;
    QString requirementsPointer;
    QString lockedUntilPointer;
    QString attemptsLeftPointer;
    QString retryAfterPointer;
    QList<ServerProfile::RejectionRule> refreshRejectedWhen;
};

// For the SDK's own code: the OpenID Connect flows make the profile their exchanges speak (the
// endpoints the provider published) from the one the application gave.
class ServerProfilePrivate
{
public:
    static ServerProfileData *data(ServerProfile &profile) { return profile.d.data(); }
};

} // namespace Latchkey
