#pragma once

#include "oidcmetadata_p.h"

#include "serverprofile_p.h"
#include <latchkey/autherror.h>

#include <QByteArray>
#include <QUrl>

namespace Latchkey {

// One authorization-code request (RFC 6749 §4.1) with PKCE (RFC 7636, S256): the secrets it
// binds the answer to — code verifier, state, nonce — fresh from the system's random source,
// the URL for the browser, and the check of the redirect that comes back.
class AuthorizationRequest
{
public:
    AuthorizationRequest() = default;
    AuthorizationRequest(const Profile::OpenIdConnect &settings, const OidcMetadata &metadata,
        const QUrl &redirectUri);

    QUrl url() const { return m_url; }
    QUrl redirectUri() const { return m_redirectUri; }
    QByteArray codeVerifier() const { return m_verifier; }
    QByteArray nonce() const { return m_nonce; }
    bool isValid() const { return !m_state.isEmpty(); }

    // 32 bytes from QRandomGenerator::system(), base64url without padding (43 characters).
    static QByteArray randomToken();
    // BASE64URL(SHA256(ASCII(verifier))), RFC 7636 §4.2.
    static QByteArray challengeFor(const QByteArray &verifier);

    // Whether \a url is a redirect to this request's redirect URI (scheme, host, port, path).
    bool isRedirect(const QUrl &url) const;
    // Whether \a redirect carries this request's state: only then is it its answer (RFC 6749
    // §10.12); anything else is someone's guess, to be ignored, not to end the sign-in.
    bool hasState(const QUrl &redirect) const;
    // Reads the redirect: the code, or why there is none. Refuses an answer to another request
    // (state), from another issuer (iss, RFC 9207, when sent) and reports the provider's error
    // (access_denied: AccessDenied; any other: Protocol with its description).
    // \a issRequired: the provider says it always names itself (RFC 9207 §3): an answer
    // without "iss" is then refused too.
    bool accept(const QUrl &redirect, const QUrl &issuer, QString *code, AuthError *error,
        bool issRequired = false) const;

private:
    QUrl m_url;
    QUrl m_redirectUri;
    QByteArray m_verifier;
    QByteArray m_state;
    QByteArray m_nonce;
};

// The provider's OAuth error (RFC 6749 §4.1.2.1, §5.2, RFC 8628 §3.5) as an AuthError.
AuthError oauthError(const QString &error, const QString &description, int httpStatus = 0);

} // namespace Latchkey
