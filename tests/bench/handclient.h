#pragma once

#include "serverprofile_p.h"

#include <QNetworkAccessManager>
#include <QObject>
#include <QUrl>

#include <functional>

namespace LatchkeyBench {

// Auth done by hand on a raw QNetworkAccessManager, driven by a Latchkey profile so that it
// talks to any server the SDK can. Two uses:
//  - "raw Qt": login once, then requests with the Authorization header set by hand;
//  - "naive client", written the way the clients of such servers are (its JavaScript
//    AuthService and Python requests client): every request that meets a 401 refreshes on its own
//    and retries once; nothing is shared between concurrent requests, and a failed refresh fails
//    the request.
class HandClient : public QObject
{
public:
    HandClient(
        const Latchkey::ServerProfile &profile, const QUrl &baseUrl, QObject *parent = nullptr);

    QNetworkAccessManager *nam() { return &m_nam; }

    // Blocking (spins a local event loop). False on failure, with errorString().
    bool login(const QString &identity, const QString &password);
    bool refreshBlocking();
    QString errorString() const { return m_error; }

    QByteArray accessToken() const { return m_access; }
    void setAccessToken(const QByteArray &token) { m_access = token; }
    QByteArray refreshToken() const { return m_refresh; } // empty when it lives in a cookie
    void setRefreshToken(const QByteArray &token) { m_refresh = token; }

    QUrl url(const QString &path) const;
    // A request with the Authorization header set by hand.
    QNetworkRequest authorized(const QUrl &url) const;

    // The naive client's API call: send; on 401 refresh (own call) and retry once.
    // \a done gets the final status (0: no answer) and whether the request failed.
    void naiveGet(const QUrl &url, std::function<void(int status, bool failed)> done);

    int refreshCalls() const { return m_refreshCalls; }
    int refreshFailures() const { return m_refreshFailures; }
    void resetCounters() { m_refreshCalls = m_refreshFailures = 0; }

private:
    QNetworkRequest endpointRequest(const Latchkey::Profile::Endpoint &e) const;
    QByteArray encode(const Latchkey::Profile::Endpoint &e, QJsonObject fields) const;
    QNetworkReply *startRefresh();
    // Reads the tokens of a login or refresh answer; false if no access token is in it.
    bool takeTokens(const QByteArray &body);

    Latchkey::ServerProfile m_profile;
    QUrl m_base;
    QNetworkAccessManager m_nam;
    QByteArray m_access;
    QByteArray m_refresh;
    QString m_error;
    int m_refreshCalls = 0;
    int m_refreshFailures = 0;
};

} // namespace LatchkeyBench
