#pragma once

#include "authcall_p.h"
#include "authorizationrequest_p.h"
#include "clock_p.h"
#include "oidcmetadata_p.h"
#include "serverprofile_p.h"

#include <latchkey/deviceauthorization.h>

#include <QObject>
#include <QPointer>

#include <functional>

class QNetworkAccessManager;

namespace Latchkey {

class DeviceGrant;
class LoopbackReceiver;

// The sign-ins of an OpenID provider, up to the tokens: discovery (once, then kept), the
// browser with PKCE and its loopback or app-delivered redirect, the device grant, client
// credentials; the ID token's checks and the user from it and the userinfo endpoint. What
// happens to the tokens — the session, the keychain — is AuthClient's, as for any sign-in.
// One flow at a time: a new one, or cancel(), ends the one in progress.
class OidcSignIn : public QObject
{
    Q_OBJECT
public:
    struct Context
    {
        QNetworkAccessManager *nam = nullptr;
        std::function<AuthCall::Settings()> settings;
        std::function<bool()> allowInsecureHttp;
    };
    struct Outcome
    {
        AuthError error;
        TokenSet tokens; // tokens.user: the ID token's claims and the userinfo answer
        QString identity;
    };
    using Done = std::function<void(const Outcome &)>;

    OidcSignIn(const ServerProfile &profile, Context context, QObject *parent = nullptr);
    ~OidcSignIn() override;

    void setClientSecret(const QByteArray &secret) { m_secret = secret; }
    QByteArray clientSecret() const { return m_secret; }
    void setRedirectTimeout(std::chrono::milliseconds timeout);
    std::chrono::milliseconds redirectTimeout() const { return m_redirectTimeout; }
    static constexpr std::chrono::milliseconds defaultRedirectTimeout { 5 * 60 * 1000 };

    // The provider's endpoints: from the profile, else its discovery document (fetched once).
    void withMetadata(std::function<void(const AuthError &)> done);
    bool hasMetadata() const { return m_metadata.isComplete(); }
    OidcMetadata metadata() const { return m_metadata; }
    ServerProfile exchangeProfile(OidcMetadata::Grant grant) const;
    // Metadata kept from an earlier discovery (OidcMetadata::toDocument()), checked as a
    // discovery document is; false (nothing changed) when it does not pass.
    bool adoptKeptMetadata(const QByteArray &document);

    void browser(Done done);
    // A redirect the application received (private-use URI scheme): true when it belongs to
    // the browser sign-in in progress — its redirect URI and its state — (it is then handled);
    // false leaves the sign-in waiting (a forged or stale redirect cannot end it).
    bool handleRedirect(const QUrl &url);
    void device(Done done);
    void clientCredentials(const QByteArray &secret, Done done);
    // Ends the flow in progress with \a why (its Done is called).
    void cancel(const AuthError &why);
    bool isRunning() const { return bool(m_done); }

    // The user from the userinfo endpoint with \a accessToken (sent to it on purpose).
    void userinfo(const QByteArray &accessToken,
        std::function<void(const QJsonObject &, const AuthError &)> done);
    // The provider's end-session URL (RP-initiated logout) for a session whose ID token was
    // \a idToken; empty when the provider has none.
    QUrl endSessionUrl(const QByteArray &idToken) const;
    // The user an ID token names (from a refresh: its iss and aud checked, no nonce, and its
    // sub must be \a subject when that is known: Core §12.2); empty when it does not pass.
    QJsonObject userFromIdToken(const QByteArray &idToken, const QString &subject) const;
    // identity(): the first of the profile's identity claims present in \a user.
    QString identityOf(const QJsonObject &user) const;

Q_SIGNALS:
    void openUrlRequested(const QUrl &url);
    void deviceCodeReceived(const Latchkey::DeviceAuthorization &code);

private:
    // Starts a flow: ends the one in progress (Cancelled), then, once the endpoints are known,
    // runs \a withEndpoints with the flow's number (its callbacks compare against it).
    void begin(Done done, std::function<void(quint64 flow)> withEndpoints);
    void finish(const Outcome &outcome);
    void finishWith(const AuthError &error);
    void onRedirect(const QUrl &url);
    // Tokens from the token endpoint: the ID token checked (its nonce, when \a nonce is set),
    // the user read, the outcome delivered.
    void complete(TokenSet tokens, const QByteArray &nonce);
    void stopFlow();

    ServerProfile m_profile;
    Profile::OpenIdConnect m_settings;
    Context m_context;
    OidcMetadata m_metadata;
    QByteArray m_secret;
    std::chrono::milliseconds m_redirectTimeout = defaultRedirectTimeout;
    QList<std::function<void(const AuthError &)>> m_metadataWaiters;
    QPointer<AuthCall> m_discovery;

    Done m_done; // of the flow in progress
    quint64 m_flow = 0; // each flow's number: a callback of an older one is stale
    AuthorizationRequest m_request;
    LoopbackReceiver *m_receiver = nullptr;
    DeviceGrant *m_device = nullptr;
    DeadlineTimer m_redirectTimer;
    QPointer<AuthCall> m_call;
};

} // namespace Latchkey
