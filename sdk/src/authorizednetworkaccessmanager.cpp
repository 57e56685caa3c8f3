#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>

#include "authcall_p.h"
#include "authclient_p.h"
#include "retryingreply_p.h"
#include "serverprofile_p.h"

#include <QSslConfiguration>

namespace Latchkey {

class AuthorizedNetworkAccessManagerPrivate
{
public:
    // The session of the client this manager was made for, shared with every other manager.
    std::shared_ptr<SessionCore> session;
    // How many of this manager's requests to the origin Qt holds at a time (RequestGate).
    std::shared_ptr<RequestGate> gate = std::make_shared<RequestGate>();
};

AuthorizedNetworkAccessManager::AuthorizedNetworkAccessManager(AuthClient *client, QObject *parent)
    : QNetworkAccessManager(parent)
    , d(new AuthorizedNetworkAccessManagerPrivate { AuthClientPrivate::sessionOf(client) })
{
    d->gate->setContext(this);
    // Queued: it is asked for from inside createRequest().
    d->gate->setWarmUp([this](const QUrl &url) {
        QMetaObject::invokeMethod(
            this, [this, url] { AuthCall::preconnect(this, url, d->session->sslConfiguration()); },
            Qt::QueuedConnection);
    });
}

AuthorizedNetworkAccessManager::~AuthorizedNetworkAccessManager()
{
    // The replies still running are deleted with the manager (QObject children): the queued
    // ones never go out.
    d->gate->close();
}

AuthError AuthorizedNetworkAccessManager::authError(const QNetworkReply *reply)
{
    if (!reply)
        return AuthError();
    return reply->property(RetryingReply::authErrorProperty).value<AuthError>();
}

QNetworkReply *AuthorizedNetworkAccessManager::createRequest(
    Operation op, const QNetworkRequest &request, QIODevice *outgoingData)
{
    // Another origin, nothing to attach, the application's own Authorization, or the login and
    // refresh endpoints themselves (their 401 means "wrong credentials", never "refresh"):
    // untouched.
    if (!d->session || !d->session->manages()
        || request.hasRawHeader(QByteArrayLiteral("Authorization"))
        || request.hasRawHeader(ServerProfilePrivate::of(d->session->profile).authorizationHeader)
        || !d->session->authorizes(request.url()) || d->session->isAuthEndpoint(request.url())) {
        // Still the client's TLS for the API's origin, as RetryingReply gives it.
        if (d->session && d->session->authorizes(request.url())
            && request.url().scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0
            && request.sslConfiguration() == QSslConfiguration::defaultConfiguration()) {
            const QSslConfiguration tls = d->session->sslConfiguration();
            if (!tls.isNull()) {
                QNetworkRequest withTls = request;
                withTls.setSslConfiguration(tls);
                return QNetworkAccessManager::createRequest(op, withTls, outgoingData);
            }
        }
        return QNetworkAccessManager::createRequest(op, request, outgoingData);
    }
    // The request as QNetworkAccessManager::createRequest() keeps it for its own replies: the
    // manager's redirect policy, transfer timeout and auto-delete, unless the request says
    // otherwise. The reply's request() shows them, and the manager deletes a finished reply
    // whose request() asks for it (setAutoDeleteReplies).
    QNetworkRequest outer(request);
    if (redirectPolicy() != QNetworkRequest::NoLessSafeRedirectPolicy
        && outer.attribute(QNetworkRequest::RedirectPolicyAttribute).isNull()) {
        outer.setAttribute(QNetworkRequest::RedirectPolicyAttribute, redirectPolicy());
    }
    if (!outer.transferTimeout() && transferTimeout())
        outer.setTransferTimeout(transferTimeout());
    if (autoDeleteReplies()
        && outer.attribute(QNetworkRequest::AutoDeleteReplyOnFinishAttribute).isNull()) {
        outer.setAttribute(QNetworkRequest::AutoDeleteReplyOnFinishAttribute, true);
    }
    auto create = [this](Operation o, const QNetworkRequest &r, QIODevice *body) {
        return QNetworkAccessManager::createRequest(o, r, body);
    };
    return new RetryingReply(
        d->session, create, op, outer, outgoingData, redirectPolicy(), d->gate, this);
}

} // namespace Latchkey
