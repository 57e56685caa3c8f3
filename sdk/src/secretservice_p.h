#pragma once

// Linux (and other freedesktop systems) only: built when LATCHKEY_SECRET_SERVICE is defined.

#include <QString>

#include <functional>

namespace Latchkey {

// What QtKeychain cannot say: whether the Secret Service (org.freedesktop.secrets) is locked.
// QtKeychain 0.13 reads a locked item as "not found", so a locked keyring would look like a
// signed-out user. These ask the Secret Service over the session bus, without starting one
// (no D-Bus activation), without unlocking anything and without reading any secret: only the
// lock state, which the service tells any client of the session.
namespace SecretService {

// done(true) when an item of QtKeychain's (attributes server=<service>, user=<key>) exists
// but is locked; done(false) when there is none, it is unlocked, or no Secret Service
// answers (within a few seconds). \a done is called once, from the event loop of this thread
// (at once when there is no session bus at all).
void hasLockedItem(const QString &service, const QString &key, std::function<void(bool)> done);

// done(true) when the default collection, where QtKeychain creates its items, is locked.
void isDefaultCollectionLocked(std::function<void(bool)> done);

} // namespace SecretService

} // namespace Latchkey
