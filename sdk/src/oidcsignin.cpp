#include "oidcsignin_p.h"

#include "devicegrant_p.h"
#include "idtoken_p.h"
#include "logging_p.h"
#include "loopbackreceiver_p.h"
#include "serverprofile_p.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QUrlQuery>

namespace Latchkey {

namespace {
// The claims about the user, without those about the token.
QJsonObject userClaims(QJsonObject claims)
{
    for (const char *key : { "iss", "aud", "exp", "iat", "nbf", "nonce", "azp", "at_hash", "c_hash",
             "auth_time", "sid", "jti" })
        claims.remove(QLatin1String(key));
    return claims;
}
} // namespace

OidcSignIn::OidcSignIn(const ServerProfile &profile, Context context, QObject *parent)
    : QObject(parent)
    , m_profile(profile)
    , m_settings(ServerProfilePrivate::of(profile).oidc)
    , m_context(std::move(context))
    , m_metadata(OidcMetadata::fromProfile(m_settings))
{
    m_redirectTimer.setMaxStep(std::chrono::milliseconds(60000));
    connect(&m_redirectTimer, &DeadlineTimer::timeout, this, [this] {
        finishWith(AuthError(AuthError::Kind::AuthorizationExpired,
            QStringLiteral("No answer came from the browser within %1 s")
                .arg(m_redirectTimeout.count() / 1000)));
    });
}

OidcSignIn::~OidcSignIn()
{
    stopFlow();
}

void OidcSignIn::setRedirectTimeout(std::chrono::milliseconds timeout)
{
    m_redirectTimeout = timeout.count() > 0 ? timeout : defaultRedirectTimeout;
}

void OidcSignIn::withMetadata(std::function<void(const AuthError &)> done)
{
    if (m_metadata.isComplete()) {
        // Endpoints the profile names are held to what discovered ones are.
        for (const QUrl &url : m_settings.endpoints) {
            if (!isSecureEndpoint(url, m_context.allowInsecureHttp())) {
                done(AuthError(AuthError::Kind::Protocol,
                    QStringLiteral("Refusing the endpoint %1 over plain http: use https, or "
                                   "allow insecure http explicitly")
                        .arg(url.toDisplayString())));
                return;
            }
        }
        done(AuthError());
        return;
    }
    if (m_settings.issuer.isEmpty() || m_settings.clientId.isEmpty()) {
        done(AuthError(AuthError::Kind::Protocol,
            QStringLiteral("The OpenID Connect profile needs an issuer (or endpoints) and a "
                           "client ID: oidc.issuer and oidc.clientId")));
        return;
    }
    const bool insecureAllowed = m_context.allowInsecureHttp();
    if (!isSecureEndpoint(m_settings.issuer, insecureAllowed)) {
        done(AuthError(AuthError::Kind::Protocol,
            QStringLiteral("Refusing the issuer %1 over plain http: use https, or allow "
                           "insecure http explicitly")
                .arg(m_settings.issuer.toDisplayString())));
        return;
    }
    m_metadataWaiters.append(std::move(done));
    if (m_discovery)
        return; // one discovery for every caller
    PreparedRequest prepared;
    prepared.request = QNetworkRequest(OidcMetadata::discoveryUrl(m_settings));
    prepared.request.setRawHeader("Accept", "application/json");
    prepared.request.setAttribute(
        QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    qCInfo(lcAuth) << "discovering" << prepared.request.url().toDisplayString();
    m_discovery = AuthCall::send(m_context.nam, "GET", prepared, m_context.settings(), this,
        [this, insecureAllowed](const HttpResult &result) {
            AuthError error;
            if (!result.succeeded()) {
                error = result.transportFailed()
                    ? AuthError(AuthError::Kind::Network,
                        QStringLiteral("The provider's discovery document could not be "
                                       "fetched: %1")
                            .arg(result.networkErrorString))
                          .setNetworkError(result.networkError)
                    : AuthError(
                        result.status >= 500 ? AuthError::Kind::Server : AuthError::Kind::Protocol,
                        QStringLiteral("The provider's discovery document could not be "
                                       "fetched: HTTP %1")
                            .arg(result.status),
                        result.status);
            } else {
                OidcMetadata::fromDiscovery(
                    m_settings, result.body, insecureAllowed, &m_metadata, &error);
            }
            if (error.isError())
                qCInfo(lcAuth) << "discovery failed:" << error.toString();
            const auto waiters = std::exchange(m_metadataWaiters, {});
            for (const auto &waiter : waiters)
                waiter(error);
        });
}

bool OidcSignIn::adoptKeptMetadata(const QByteArray &document)
{
    if (m_metadata.isComplete() || document.isEmpty())
        return m_metadata.isComplete();
    OidcMetadata kept;
    AuthError error;
    if (!OidcMetadata::fromDiscovery(
            m_settings, document, m_context.allowInsecureHttp(), &kept, &error))
        return false;
    m_metadata = kept;
    return true;
}

ServerProfile OidcSignIn::exchangeProfile(OidcMetadata::Grant grant) const
{
    return m_metadata.exchangeProfile(m_profile, m_secret, grant);
}

void OidcSignIn::stopFlow()
{
    ++m_flow;
    m_redirectTimer.stop();
    if (m_receiver) {
        m_receiver->close();
        m_receiver->deleteLater();
        m_receiver = nullptr;
    }
    if (m_device) {
        m_device->cancel();
        m_device->deleteLater();
        m_device = nullptr;
    }
    if (m_call)
        m_call->abort();
    m_call = nullptr;
    m_request = AuthorizationRequest();
}

void OidcSignIn::finish(const Outcome &outcome)
{
    Done done = std::exchange(m_done, {});
    stopFlow();
    if (done)
        done(outcome);
}

void OidcSignIn::finishWith(const AuthError &error)
{
    Outcome outcome;
    outcome.error = error;
    finish(outcome);
}

void OidcSignIn::cancel(const AuthError &why)
{
    if (m_done)
        finishWith(why);
    else
        stopFlow();
}

void OidcSignIn::begin(Done done, std::function<void(quint64 flow)> withEndpoints)
{
    cancel(AuthError(AuthError::Kind::Cancelled, QStringLiteral("Replaced by a new sign-in")));
    m_done = std::move(done);
    const quint64 flow = m_flow;
    withMetadata([this, flow, withEndpoints = std::move(withEndpoints)](const AuthError &error) {
        if (flow != m_flow)
            return;
        if (error.isError())
            finishWith(error);
        else
            withEndpoints(flow);
    });
}

void OidcSignIn::browser(Done done)
{
    begin(std::move(done), [this](quint64) {
        if (m_metadata.authorization.isEmpty()) {
            finishWith(AuthError(AuthError::Kind::Protocol,
                QStringLiteral("The provider has no authorization endpoint")));
            return;
        }
        QUrl redirect = m_settings.redirectUri;
        if (redirect.scheme() == QLatin1String("http")) {
            m_receiver = new LoopbackReceiver(this);
            QString listenError;
            if (!m_receiver->listen(redirect, &listenError)) {
                finishWith(AuthError(AuthError::Kind::Protocol, listenError));
                return;
            }
            // A request without this sign-in's state (a port scanner, another local
            // process) is answered 400 and does not take the browser's place.
            m_receiver->setFilter([this](const QUrl &url) { return m_request.hasState(url); });
            connect(m_receiver, &LoopbackReceiver::received, this, &OidcSignIn::onRedirect);
            redirect = m_receiver->redirectUri();
        }
        m_request = AuthorizationRequest(m_settings, m_metadata, redirect);
        m_redirectTimer.start(m_redirectTimeout);
        qCInfo(lcAuth) << "browser sign-in: waiting for" << redirect.toDisplayString();
        Q_EMIT openUrlRequested(m_request.url());
    });
}

bool OidcSignIn::handleRedirect(const QUrl &url)
{
    if (!m_done || !m_request.isRedirect(url))
        return false;
    if (!m_request.hasState(url)) {
        qCInfo(lcAuth) << "a redirect without this sign-in's state is ignored";
        return false;
    }
    onRedirect(url);
    return true;
}

void OidcSignIn::onRedirect(const QUrl &url)
{
    if (!m_done || !m_request.hasState(url))
        return;
    m_redirectTimer.stop();
    QString code;
    AuthError error;
    if (!m_request.accept(url, m_metadata.issuer, &code, &error, m_metadata.issInResponses)) {
        finishWith(error);
        return;
    }
    const ServerProfile exchange = exchangeProfile(OidcMetadata::Grant::AuthorizationCode);
    QJsonObject fields;
    fields.insert(QStringLiteral("code"), code);
    fields.insert(QStringLiteral("redirect_uri"), m_request.redirectUri().toString());
    fields.insert(QStringLiteral("code_verifier"), QString::fromLatin1(m_request.codeVerifier()));
    const QByteArray nonce = m_request.nonce();
    const quint64 flow = m_flow;
    m_call = AuthCall::post(m_context.nam,
        WireFormat::request(ServerProfilePrivate::of(exchange).login, QUrl(), fields),
        m_context.settings(), this, [this, flow, exchange, nonce](const HttpResult &result) {
            if (flow != m_flow)
                return;
            m_call = nullptr;
            TokenSet tokens;
            AuthError error;
            if (!result.succeeded()) {
                const QJsonValue code = WireFormat::valueAt(result.body, QStringLiteral("/error"));
                error = code.isString() && !result.transportFailed()
                    ? oauthError(code.toString(),
                        WireFormat::valueAt(result.body, QStringLiteral("/error_description"))
                            .toString(),
                        result.status)
                    : WireFormat::errorFor(exchange, result, WireFormat::Exchange::Login);
                finishWith(error);
                return;
            }
            if (!WireFormat::parseTokens(exchange, result, &tokens, &error)) {
                finishWith(error);
                return;
            }
            complete(tokens, nonce);
        });
}

void OidcSignIn::device(Done done)
{
    begin(std::move(done), [this](quint64 flow) {
        if (m_metadata.deviceAuthorization.isEmpty()) {
            finishWith(AuthError(AuthError::Kind::Protocol,
                QStringLiteral("The provider offers no device sign-in (no "
                               "device_authorization_endpoint)")));
            return;
        }
        m_device = new DeviceGrant(m_context.nam, m_context.settings(),
            exchangeProfile(OidcMetadata::Grant::AuthorizationCode), m_metadata, this);
        connect(m_device, &DeviceGrant::codeReceived, this, &OidcSignIn::deviceCodeReceived);
        connect(m_device, &DeviceGrant::failed, this, [this, flow](const AuthError &e) {
            if (flow == m_flow)
                finishWith(e);
        });
        connect(m_device, &DeviceGrant::succeeded, this, [this, flow](const TokenSet &tokens) {
            if (flow == m_flow)
                complete(tokens, QByteArray());
        });
        m_device->start();
    });
}

void OidcSignIn::clientCredentials(const QByteArray &secret, Done done)
{
    if (secret.isEmpty()) {
        cancel(AuthError(AuthError::Kind::Cancelled, QStringLiteral("Replaced by a new sign-in")));
        m_done = std::move(done);
        finishWith(AuthError(
            AuthError::Kind::InvalidCredentials, QStringLiteral("A client secret is required")));
        return;
    }
    m_secret = secret;
    begin(std::move(done), [this, secret](quint64 flow) {
        const ServerProfile exchange = exchangeProfile(OidcMetadata::Grant::ClientCredentials);
        m_call = AuthCall::post(m_context.nam, WireFormat::refresh(exchange, QUrl(), secret),
            m_context.settings(), this, [this, flow, exchange](const HttpResult &result) {
                if (flow != m_flow)
                    return;
                m_call = nullptr;
                Outcome outcome;
                if (!result.succeeded()) {
                    const QJsonValue code
                        = WireFormat::valueAt(result.body, QStringLiteral("/error"));
                    if (code == QJsonValue(QStringLiteral("invalid_client"))) {
                        outcome.error = AuthError(AuthError::Kind::InvalidCredentials,
                            QStringLiteral("The provider refused the client's credentials"),
                            result.status);
                    } else {
                        outcome.error
                            = WireFormat::errorFor(exchange, result, WireFormat::Exchange::Login);
                    }
                } else if (WireFormat::parseTokens(
                               exchange, result, &outcome.tokens, &outcome.error)) {
                    outcome.tokens.refresh.clear(); // no refresh token for a client (§4.4.3)
                    outcome.identity = m_settings.clientId;
                }
                finish(outcome);
            });
    });
}

void OidcSignIn::complete(TokenSet tokens, const QByteArray &nonce)
{
    QJsonObject claims;
    const bool wantsIdToken = m_settings.scopes.contains(QStringLiteral("openid"));
    if (tokens.idToken.isEmpty() && wantsIdToken) {
        finishWith(AuthError(AuthError::Kind::Protocol,
            QStringLiteral("The provider sent no ID token although \"openid\" was asked")));
        return;
    }
    if (!tokens.idToken.isEmpty()) {
        AuthError error;
        const IdToken::Expected expected { m_metadata.issuer.toString(), m_settings.clientId, nonce,
            QDateTime::currentSecsSinceEpoch() };
        if (!IdToken::validate(tokens.idToken, expected, &claims, &error)) {
            finishWith(error);
            return;
        }
    }
    const quint64 flow = m_flow;
    auto deliver = [this, flow, tokens, claims](const QJsonObject &info) mutable {
        if (flow != m_flow)
            return;
        QJsonObject user = userClaims(claims);
        // The userinfo answer is about the same subject or none (Core §5.3.2).
        if (!info.isEmpty()
            && (claims.isEmpty()
                || info.value(QLatin1String("sub")) == claims.value(QLatin1String("sub")))) {
            for (auto it = info.begin(); it != info.end(); ++it)
                user.insert(it.key(), it.value());
        }
        tokens.user = user;
        Outcome outcome;
        outcome.tokens = tokens;
        outcome.identity = identityOf(user);
        if (outcome.identity.isEmpty()) {
            outcome.error = AuthError(AuthError::Kind::Protocol,
                QStringLiteral("The provider named no user (none of %1)")
                    .arg(m_settings.identityClaims.join(QStringLiteral(", "))));
        }
        finish(outcome);
    };
    if (m_metadata.userinfo.isEmpty()) {
        deliver(QJsonObject());
        return;
    }
    userinfo(tokens.access, [deliver](const QJsonObject &info, const AuthError &error) mutable {
        if (error.isError())
            qCInfo(lcAuth) << "userinfo failed, the ID token's claims stand:" << error.toString();
        deliver(info);
    });
}

void OidcSignIn::userinfo(
    const QByteArray &accessToken, std::function<void(const QJsonObject &, const AuthError &)> done)
{
    if (m_metadata.userinfo.isEmpty()) {
        done(QJsonObject(),
            AuthError(AuthError::Kind::Protocol,
                QStringLiteral("The provider has no userinfo endpoint")));
        return;
    }
    PreparedRequest prepared;
    prepared.request = QNetworkRequest(m_metadata.userinfo);
    prepared.request.setRawHeader("Accept", "application/json");
    prepared.request.setRawHeader("Authorization", "Bearer " + accessToken);
    prepared.request.setAttribute(
        QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    AuthCall::send(m_context.nam, "GET", prepared, m_context.settings(), this,
        [this, done](const HttpResult &result) {
            if (!result.succeeded()) {
                done(QJsonObject(),
                    WireFormat::errorFor(m_profile, result, WireFormat::Exchange::Me));
                return;
            }
            const QJsonDocument doc = QJsonDocument::fromJson(result.body);
            if (!doc.isObject()) {
                done(QJsonObject(),
                    AuthError(AuthError::Kind::Protocol,
                        QStringLiteral("The userinfo answer is not a JSON object")));
                return;
            }
            done(doc.object(), AuthError());
        });
}

QJsonObject OidcSignIn::userFromIdToken(const QByteArray &idToken, const QString &subject) const
{
    QJsonObject claims;
    AuthError error;
    const IdToken::Expected expected { m_metadata.issuer.toString(), m_settings.clientId,
        QByteArray(), QDateTime::currentSecsSinceEpoch() };
    if (!IdToken::validate(idToken, expected, &claims, &error)) {
        qCInfo(lcAuth) << "a refreshed ID token is ignored:" << error.message();
        return QJsonObject();
    }
    if (!subject.isEmpty() && claims.value(QLatin1String("sub")).toString() != subject) {
        qCWarning(lcAuth) << "a refreshed ID token is ignored: it names another user (sub)";
        return QJsonObject();
    }
    return userClaims(claims);
}

QString OidcSignIn::identityOf(const QJsonObject &user) const
{
    for (const QString &claim : m_settings.identityClaims) {
        const QJsonValue v = user.value(claim);
        if (v.isString() && !v.toString().isEmpty())
            return v.toString();
    }
    return QString();
}

QUrl OidcSignIn::endSessionUrl(const QByteArray &idToken) const
{
    if (m_metadata.endSession.isEmpty())
        return QUrl();
    QUrl url = m_metadata.endSession;
    QUrlQuery query(url);
    if (!idToken.isEmpty())
        query.addQueryItem(QStringLiteral("id_token_hint"), QString::fromLatin1(idToken));
    query.addQueryItem(QStringLiteral("client_id"), m_settings.clientId);
    if (!m_settings.postLogoutRedirectUri.isEmpty()) {
        query.addQueryItem(QStringLiteral("post_logout_redirect_uri"),
            QString::fromLatin1(
                QUrl::toPercentEncoding(m_settings.postLogoutRedirectUri.toString())));
    }
    url.setQuery(query);
    return url;
}

} // namespace Latchkey
