#include "dialect.h"

#include "authservice.h"
#include "hotelreviewsdialect.h"
#include "innhoteldialect.h"
#include "latchkeydialect.h"
#include "schedulemanagerdialect.h"

#include <QJsonArray>

Dialect::~Dialect() = default;

QJsonObject Dialect::accessClaims(const UserRecord &user) const
{
    return { { QStringLiteral("roles"), QJsonArray::fromStringList(user.roles) },
        { QStringLiteral("permissions"),
            QJsonArray::fromStringList(AuthService::permissionsFor(user.roles)) } };
}

QStringList Dialect::availableNames()
{
    return { QStringLiteral("latchkey"), QStringLiteral("innhotel"),
        QStringLiteral("hotel-reviews"), QStringLiteral("schedule-manager"),
        QStringLiteral("oauth2") };
}

std::unique_ptr<Dialect> Dialect::create(const QString &name, AuthService &auth, Metrics &metrics)
{
    if (name == QLatin1String("latchkey"))
        return std::make_unique<LatchkeyDialect>(auth, metrics);
    if (name == QLatin1String("innhotel"))
        return std::make_unique<InnHotelDialect>(auth, metrics);
    if (name == QLatin1String("hotel-reviews"))
        return std::make_unique<HotelReviewsDialect>(auth, metrics);
    if (name == QLatin1String("schedule-manager"))
        return std::make_unique<ScheduleManagerDialect>(auth, metrics);
    if (name == QLatin1String("oauth2"))
        return std::make_unique<LatchkeyDialect>(auth, metrics, LatchkeyDialect::Flavor::OAuth2);
    return nullptr;
}
