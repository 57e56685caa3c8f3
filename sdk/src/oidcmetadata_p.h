#pragma once

#include "serverprofile_p.h"
#include <latchkey/autherror.h>

#include <QByteArray>
#include <QJsonObject>
#include <QUrl>

namespace Latchkey {

// What Latchkey needs of an OpenID provider: its issuer and endpoints, from its discovery
// document (OpenID Connect Discovery 1.0, RFC 8414) and the profile's own "oidc.endpoints".
struct OidcMetadata
{
    QUrl issuer;
    QUrl authorization;
    QUrl token;
    QUrl deviceAuthorization;
    QUrl userinfo;
    QUrl revocation;
    QUrl endSession;
    // RFC 9207: the provider names itself in every authorization response ("iss").
    bool issInResponses = false;

    bool isComplete() const { return token.isValid() && !token.isEmpty(); }

    // The discovery document of \a settings' issuer.
    static QUrl discoveryUrl(const Profile::OpenIdConnect &settings);
    // The profile's endpoints alone: complete when they name the token endpoint.
    static OidcMetadata fromProfile(const Profile::OpenIdConnect &settings);
    // Reads a discovery document. Its "issuer" must be the configured one exactly (Discovery
    // §4.3: otherwise another provider could pose as it); every endpoint must be an absolute
    // https URL (http only to loopback, or when \a allowInsecureHttp). The profile's endpoints
    // override the document's. False with a Protocol error naming what is wrong.
    static bool fromDiscovery(const Profile::OpenIdConnect &settings, const QByteArray &document,
        bool allowInsecureHttp, OidcMetadata *metadata, AuthError *error);

    // As a discovery document of its own (what fromDiscovery() reads back): kept in the token
    // store beside a session, so a restore without network needs no discovery.
    QByteArray toDocument() const;

    // The profile the exchanges speak for this provider: the token endpoint for sign-in and
    // refresh (client credentials: its own grant, with \a clientSecret as the credential),
    // revocation for sign-out, userinfo as "me".
    enum class Grant { AuthorizationCode, ClientCredentials };
    ServerProfile exchangeProfile(
        const ServerProfile &profile, const QByteArray &clientSecret, Grant grant) const;
};

// Whether \a url may carry a credential: https, or plain http to loopback or when allowed.
bool isSecureEndpoint(const QUrl &url, bool allowInsecureHttp);

} // namespace Latchkey
