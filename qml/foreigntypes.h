#pragma once

// QML names for the SDK's own types. The SDK (sdk/) links neither QtQml nor QtGui: these
// wrappers register its types from here, in the manner of KCoreAddons' src/qml/types.h.
//   AuthClient   the enums State and RefreshReason (AuthClient.SignedIn, AuthClient.Unauthorized);
//                not creatable: use Session, which owns one (Session.client).
//   authError    the value type of Session.lastError and of the error signals: kind, message,
//                httpStatus, retryAfter, lockedUntil, attemptsLeft, requirements.
//   AuthError    the enum AuthError.Kind for comparisons (AuthError.AccountLocked).
//   deviceAuthorization  the value type of Session.deviceCode: userCode, verificationUri,
//                verificationUriComplete, expiresAt, interval, isValid.

#include <latchkey/authclient.h>
#include <latchkey/autherror.h>
#include <latchkey/deviceauthorization.h>

#include <QtQml/qqml.h>

namespace Latchkey {

struct AuthClientForeign
{
    Q_GADGET
    QML_FOREIGN(Latchkey::AuthClient)
    QML_NAMED_ELEMENT(AuthClient)
    QML_UNCREATABLE("An AuthClient belongs to a Session: use Session (and Session.client).")
};

struct AuthErrorForeign
{
    Q_GADGET
    QML_FOREIGN(Latchkey::AuthError)
    QML_VALUE_TYPE(authError)
};

struct DeviceAuthorizationForeign
{
    Q_GADGET
    QML_FOREIGN(Latchkey::DeviceAuthorization)
    QML_VALUE_TYPE(deviceAuthorization)
};

namespace AuthErrorForeignEnums {
Q_NAMESPACE
QML_FOREIGN_NAMESPACE(Latchkey::AuthError)
QML_NAMED_ELEMENT(AuthError)
} // namespace AuthErrorForeignEnums

} // namespace Latchkey
