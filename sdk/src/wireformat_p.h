#pragma once

#include "tokenset_p.h"

#include <latchkey/autherror.h>
#include <latchkey/serverprofile.h>

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QNetworkCookie>
#include <QNetworkReply>
#include <QNetworkRequest>

namespace Latchkey {

// One auth exchange's answer, as read by AuthCall (bounded in size and time).
struct HttpResult
{
    int status = 0;
    QNetworkReply::NetworkError networkError = QNetworkReply::NoError;
    QString networkErrorString;
    QByteArray body;
    QList<QNetworkCookie> cookies;
    QByteArray retryAfterHeader;
    bool tooLarge = false;

    bool transportFailed() const { return status == 0; }
};

// A request ready to send: built from the profile, never logged with its body.
struct PreparedRequest
{
    QNetworkRequest request;
    QByteArray body;
};

// Builds the auth requests a profile describes and reads the answers into tokens or errors.
namespace WireFormat {

enum class Exchange { Login, Refresh, Logout, Me, Register, ChangePassword };

// A request to \a endpoint with \a fields (plus the endpoint's extra fields) in its encoding.
PreparedRequest request(
    const ServerProfile::Endpoint &endpoint, const QUrl &baseUrl, const QJsonObject &fields);
// A JSON request to a plain path (me, profile updates).
PreparedRequest jsonRequest(const QUrl &baseUrl, const QString &path, const QJsonObject &body);
// The JSON value at \a pointer of a JSON answer; Undefined if the answer is no JSON.
QJsonValue valueAt(const QByteArray &body, const QString &pointer);

PreparedRequest login(const ServerProfile &profile, const QUrl &baseUrl, const QString &identity,
    const QString &password);
PreparedRequest refresh(
    const ServerProfile &profile, const QUrl &baseUrl, const QByteArray &refreshToken);
PreparedRequest logout(const ServerProfile &profile, const QUrl &baseUrl,
    const QByteArray &accessToken, const QByteArray &refreshToken);

// Reads a 2xx answer of login or refresh. False with a Protocol error when the answer does not
// hold what the profile says (the error names what was expected, never a value).
bool parseTokens(
    const ServerProfile &profile, const HttpResult &result, TokenSet *tokens, AuthError *error);

// Maps a failed exchange to the kind of error a person can act on.
AuthError errorFor(const ServerProfile &profile, const HttpResult &result, Exchange exchange);

// Whether a failed refresh means the refresh token is dead (end the session) rather than a
// passing failure (keep the session, try again).
bool isRejection(const HttpResult &result);

bool isLoopbackHost(const QString &host);

} // namespace WireFormat
} // namespace Latchkey
