#pragma once

#include <QByteArray>
#include <QLoggingCategory>

namespace Latchkey {

Q_DECLARE_LOGGING_CATEGORY(lcAuth) // latchkey.auth: sign-in, restore, sign-out, refresh
Q_DECLARE_LOGGING_CATEGORY(lcNet) // latchkey.net: authorized requests, replays, redirects
Q_DECLARE_LOGGING_CATEGORY(lcStore) // latchkey.store: token store operations

// What may be logged of a secret: its length and a short non-reversible fingerprint, so two
// log lines can be matched to one token without revealing it.
QByteArray redacted(const QByteArray &secret);

} // namespace Latchkey
