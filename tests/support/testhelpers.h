#pragma once

#include <latchkey/authclient.h>
#include <latchkey/autherror.h>
#include <latchkey/authreply.h>

#include <QList>
#include <QNetworkReply>

namespace LatchkeyTest {

// The demo users of `latchkey-server --seed-demo`.
inline const QString guest = QStringLiteral("guest@latchkey.test");
inline const QString guestPassword = QStringLiteral("Guest-2026!");

// The HTTP status of a finished reply (0 when there was no HTTP answer).
inline int httpStatus(QNetworkReply *reply)
{
    return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
}

// Waits (spinning the event loop, bounded by timeoutMs) for an AuthReply and returns its error.
// A reply that never finishes yields a Cancelled error saying so.
Latchkey::AuthError await(Latchkey::AuthReply *reply, int timeoutMs = 30000);

// Waits (bounded, 30 s) for \a reply, then returns its body and deletes it; \a status gets its
// HTTP status (0 when there was no HTTP answer). For the support code's own blocking calls.
QByteArray takeBody(QNetworkReply *reply, int *status = nullptr);

// Waits until every reply has finished; false on timeout.
bool awaitAll(const QList<QNetworkReply *> &replies, int timeoutMs = 60000);

// The refresh token a TokenStore holds for a client's identity (real keychain included).
QByteArray storedRefreshToken(Latchkey::AuthClient *client, const QString &identity);
QByteArray storedLastIdentity(Latchkey::AuthClient *client);

// The store keys AuthClient uses (documented in docs/architecture.md).
QString tokenKey(const QString &profile, const QUrl &baseUrl, const QString &identity);
QString lastIdentityKey(const QString &profile, const QUrl &baseUrl);

} // namespace LatchkeyTest
