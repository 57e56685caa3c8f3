#pragma once

#include <QHttpServerResponse>
#include <QMap>
#include <QStringList>

#include <optional>

class AuthService;
class QHttpServerRequest;

// RFC 6749 token endpoint and RFC 7009 revocation endpoint, served beside every dialect:
//   POST /oauth/token   grant_type=password (username, password) | refresh_token (refresh_token)
//   POST /oauth/revoke  token, token_type_hint?
// Form-encoded requests; public clients identified by client_id (in the body, or as the user of
// HTTP Basic with an empty password). Answers and errors as the RFCs say, with
// Cache-Control: no-store.
class OAuth2Endpoint
{
public:
    OAuth2Endpoint(AuthService &auth, QStringList clientIds);

    // std::nullopt for any path other than the two above.
    std::optional<QHttpServerResponse> handle(const QHttpServerRequest &request);

    static QHttpServerResponse error(int status, const QString &code, const QString &description);

private:
    using Form = QMap<QString, QString>;
    QHttpServerResponse token(const QHttpServerRequest &request, const Form &form);
    QHttpServerResponse revoke(const QHttpServerRequest &request, const Form &form);
    // Empty when the client is acceptable; otherwise the error response to send.
    std::optional<QHttpServerResponse> checkClient(
        const QHttpServerRequest &request, const Form &form);

    AuthService &m_auth;
    QStringList m_clientIds;
};
