#pragma once

#include "tokenset_p.h"

#include "serverprofile_p.h"
#include <latchkey/autherror.h>

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
    bool tooLarge = false; // cut short by AuthCall at its size bound (error OperationCanceled)

    // No complete HTTP answer: nothing came back (status 0), or the transport failed after the
    // headers — a body cut short (Qt keeps the status, e.g. 200, and says
    // RemoteHostClosedError), a reset or a timeout mid-body. QNetworkReply's codes below 200
    // are the network and proxy layers; 2xx–4xx codes only restate an HTTP status.
    bool transportFailed() const
    {
        return !tooLarge
            && (status == 0
                || (networkError != QNetworkReply::NoError
                    && networkError < QNetworkReply::ContentAccessDenied));
    }
    // A whole 2xx answer, within the size bound.
    bool succeeded() const
    {
        return !tooLarge && !transportFailed() && status >= 200 && status < 300;
    }
};

// A request ready to send: built from the profile, never logged with its body.
struct PreparedRequest
{
    QNetworkRequest request;
    QByteArray body;
    QByteArray verb = "POST"; // the endpoint's "method"
};

// Builds the auth requests a profile describes and reads the answers into tokens or errors.
namespace WireFormat {

enum class Exchange { Login, Refresh, Logout, Me, Register, ChangePassword };

// A request to \a endpoint with \a fields (plus the endpoint's extra fields) in its encoding.
PreparedRequest request(
    const Profile::Endpoint &endpoint, const QUrl &baseUrl, const QJsonObject &fields);
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

// Whether a refresh answer says the refresh token is dead (end the session): one of the
// profile's refresh.rejectedWhen rules matches (default: 401, or 400/403 with
// "error": "invalid_grant"). Never for a transport failure or an answer over the size bound.
bool isRejection(const ServerProfile &profile, const HttpResult &result);

// What a refresh answer means for the session. The one classification RefreshCoordinator uses.
enum class RefreshOutcome {
    Tokens, // new tokens: adopt them
    Rejected, // the refresh token is dead: end the session (error: SessionExpired)
    Transient, // keep the session; `error` says why, `retry` whether to try again soon
};

struct RefreshVerdict
{
    RefreshOutcome outcome = RefreshOutcome::Transient;
    TokenSet tokens; // Tokens
    AuthError error; // Rejected, Transient
    // Transient: trying again soon may help — a transport failure (Network), 5xx (Server), 408,
    // 429 (RateLimited, honour retryAfter()). Not for an answer that will not change in a
    // second: a 2xx without tokens or over the size bound (Protocol), a 4xx that is no
    // rejection (Server: an HTML 403 from a proxy or WAF, a JSON error naming something else).
    bool retry = false;
};

RefreshVerdict classifyRefresh(const ServerProfile &profile, const HttpResult &result);

bool isLoopbackHost(const QString &host);

} // namespace WireFormat
} // namespace Latchkey
