#include "dialect.h"

#include "latchkeydialect.h"

Dialect::~Dialect() = default;

QStringList Dialect::availableNames()
{
    return { QStringLiteral("latchkey") };
}

std::unique_ptr<Dialect> Dialect::create(const QString &name, AuthService &auth, Metrics &metrics)
{
    if (name == QLatin1String("latchkey"))
        return std::make_unique<LatchkeyDialect>(auth, metrics);
    return nullptr;
}
