#pragma once

#include <QString>
#include <QStringList>

namespace LatchkeyTest {

// Locks and unlocks the Secret Service's default collection (gnome-keyring's "login") of the
// private session bus tests/support/with-keyring.sh starts, as a screen lock or a user would;
// no prompt is involved. Each returns false and fills \a error when the bus or the keyring says
// no. Blocking D-Bus calls: for tests only.
namespace Keyring {

// org.freedesktop.Secret.Service.Lock
bool lock(QString *error = nullptr);
// gnome-keyring's InternalUnsupportedGuiltRiddenInterface.UnlockWithMasterPassword, with the
// password with-keyring.sh gave the keyring ($LATCHKEY_KEYRING_PASSWORD).
bool unlock(QString *error = nullptr);
// The collection's Locked property; false also when it cannot be read.
bool isLocked();

// The keys (attribute "user") of QtKeychain's items of \a service (attribute "server"), sorted:
// what is in the keyring, never a secret. Unlocked keyring only.
QStringList keysOf(const QString &service);
// Deletes the item of \a service and \a key, as another program or the user might.
bool removeItem(const QString &service, const QString &key, QString *error = nullptr);

} // namespace Keyring
} // namespace LatchkeyTest
