#pragma once

#include <latchkey/autherror.h>
#include <latchkey/latchkey_export.h>

#include <QNetworkAccessManager>

#include <memory>

namespace Latchkey {

class AuthClient;
class AuthorizedNetworkAccessManagerPrivate;

/*!
    A drop-in QNetworkAccessManager. Requests to the origin (scheme, host, port) of the client's
    base URL carry the access token; requests anywhere else never do, and a redirect to another
    origin drops it. A token about to expire is refreshed before the request goes out; a 401
    to a request that carried a token causes one refresh (shared by every waiting request, on
    every thread) and one replay, body included. The caller holds one QNetworkReply and sees
    only the final answer.

    May be constructed on any thread while the client exists; all managers of one client share
    its session. When the session ends (rejected refresh, sign-out) waiting requests finish with
    QNetworkReply::AuthenticationRequiredError, and authError() tells why.

    A request that sets its own Authorization header is passed through untouched. Requests to
    the origin without an SSL configuration of their own get the client's
    (AuthClient::setSslConfiguration()).
*/
class LATCHKEY_EXPORT AuthorizedNetworkAccessManager : public QNetworkAccessManager
{
    Q_OBJECT
public:
    /*! A manager whose requests to \a client's origin go through \a client's session. Use
        AuthClient::networkAccessManager() on the client's own thread. */
    explicit AuthorizedNetworkAccessManager(AuthClient *client, QObject *parent = nullptr);
    /*! Replies still running are deleted with the manager, as with QNetworkAccessManager. */
    ~AuthorizedNetworkAccessManager() override;

    /*! The Latchkey error behind a reply of this manager that failed because of the session
        (SessionExpired, NotSignedIn, Network during refresh, …); NoError otherwise. */
    static AuthError authError(const QNetworkReply *reply);

protected:
    /*! Authorizes requests to the client's origin as described above; passes others to
        QNetworkAccessManager::createRequest(). A subclass that overrides it calls this one. */
    QNetworkReply *createRequest(
        Operation op, const QNetworkRequest &request, QIODevice *outgoingData) override;

private:
    std::unique_ptr<AuthorizedNetworkAccessManagerPrivate> const d;
};

} // namespace Latchkey
