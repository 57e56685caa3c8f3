#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QMetaType>

namespace Latchkey {

// What a login or refresh answer carries.
struct TokenSet
{
    QByteArray access;
    QByteArray refresh; // empty: the server did not rotate it; keep the old one
    qint64 lifetimeMs = -1; // -1: unknown (opaque token without expires_in): rely on 401s
    QJsonObject user;
    QJsonObject claims;
};

} // namespace Latchkey

Q_DECLARE_METATYPE(Latchkey::TokenSet)
