// AuthClient: the sign-ins of an OpenID provider (the browser with PKCE, a device code, client
// credentials). The flows themselves are OidcSignIn's; this file starts them and hands their
// tokens to the session machinery every sign-in shares.
#include <latchkey/authclient.h>

#include "authclient_p.h"
#include "logging_p.h"

namespace Latchkey {

AuthError AuthClientPrivate::preflightOidc() const
{
    if (AuthError refused = preflight(); refused.isError())
        return refused;
    if (!oidc) {
        return AuthError(AuthError::Kind::Protocol,
            QStringLiteral("The profile \"%1\" is no OpenID Connect profile (it has no \"oidc\" "
                           "key)")
                .arg(core->profile.name()));
    }
    return AuthError();
}

void AuthClientPrivate::oidcDone(
    AuthReply *reply, quint64 op, const OidcSignIn::Outcome &outcome, OidcMetadata::Grant grant)
{
    if (op != operation)
        return; // replaced meanwhile; its reply already ended Cancelled
    if (outcome.error.isError()) {
        signInFailed(reply, outcome.error);
        return;
    }
    const bool service = grant == OidcMetadata::Grant::ClientCredentials;
    serviceMode = service;
    core->setExchangeProfile(oidc->exchangeProfile(grant));
    TokenSet tokens = outcome.tokens;
    if (service)
        tokens.refresh = oidc->clientSecret(); // the credential of the next token, memory only
    else if (!tokens.refresh.isEmpty())
        storeQueue->write(metadataKey(), oidc->metadata().toDocument());
    adoptSignIn(reply, outcome.identity, tokens, !service);
}

AuthReply *AuthClient::signInWithBrowser()
{
    auto *reply = new AuthReply(this);
    if (AuthError refused = d->preflightOidc(); refused.isError()) {
        reply->finish(refused);
        return reply;
    }
    const quint64 operation = d->beginSignIn(reply);
    qCInfo(lcAuth) << "signing in through the browser";
    d->oidc->browser([this, reply, operation](const OidcSignIn::Outcome &outcome) {
        d->oidcDone(reply, operation, outcome, OidcMetadata::Grant::AuthorizationCode);
    });
    return reply;
}

bool AuthClient::handleRedirect(const QUrl &url)
{
    return d->oidc && d->oidc->handleRedirect(url);
}

AuthReply *AuthClient::signInWithDevice()
{
    auto *reply = new AuthReply(this);
    if (AuthError refused = d->preflightOidc(); refused.isError()) {
        reply->finish(refused);
        return reply;
    }
    const quint64 operation = d->beginSignIn(reply);
    qCInfo(lcAuth) << "signing in with a device code";
    d->oidc->device([this, reply, operation](const OidcSignIn::Outcome &outcome) {
        d->oidcDone(reply, operation, outcome, OidcMetadata::Grant::AuthorizationCode);
    });
    return reply;
}

AuthReply *AuthClient::signInWithClientCredentials(const QByteArray &clientSecret)
{
    auto *reply = new AuthReply(this);
    if (AuthError refused = d->preflightOidc(); refused.isError()) {
        reply->finish(refused);
        return reply;
    }
    const quint64 operation = d->beginSignIn(reply);
    qCInfo(lcAuth) << "signing in with the client's credentials";
    d->oidc->clientCredentials(
        clientSecret, [this, reply, operation](const OidcSignIn::Outcome &o) {
            d->oidcDone(reply, operation, o, OidcMetadata::Grant::ClientCredentials);
        });
    return reply;
}

void AuthClient::setClientSecret(const QByteArray &secret)
{
    if (d->oidc)
        d->oidc->setClientSecret(secret);
}

void AuthClient::cancelSignIn()
{
    if (d->oidc && d->signInReply) {
        d->oidc->cancel(
            AuthError(AuthError::Kind::Cancelled, QStringLiteral("The sign-in was cancelled")));
    }
}

void AuthClient::setUrlOpener(std::function<bool(const QUrl &)> opener)
{
    d->urlOpener = std::move(opener);
}

void AuthClient::setRedirectTimeout(std::chrono::milliseconds timeout)
{
    if (d->oidc)
        d->oidc->setRedirectTimeout(timeout);
}

std::chrono::milliseconds AuthClient::redirectTimeout() const
{
    return d->oidc ? d->oidc->redirectTimeout() : OidcSignIn::defaultRedirectTimeout;
}

QUrl AuthClient::endSessionUrl() const
{
    return d->endSessionUrl;
}

} // namespace Latchkey
