#pragma once

#include <QByteArray>
#include <QLoggingCategory>

namespace Latchkey {

Q_DECLARE_LOGGING_CATEGORY(lcAuth) // latchkey.auth: sign-in, restore, sign-out, refresh
Q_DECLARE_LOGGING_CATEGORY(lcNet) // latchkey.net: authorized requests, replays, redirects
Q_DECLARE_LOGGING_CATEGORY(lcStore) // latchkey.store: token store operations
// latchkey.timing (debug only, off by default): where a request's and a refresh's time goes,
// in microseconds since each began (docs/benchmarks.md, "Profiling"). Nothing secret.
Q_DECLARE_LOGGING_CATEGORY(lcTiming)

// What may be logged of a secret: its length and a short non-reversible fingerprint, so two
// log lines can be matched to one token without revealing it.
QByteArray redacted(const QByteArray &secret);

} // namespace Latchkey
