#include <latchkey/authclient.h>
#include <latchkey/credentialsprovider.h>
#include <latchkey/keychaintokenstore.h>

#include "authcall_p.h"
#include "authclient_p.h"
#include "clock_p.h"
#include "jsonpointer_p.h"
#include "logging_p.h"
#include "serverprofile_p.h"
#include "wireformat_p.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QMetaEnum>

namespace Latchkey {

// --- AuthClientPrivate -------------------------------------------------------------------

AuthClientPrivate::AuthClientPrivate(
    AuthClient *q, const ServerProfile &profile, const QUrl &baseUrl)
    : q(q)
    , core(std::make_shared<SessionCore>(profile, baseUrl))
    , coordinator(new RefreshCoordinator(core, q))
    , authNam(new QNetworkAccessManager(q))
    , storeQueue(new StoreQueue(q))
    , autoSignIn(new AutoSignIn(q))
{
    authNam->setCookieJar(nullptr);
    if (profile.isOpenIdConnect()) {
        oidc = new OidcSignIn(profile,
            { authNam, [this] { return callSettings(); },
                [this] { return core->allowsInsecureHttp(); } },
            q);
    }
}

std::shared_ptr<SessionCore> AuthClientPrivate::sessionOf(const AuthClient *client)
{
    return client ? client->d->core : nullptr;
}

QString AuthClientPrivate::lastIdentityKey() const
{
    QString key = core->profile.name() + QLatin1Char(' ')
        + core->baseUrl.toString(QUrl::StripTrailingSlash | QUrl::RemoveUserInfo);
    if (core->profile.isOpenIdConnect()) {
        // One API may be signed in to through several providers or clients.
        const Profile::OpenIdConnect settings = ServerProfilePrivate::of(core->profile).oidc;
        key += QLatin1Char(' ') + settings.issuer.toString() + QLatin1Char(' ') + settings.clientId;
    }
    return key;
}

QString AuthClientPrivate::tokenKey(const QString &id) const
{
    return lastIdentityKey() + QLatin1Char(' ') + id;
}

TokenStore *AuthClientPrivate::ensureStore()
{
    if (!store) {
        store = new KeychainTokenStore(q);
        storeQueue->setStore(store);
    }
    return store;
}

AuthError AuthClientPrivate::preflight() const
{
    if (!core->profile.isValid())
        return AuthError(
            AuthError::Kind::Protocol, QStringLiteral("The server profile is not valid"));
    const QUrl &url = core->baseUrl;
    if (!url.isValid() || url.host().isEmpty())
        return AuthError(AuthError::Kind::Protocol,
            QStringLiteral("The base URL \"%1\" is not valid").arg(url.toDisplayString()));
    if (!core->authorizes(url)) {
        return AuthError(AuthError::Kind::Protocol,
            QStringLiteral("Refusing to send credentials to %1 over plain http: use "
                           "https, or allow insecure http explicitly")
                .arg(url.toDisplayString()));
    }
    return AuthError();
}

AuthCall::Settings AuthClientPrivate::callSettings() const
{
    return { coordinator->authTimeout(), core->sslConfiguration() };
}

void AuthClientPrivate::setState(AuthClient::State newState)
{
    if (state == newState)
        return;
    const bool wasBusy = q->isBusy();
    state = newState;
    qCDebug(lcAuth) << "state" << newState;
    Q_EMIT q->stateChanged(newState);
    if (wasBusy != q->isBusy())
        Q_EMIT q->busyChanged(q->isBusy());
}

void AuthClientPrivate::setOnline(bool newOnline)
{
    if (online == newOnline)
        return;
    online = newOnline;
    qCInfo(lcAuth) << (online ? "online: the server confirmed the session"
                              : "offline: the session is kept, not confirmed by the server");
    Q_EMIT q->onlineChanged();
}

QString AuthClientPrivate::userKey(const QString &id) const
{
    return QStringLiteral("user ") + tokenKey(id);
}

void AuthClientPrivate::setUser(const QJsonObject &newUser)
{
    if (newUser == user)
        return;
    user = newUser;
    Q_EMIT q->userChanged();
    // Kept beside the refresh token (the same store: it is personal data), so a start without
    // network still knows who is signed in.
    if (!identity.isEmpty() && !user.isEmpty() && store && !serviceMode)
        storeQueue->write(userKey(identity), QJsonDocument(user).toJson(QJsonDocument::Compact));
}

void AuthClientPrivate::setIdentity(const QString &newIdentity)
{
    if (identity == newIdentity)
        return;
    identity = newIdentity;
    Q_EMIT q->identityChanged();
}

void AuthClientPrivate::applyTokenDetails(const TokenSet &tokens)
{
    QJsonObject newUser = tokens.user;
    if (newUser.isEmpty() && !user.isEmpty())
        newUser = user; // a refresh answer without the user keeps the one we have
    if (newUser.isEmpty() && !tokens.claims.isEmpty()) {
        // Display-only fallback from the (unverified) claims.
        for (const char *key : { "sub", "email", "name", "roles", "role" }) {
            const QJsonValue v = tokens.claims.value(QLatin1String(key));
            if (!v.isUndefined())
                newUser.insert(QLatin1String(key), v);
        }
    }
    setUser(newUser);
    if (tokens.claims != claims) {
        claims = tokens.claims;
        Q_EMIT q->claimsChanged();
    }
    const QDateTime newExpiry = tokens.lifetimeMs < 0
        ? QDateTime()
        : QDateTime::currentDateTimeUtc().addMSecs(tokens.lifetimeMs);
    if (newExpiry != expiresAt) {
        expiresAt = newExpiry;
        Q_EMIT q->expiresAtChanged();
    }
}

void AuthClientPrivate::clearDetails()
{
    setOnline(true); // nothing kept that the server did not confirm
    if (!user.isEmpty()) {
        user = QJsonObject();
        Q_EMIT q->userChanged();
    }
    if (!claims.isEmpty()) {
        claims = QJsonObject();
        Q_EMIT q->claimsChanged();
    }
    if (expiresAt.isValid()) {
        expiresAt = QDateTime();
        Q_EMIT q->expiresAtChanged();
    }
}

void AuthClientPrivate::persist(const TokenSet &tokens, TokenStore::DoneCallback done)
{
    ensureStore();
    if (tokens.refresh.isEmpty()) {
        if (done)
            done(AuthError());
        return;
    }
    // Two writes; the session is kept only if both are: report the first that failed.
    QPointer<AuthClient> guard(q);
    auto first = std::make_shared<AuthError>();
    storeQueue->write(tokenKey(identity), tokens.refresh, [first](const AuthError &error) {
        if (error.isError())
            *first = error;
    });
    storeQueue->write(
        lastIdentityKey(), identity.toUtf8(), [this, guard, first, done](const AuthError &error) {
            if (error.isError() && !first->isError())
                *first = error;
            if (guard && first->isError())
                lastStoreError = *first;
            if (done)
                done(*first);
        });
}

AuthError AuthClientPrivate::takeStoreError()
{
    const AuthError error = lastStoreError;
    lastStoreError = AuthError();
    return error;
}

void AuthClientPrivate::supersedePending(const QString &why)
{
    ++operation;
    coordinator->releaseAhead(); // a superseded restore's lock, taken before its read
    const AuthError cancelled(AuthError::Kind::Cancelled, why);
    if (oidc)
        oidc->cancel(cancelled); // its callback is stale now: it only stops listening
    finishRestore(cancelled);
    if (!autoSignIn->isCalling()) // a sign-in by itself is replaced, not the one it makes
        autoSignIn->stop(cancelled);
    if (signInReply)
        signInReply->finish(cancelled);
    signInReply = nullptr;
}

bool AuthClientPrivate::signInByItself(bool afterRejection)
{
    if (!autoSignIn->provider() || ServerProfilePrivate::of(core->profile).login.path.isEmpty()
        || serviceMode)
        return false;
    // The restore's replies end with the first attempt's outcome: signed in, or why not yet
    // (the attempts go on with backoff while the server is down).
    const auto replies = std::exchange(restoreReplies, {});
    autoSignIn->start(afterRejection, [replies](const AuthError &error) {
        for (const QPointer<AuthReply> &reply : replies) {
            if (reply)
                reply->finish(error);
        }
    });
    return true;
}

void AuthClientPrivate::noteError(const AuthError &error)
{
    lastError = error;
    lastErrorMs = Clock::instance()->wallMs();
}

void AuthClientPrivate::finishRestore(const AuthError &error)
{
    const auto replies = std::exchange(restoreReplies, {});
    for (const QPointer<AuthReply> &reply : replies) {
        if (reply)
            reply->finish(error);
    }
}

void AuthClientPrivate::wipe(const QString &id, TokenStore::DoneCallback done)
{
    ensureStore();
    if (!id.isEmpty()) {
        storeQueue->remove(tokenKey(id));
        storeQueue->remove(userKey(id));
    }
    if (oidc)
        storeQueue->remove(metadataKey());
    storeQueue->remove(lastIdentityKey(), std::move(done));
}

QString AuthClientPrivate::sharedLockName(const QString &id) const
{
    if (!store || store->sharedName().isEmpty() || id.isEmpty() || serviceMode)
        return QString();
    return store->sharedName() + QLatin1Char('\n') + tokenKey(id);
}

void AuthClientPrivate::readStoredSession(const QString &identity,
    std::function<void(const QString &, const QByteArray &, const AuthError &)> done,
    bool lockAhead)
{
    QPointer<AuthClient> guard(q);
    auto readToken = [this, guard, done, lockAhead](const QString &id) {
        auto read = [this, guard, done, id] {
            storeQueue->read(
                tokenKey(id), [guard, done, id](const QByteArray &secret, const AuthError &error) {
                    if (guard)
                        done(id, secret, error);
                });
        };
        const QString lockName = lockAhead ? sharedLockName(id) : QString();
        if (lockName.isEmpty()) {
            read();
            return;
        }
        coordinator->lockAhead(lockName, [guard, read](bool) {
            if (guard)
                read();
        });
    };
    if (!identity.isEmpty()) {
        readToken(identity);
        return;
    }
    storeQueue->read(lastIdentityKey(),
        [guard, done, readToken](const QByteArray &secret, const AuthError &error) {
            if (!guard)
                return;
            if (error.isError() || secret.isEmpty())
                done(QString(), QByteArray(), error);
            else
                readToken(QString::fromUtf8(secret));
        });
}

namespace {
// The core's reason and the public one are the same list: converted at the facade.
static_assert(int(RefreshReason::Proactive) == int(AuthClient::RefreshReason::Proactive)
    && int(RefreshReason::Unauthorized) == int(AuthClient::RefreshReason::Unauthorized)
    && int(RefreshReason::Restore) == int(AuthClient::RefreshReason::Restore)
    && int(RefreshReason::Freshness) == int(AuthClient::RefreshReason::Freshness)
    && int(RefreshReason::Reconnect) == int(AuthClient::RefreshReason::Reconnect)
    && int(RefreshReason::Resume) == int(AuthClient::RefreshReason::Resume));
AuthClient::RefreshReason toPublic(RefreshReason reason)
{
    return AuthClient::RefreshReason(int(reason));
}
} // namespace

void AuthClientPrivate::onRefreshed(const TokenSet &tokens, RefreshReason reason)
{
    const bool restoring = state == AuthClient::State::Restoring;
    if (oidc && !tokens.idToken.isEmpty()) {
        // A refreshed ID token is about the same user or it is not taken (OpenID Connect Core
        // §12.2): neither shown nor kept as the end-session hint.
        const QJsonObject fromIdToken
            = oidc->userFromIdToken(tokens.idToken, user.value(QLatin1String("sub")).toString());
        if (!fromIdToken.isEmpty()) {
            idToken = tokens.idToken;
            if (tokens.user.isEmpty()) {
                TokenSet withUser = tokens;
                withUser.user = fromIdToken;
                applyTokenDetails(withUser);
            }
        }
    } else if (!tokens.idToken.isEmpty()) {
        idToken = tokens.idToken;
    }
    if (!tokens.refresh.isEmpty() && !serviceMode) {
        ensureStore();
        storeQueue->write(tokenKey(identity), tokens.refresh,
            [this, guard = QPointer<AuthClient>(q)](const AuthError &error) {
                if (guard && error.isError())
                    lastStoreError = error;
            });
    }
    applyTokenDetails(tokens);
    ++refreshesOk;
    lastRefreshMs = Clock::instance()->wallMs();
    setOnline(true);
    if (state != AuthClient::State::SignedIn && state != AuthClient::State::SigningOut)
        setState(AuthClient::State::SignedIn);
    Q_EMIT q->tokenRefreshed(toPublic(reason));
    if (restoring)
        Q_EMIT q->sessionRestored();
}

void AuthClientPrivate::onRejected(const AuthError &error, RefreshReason reason)
{
    const bool wasActive = state == AuthClient::State::SignedIn;
    ++refreshesFailed;
    noteError(error);
    wipe(identity, {});
    clearDetails();
    setState(AuthClient::State::SignedOut);
    if (wasActive && reason != RefreshReason::Restore && !expiredSignalled) {
        expiredSignalled = true;
        qCInfo(lcAuth) << "session expired:" << error.message();
        Q_EMIT q->sessionExpired(error);
    }
    // A service signs in again by itself, unless a slot of sessionExpired() already did or
    // signed out (a rejection at restore() is the restore's to handle).
    if (wasActive && reason != RefreshReason::Restore && state == AuthClient::State::SignedOut
        && !signInReply)
        signInByItself(true);
}

// --- AuthClient --------------------------------------------------------------------------

AuthClient::AuthClient(const ServerProfile &profile, const QUrl &baseUrl, QObject *parent)
    : QObject(parent)
    , d(new AuthClientPrivate(this, profile, baseUrl))
{
    qRegisterMetaType<Latchkey::AuthError>();
    qRegisterMetaType<Latchkey::TokenSet>();
    connect(d->coordinator, &RefreshCoordinator::refreshed, this,
        [this](const TokenSet &tokens, Latchkey::RefreshReason reason) {
            d->onRefreshed(tokens, reason);
        });
    connect(d->coordinator, &RefreshCoordinator::rejected, this,
        [this](const AuthError &error, Latchkey::RefreshReason reason) {
            d->onRejected(error, reason);
        });
    connect(d->coordinator, &RefreshCoordinator::failedTransiently, this,
        [this](const AuthError &error) {
            ++d->refreshesFailed;
            d->noteError(error);
            if (d->core->isOffline() && d->state == State::SignedIn)
                d->setOnline(false);
            Q_EMIT refreshFailed(error);
        });
    connect(d->coordinator, &RefreshCoordinator::retrying, this, &AuthClient::refreshRetrying);
    connect(d->autoSignIn, &AutoSignIn::retrying, this, &AuthClient::signInRetrying);
    connect(d->autoSignIn, &AutoSignIn::gaveUp, this, &AuthClient::credentialsRejected);
    if (d->oidc) {
        qRegisterMetaType<Latchkey::DeviceAuthorization>();
        connect(d->oidc, &OidcSignIn::openUrlRequested, this, [this](const QUrl &url) {
            Q_EMIT openUrlRequested(url);
            if (d->urlOpener && !d->urlOpener(url)) {
                d->oidc->cancel(AuthError(AuthError::Kind::Protocol,
                    QStringLiteral("The browser could not be opened for the sign-in")));
            }
        });
        connect(d->oidc, &OidcSignIn::deviceCodeReceived, this, &AuthClient::deviceCodeReceived);
    }
    d->coordinator->setSharedStore({
        [this]() -> QString { return d->sharedLockName(d->identity); },
        [this](std::function<void(const QByteArray &)> done) {
            d->storeQueue->read(d->tokenKey(d->identity),
                [done = std::move(done)](
                    const QByteArray &secret, const AuthError &) { done(secret); });
        },
        [this](std::function<void()> done) { d->storeQueue->whenIdle(std::move(done)); },
    });
}

AuthClient::~AuthClient()
{
    // Managers on other threads may outlive us: they keep the SessionCore, which now answers
    // every waiter with NotSignedIn and authorizes nothing.
    delete d->coordinator;
}

ServerProfile AuthClient::profile() const
{
    return d->core->profile;
}
QUrl AuthClient::baseUrl() const
{
    return d->core->baseUrl;
}

void AuthClient::setTokenStore(TokenStore *store)
{
    if (store && !store->parent())
        store->setParent(this);
    d->store = store;
    d->storeQueue->setStore(store);
}

TokenStore *AuthClient::tokenStore() const
{
    return d->ensureStore();
}

void AuthClient::setRefreshLeadTime(std::chrono::milliseconds lead)
{
    d->coordinator->setLeadTime(lead);
}

std::chrono::milliseconds AuthClient::refreshLeadTime() const
{
    return d->coordinator->leadTime();
}

void AuthClient::setRefreshRetry(int maxAttempts, std::chrono::milliseconds initialDelay)
{
    d->coordinator->setRetry(maxAttempts, initialDelay);
}

void AuthClient::setAllowInsecureHttp(bool allow)
{
    d->core->setAllowInsecureHttp(allow);
}
bool AuthClient::allowsInsecureHttp() const
{
    return d->core->allowsInsecureHttp();
}

bool AuthClient::isOnline() const
{
    return d->online;
}

void AuthClient::setSslConfiguration(const QSslConfiguration &configuration)
{
    d->core->setSslConfiguration(configuration);
}

QSslConfiguration AuthClient::sslConfiguration() const
{
    return d->core->sslConfiguration();
}

void AuthClient::setAuthTimeout(std::chrono::milliseconds timeout)
{
    d->coordinator->setAuthTimeout(timeout);
}

std::chrono::milliseconds AuthClient::authTimeout() const
{
    return d->coordinator->authTimeout();
}

void AuthClient::setRefreshTimeout(std::chrono::milliseconds timeout)
{
    d->coordinator->setRefreshTimeout(timeout);
}

std::chrono::milliseconds AuthClient::refreshTimeout() const
{
    return d->coordinator->refreshTimeout();
}

AuthClient::State AuthClient::state() const
{
    return d->state;
}

bool AuthClient::isBusy() const
{
    return d->state == State::Restoring || d->state == State::SigningIn
        || d->state == State::SigningOut;
}

QString AuthClient::identity() const
{
    return d->identity;
}
QJsonObject AuthClient::user() const
{
    return d->user;
}
QJsonObject AuthClient::claims() const
{
    return d->claims;
}
QDateTime AuthClient::expiresAt() const
{
    return d->expiresAt;
}

namespace {

// Strings at the first pointer that resolves, in the user object first, then the claims: a
// list, or a single string (schedule-manager's "role").
QStringList stringsAt(
    const QJsonObject &user, const QJsonObject &claims, const QStringList &pointers)
{
    for (const QJsonObject &source : { user, claims }) {
        for (const QString &pointer : pointers) {
            const QJsonValue v = JsonPointer::resolve(source, pointer);
            if (v.isString())
                return { v.toString() };
            if (v.isArray()) {
                QStringList result;
                for (const QJsonValue &item : v.toArray())
                    result << item.toString();
                return result;
            }
        }
    }
    return {};
}

} // namespace

QStringList AuthClient::roles() const
{
    return stringsAt(d->user, d->claims, ServerProfilePrivate::of(d->core->profile).rolesPointers);
}

bool AuthClient::hasRole(const QString &role) const
{
    return roles().contains(role);
}

QStringList AuthClient::permissions() const
{
    return stringsAt(
        d->user, d->claims, { ServerProfilePrivate::of(d->core->profile).permissionsPointer });
}

bool AuthClient::hasPermission(const QString &permission) const
{
    return permissions().contains(permission);
}

quint64 AuthClientPrivate::beginSignIn(AuthReply *reply)
{
    supersedePending(QStringLiteral("Replaced by a new sign-in"));
    ensureStore();
    coordinator->stop();
    core->supersede(
        AuthError(AuthError::Kind::Cancelled, QStringLiteral("Replaced by a new sign-in")));
    clearDetails(); // nothing of the previous user stays on show for the next one
    idToken.clear();
    setState(AuthClient::State::SigningIn);
    signInReply = reply;
    return operation;
}

void AuthClientPrivate::adoptSignIn(
    AuthReply *reply, const QString &id, const TokenSet &tokens, bool keep)
{
    signInReply = nullptr;
    expiredSignalled = false;
    if (!tokens.idToken.isEmpty())
        idToken = tokens.idToken;
    setIdentity(id);
    ++signIns;
    coordinator->startSession(tokens);
    applyTokenDetails(tokens);
    setState(AuthClient::State::SignedIn);
    qCInfo(lcAuth) << "signed in, access token" << redacted(tokens.access);
    Q_EMIT q->signedIn();
    if (!keep) {
        reply->finish();
        return;
    }
    if (tokens.refresh.isEmpty()) {
        // Legitimate (servers without refresh tokens): the session lives as long as the access
        // token, in this process only.
        qCWarning(lcAuth) << "signed in without a refresh token: the session ends"
                          << "with the access token and cannot be restored";
        reply->finish();
        return;
    }
    // Success only for a session the store kept; otherwise the session lives in memory and the
    // reply says why it will not survive a restart.
    persist(tokens, [reply](const AuthError &storeError) { reply->finish(storeError); });
}

void AuthClientPrivate::signInFailed(AuthReply *reply, const AuthError &error)
{
    signInReply = nullptr;
    ++signInFailures;
    noteError(error);
    qCInfo(lcAuth) << "sign-in failed:" << error.toString();
    setState(AuthClient::State::SignedOut);
    reply->finish(error);
}

AuthReply *AuthClient::signIn(const QString &identity, const QString &password)
{
    auto *reply = new AuthReply(this);
    const QString id = identity.trimmed();
    if (AuthError refused = d->preflight(); refused.isError()) {
        reply->finish(refused);
        return reply;
    }
    if (ServerProfilePrivate::of(d->core->profile).login.path.isEmpty()) {
        reply->finish(AuthError(AuthError::Kind::Protocol,
            QStringLiteral("The profile \"%1\" has no password sign-in: sign in with the "
                           "browser, a device code or client credentials")
                .arg(d->core->profile.name())));
        return reply;
    }
    if (id.isEmpty() || password.isEmpty()) {
        reply->finish(AuthError(AuthError::Kind::InvalidCredentials,
            QStringLiteral("An identity and a password are required")));
        return reply;
    }
    const quint64 operation = d->beginSignIn(reply);
    d->serviceMode = false;
    d->core->setExchangeProfile(d->core->profile);
    qCInfo(lcAuth) << "signing in to" << d->core->baseUrl.toDisplayString();
    AuthCall::post(d->authNam, WireFormat::login(d->core->profile, d->core->baseUrl, id, password),
        d->callSettings(), this, [this, reply, id, operation](const HttpResult &result) {
            if (operation != d->operation)
                return; // replaced meanwhile; its reply already ended Cancelled
            TokenSet tokens;
            AuthError error;
            const bool ok = result.succeeded();
            if (!ok)
                error = WireFormat::errorFor(d->core->profile, result, WireFormat::Exchange::Login);
            if (ok && WireFormat::parseTokens(d->core->profile, result, &tokens, &error)) {
                d->adoptSignIn(reply, id, tokens, true);
                return;
            }
            d->signInFailed(reply, error);
        });
    return reply;
}

AuthReply *AuthClient::restore(const QString &identity)
{
    auto *reply = new AuthReply(this);
    if (AuthError refused = d->preflight(); refused.isError()) {
        reply->finish(refused);
        return reply;
    }
    const QString wanted = identity.trimmed();
    if (d->state == State::SignedIn && (wanted.isEmpty() || wanted == d->identity)) {
        if (d->online) {
            reply->finish();
            return reply;
        }
        // Kept offline: "Retry" means try to reach the server now.
        d->core->whenRefreshed(d->core->snapshot().generation, Latchkey::RefreshReason::Reconnect,
            this, [reply](const SessionCore::Outcome &outcome) { reply->finish(outcome.error); });
        return reply;
    }
    if (d->state == State::Restoring && (wanted.isEmpty() || wanted == d->restoreIdentity)) {
        d->restoreReplies.append(reply); // joins the restore in progress
        return reply;
    }
    d->supersedePending(QStringLiteral("Replaced by another restore"));
    const quint64 operation = d->operation;
    d->ensureStore();
    d->coordinator->stop();
    d->core->beginRestore(); // requests made from now on wait for the outcome
    d->coordinator->preconnect(); // the refresh's handshake overlaps reading the store
    d->clearDetails(); // who it is comes from the store, then from the server
    d->restoreIdentity = wanted;
    d->restoreReplies = { reply };
    d->setState(State::Restoring);
    auto current = [this, operation] { return operation == d->operation; };
    // Nothing to restore (or the store could not say): the requests that waited go out
    // without a token, as for anybody signed out.
    auto foundNothing = [this](const AuthError &error) {
        d->coordinator->releaseAhead(); // no refresh follows the read
        d->core->restoreFoundNothing();
        d->setState(State::SignedOut);
        if (!d->signInByItself(false)) // a service signs in instead
            d->finishRestore(error);
    };
    auto refreshWith = [this, current](const QString &id, const QByteArray &refreshToken) {
        d->expiredSignalled = false;
        d->setIdentity(id);
        // The user kept with the token, shown until the server's answer replaces it.
        d->storeQueue->read(
            d->userKey(id), [this, current](const QByteArray &json, const AuthError &) {
                const QJsonDocument doc = QJsonDocument::fromJson(json);
                if (current() && doc.isObject() && d->user.isEmpty()) {
                    d->user = doc.object();
                    Q_EMIT userChanged();
                }
            });
        d->core->restoreFound(refreshToken);
        d->core->whenRefreshed(d->core->snapshot().generation, Latchkey::RefreshReason::Restore,
            this, [this, current](const SessionCore::Outcome &outcome) {
                if (!current())
                    return;
                if (!outcome.ok && d->core->isOffline()) {
                    // The server could not be reached: the session is kept, not confirmed.
                    // Who is signed in is known (the identity, the user kept with the token);
                    // the coordinator keeps trying, the reply says why it could not confirm.
                    d->setState(State::SignedIn);
                    d->setOnline(false);
                    d->finishRestore(outcome.error);
                    return;
                }
                if (!outcome.ok) {
                    // Rejected (the client already wiped it and signed out): not signed in.
                    if (d->core->phase() != SessionCore::Phase::SignedOut)
                        d->core->end(outcome.error);
                    d->setState(State::SignedOut);
                    if (!d->signInByItself(false)) // a service signs in instead
                        d->finishRestore(outcome.error);
                    return;
                }
                // Restored only once the rotated token is in the store: a session the store did
                // not keep is said the way sign-in says it.
                d->storeQueue->whenIdle([this, current] {
                    if (current())
                        d->finishRestore(d->takeStoreError());
                });
            });
    };
    // An OpenID provider's token endpoint is known once its metadata is: discovered first
    // (if that fails the stored session stays for the next try, and the reply says why).
    auto refreshAtProvider = [this, current, foundNothing, refreshWith](
                                 const QString &id, const QByteArray &refreshToken) {
        d->serviceMode = false;
        if (!d->oidc) {
            d->core->setExchangeProfile(d->core->profile);
            refreshWith(id, refreshToken);
            return;
        }
        auto discovered
            = [this, current, foundNothing, refreshWith, id, refreshToken](const AuthError &error) {
                  if (!current())
                      return;
                  if (error.isError()) {
                      foundNothing(error);
                      return;
                  }
                  d->core->setExchangeProfile(
                      d->oidc->exchangeProfile(OidcMetadata::Grant::AuthorizationCode));
                  refreshWith(id, refreshToken);
              };
        // The endpoints kept with the session first: a start without network then keeps the
        // session offline as any other profile's; discovery only when none are kept.
        d->storeQueue->read(d->metadataKey(),
            [this, current, discovered](const QByteArray &document, const AuthError &) {
                if (!current())
                    return;
                d->oidc->adoptKeptMetadata(document);
                d->oidc->withMetadata(discovered);
            });
    };
    d->readStoredSession(
        wanted,
        [current, foundNothing, refreshAtProvider](
            const QString &id, const QByteArray &refreshToken, const AuthError &error) {
            if (!current())
                return;
            if (error.isError())
                foundNothing(error);
            else if (refreshToken.isEmpty())
                foundNothing(AuthError(AuthError::Kind::NotSignedIn,
                    id.isEmpty() ? QStringLiteral("No stored session")
                                 : QStringLiteral("No stored session for %1").arg(id)));
            else
                refreshAtProvider(id, refreshToken);
        },
        true);
    return reply;
}

AuthReply *AuthClient::signOut()
{
    auto *reply = new AuthReply(this);
    d->supersedePending(QStringLiteral("Replaced by a sign-out"));
    const quint64 operation = d->operation; // a later sign-in or restore makes this one stale
    d->ensureStore();
    d->setState(State::SigningOut);
    QPointer<AuthClient> guard(this);

    // The session ends here and now: no refresh runs on, every waiting request fails with
    // NotSignedIn, and requests made from now on carry no token.
    const QString identity = d->identity;
    const bool serviceMode = std::exchange(d->serviceMode, false);
    // A client's session holds its secret where a refresh token would be: never sent to revoke.
    const QByteArray refreshToken = serviceMode ? QByteArray() : d->core->refreshToken();
    const SessionCore::Snapshot snap = d->core->snapshot();
    const QByteArray accessToken
        = snap.active && !snap.mustRefresh ? snap.accessToken : QByteArray();
    const QByteArray idToken = std::exchange(d->idToken, QByteArray());
    d->coordinator->stop();
    d->core->end(AuthError(AuthError::Kind::NotSignedIn, QStringLiteral("Signed out")));

    // The stored session is wiped before the server is asked (queued before any later restore's
    // read or sign-in's write, so neither can meet it or lose its own); the reply ends once both
    // are done, whatever the server says. A sign-in or restore made meanwhile is left alone.
    auto storeError = std::make_shared<AuthError>();
    auto finishLocally = [this, guard, reply, storeError, operation, idToken](
                             const AuthError &serverError) {
        d->storeQueue->whenIdle([this, guard, reply, storeError, serverError, operation, idToken] {
            if (!guard)
                return;
            // An OpenID provider's own session (its cookie in the browser) outlives ours: the
            // application may open its end-session URL (RP-initiated logout).
            QJsonObject data;
            const QUrl endSession = d->oidc ? d->oidc->endSessionUrl(idToken) : QUrl();
            if (!endSession.isEmpty())
                data.insert(QStringLiteral("endSessionUrl"), endSession.toString());
            if (operation == d->operation) {
                d->endSessionUrl = endSession;
                d->clearDetails();
                d->setIdentity(QString()); // signed out on purpose: forget who (expiry keeps it)
                d->setState(State::SignedOut);
                Q_EMIT signedOut();
            }
            reply->finish(serverError.isError() ? serverError : *storeError, data);
        });
    };
    auto logout = [this, finishLocally](const QByteArray &rt, const QByteArray &bearer) {
        AuthCall::post(d->authNam,
            WireFormat::logout(d->core->exchangeProfile(), d->core->baseUrl, bearer, rt),
            d->callSettings(), this, [this, finishLocally](const HttpResult &result) {
                AuthError error;
                const bool ok = result.status >= 200 && result.status < 300;
                // A token the server no longer knows is as signed out as can be.
                const bool alreadyGone = result.status == 400 || result.status == 401;
                if (!ok && !alreadyGone)
                    error = WireFormat::errorFor(
                        d->core->exchangeProfile(), result, WireFormat::Exchange::Logout);
                if (error.isError())
                    qCInfo(lcAuth) << "server-side sign-out failed:" << error.toString();
                finishLocally(error);
            });
    };
    auto revoke = [this, finishLocally, logout, storeError](
                      const QString &id, const QByteArray &rt, const QByteArray &bearer) {
        d->wipe(id, [storeError](const AuthError &error) { *storeError = error; });
        if (ServerProfilePrivate::of(d->core->exchangeProfile()).logout.path.isEmpty()
            || (rt.isEmpty() && bearer.isEmpty())) {
            finishLocally(AuthError());
            return;
        }
        if (!ServerProfilePrivate::of(d->core->exchangeProfile()).logout.bearer || rt.isEmpty()
            || !bearer.isEmpty()) {
            logout(rt, bearer);
            return;
        }
        // A server that wants a valid bearer at sign-out (InnHotel) gets a fresh one, from an
        // exchange of the sign-out's own: the ended session is not brought back to life for it,
        // nothing of it is stored, and no request can take its token.
        AuthCall::post(d->authNam,
            WireFormat::refresh(d->core->exchangeProfile(), d->core->baseUrl, rt),
            d->callSettings(), this, [this, logout, rt](const HttpResult &result) {
                const WireFormat::RefreshVerdict verdict
                    = WireFormat::classifyRefresh(d->core->exchangeProfile(), result);
                if (verdict.outcome != WireFormat::RefreshOutcome::Tokens) {
                    logout(rt, QByteArray());
                    return;
                }
                const QByteArray rotated = verdict.tokens.refresh;
                logout(rotated.isEmpty() ? rt : rotated, verdict.tokens.access);
            });
    };

    if (serviceMode) { // nothing stored, nothing to revoke
        finishLocally(AuthError());
        return reply;
    }
    if (!refreshToken.isEmpty() || !accessToken.isEmpty()) {
        revoke(identity, refreshToken, accessToken);
        return reply;
    }
    // Not restored in this process: revoke what the store holds (and wipe it, whatever it says).
    auto revokeStored = [this, identity, revoke] {
        d->readStoredSession(
            identity, [revoke](const QString &id, const QByteArray &rt, const AuthError &) {
                revoke(id, rt, QByteArray());
            });
    };
    if (d->oidc && !d->oidc->hasMetadata()) {
        // The revocation endpoint is the provider's: known once it is discovered (if that
        // fails, the stored session is wiped all the same).
        d->oidc->withMetadata([this, guard, revokeStored](const AuthError &error) {
            if (!guard)
                return;
            if (!error.isError()) {
                d->core->setExchangeProfile(
                    d->oidc->exchangeProfile(OidcMetadata::Grant::AuthorizationCode));
            }
            revokeStored();
        });
        return reply;
    }
    revokeStored();
    return reply;
}

AuthReply *AuthClient::registerAccount(
    const QString &identity, const QString &password, const QJsonObject &fields)
{
    auto *reply = new AuthReply(this);
    const Profile::Endpoint endpoint = ServerProfilePrivate::of(d->core->profile).registration;
    if (AuthError refused = d->preflight(); refused.isError()) {
        reply->finish(refused);
        return reply;
    }
    if (endpoint.path.isEmpty()) {
        reply->finish(AuthError(AuthError::Kind::Protocol,
            QStringLiteral("The profile \"%1\" has no \"register\" endpoint")
                .arg(d->core->profile.name())));
        return reply;
    }
    QJsonObject body = fields;
    body.insert(endpoint.fields.value(QStringLiteral("identity")), identity.trimmed());
    body.insert(endpoint.fields.value(QStringLiteral("password")), password);
    AuthCall::send(d->authNam, endpoint.method,
        WireFormat::request(endpoint, d->core->baseUrl, body), d->callSettings(), this,
        [this, reply](const HttpResult &result) {
            if (result.succeeded()) {
                const QJsonValue user = WireFormat::valueAt(
                    result.body, ServerProfilePrivate::of(d->core->profile).userPointer);
                reply->finish(AuthError(), user.isObject() ? user.toObject() : QJsonObject());
                return;
            }
            reply->finish(
                WireFormat::errorFor(d->core->profile, result, WireFormat::Exchange::Register));
        });
    return reply;
}

AuthReply *AuthClient::changePassword(const QString &currentPassword, const QString &newPassword)
{
    auto *reply = new AuthReply(this);
    const Profile::Endpoint endpoint = ServerProfilePrivate::of(d->core->profile).changePassword;
    if (endpoint.path.isEmpty()) {
        reply->finish(AuthError(AuthError::Kind::Protocol,
            QStringLiteral("The profile \"%1\" has no \"changePassword\" endpoint")
                .arg(d->core->profile.name())));
        return reply;
    }
    if (d->state != State::SignedIn) {
        reply->finish(AuthError(AuthError::Kind::NotSignedIn, QStringLiteral("Not signed in")));
        return reply;
    }
    const QJsonObject body { { endpoint.fields.value(QStringLiteral("current")), currentPassword },
        { endpoint.fields.value(QStringLiteral("new")), newPassword } };
    AuthCall::send(networkAccessManager(), endpoint.method,
        WireFormat::request(endpoint, d->core->baseUrl, body), d->callSettings(), this,
        [this, reply](const HttpResult &result) {
            if (result.succeeded())
                reply->finish();
            else
                reply->finish(WireFormat::errorFor(
                    d->core->profile, result, WireFormat::Exchange::ChangePassword));
        });
    return reply;
}

void AuthClientPrivate::meExchange(
    AuthReply *reply, const QByteArray &verb, const QJsonObject &body)
{
    if (oidc) {
        // The userinfo endpoint is the provider's, not the API's: the access token goes there
        // on purpose, from this exchange only (the managers keep it to the API's origin).
        const SessionCore::Snapshot snap = core->snapshot();
        if (verb != "GET" || !snap.active || snap.accessToken.isEmpty() || serviceMode) {
            reply->finish(AuthError(
                verb != "GET" ? AuthError::Kind::Protocol : AuthError::Kind::NotSignedIn,
                verb != "GET" ? QStringLiteral("An OpenID provider's user cannot be changed here")
                              : QStringLiteral("Not signed in")));
            return;
        }
        QPointer<AuthClient> guard(q);
        oidc->userinfo(snap.accessToken,
            [this, guard, reply](const QJsonObject &info, const AuthError &error) {
                if (!guard)
                    return;
                if (!error.isError()) {
                    QJsonObject merged = user;
                    for (auto it = info.begin(); it != info.end(); ++it)
                        merged.insert(it.key(), it.value());
                    setUser(merged);
                }
                reply->finish(error, info);
            });
        return;
    }
    const QString path = ServerProfilePrivate::of(core->profile).mePath;
    if (path.isEmpty()) {
        reply->finish(AuthError(AuthError::Kind::Protocol,
            QStringLiteral("The profile \"%1\" has no \"me\" endpoint").arg(core->profile.name())));
        return;
    }
    AuthCall::send(q->networkAccessManager(), verb,
        WireFormat::jsonRequest(core->baseUrl, path, body), callSettings(), q,
        [this, reply](const HttpResult &result) {
            if (!result.succeeded()) {
                reply->finish(
                    WireFormat::errorFor(core->profile, result, WireFormat::Exchange::Me));
                return;
            }
            // Where the user is: the profile's me.user, else tokens.user, else the whole answer.
            QJsonValue user(QJsonValue::Undefined);
            for (const QString &pointer : { ServerProfilePrivate::of(core->profile).meUserPointer,
                     ServerProfilePrivate::of(core->profile).userPointer }) {
                if (!pointer.isEmpty() && user.isUndefined())
                    user = WireFormat::valueAt(result.body, pointer);
            }
            if (!user.isObject())
                user = WireFormat::valueAt(result.body, QString());
            if (!user.isObject()) {
                reply->finish(AuthError(AuthError::Kind::Protocol,
                    QStringLiteral("expected a JSON object with the user"), result.status));
                return;
            }
            setUser(user.toObject());
            reply->finish(AuthError(), this->user);
        });
}

AuthReply *AuthClient::fetchProfile()
{
    auto *reply = new AuthReply(this);
    d->meExchange(reply, QByteArrayLiteral("GET"), QJsonObject());
    return reply;
}

AuthReply *AuthClient::updateProfile(const QJsonObject &changes)
{
    auto *reply = new AuthReply(this);
    d->meExchange(reply, QByteArrayLiteral("PUT"), changes);
    return reply;
}

void AuthClient::setApiKey(const QByteArray &key, const QByteArray &header)
{
    d->core->setApiKey(
        header.isEmpty() ? ServerProfilePrivate::of(d->core->profile).apiKeyHeader : header, key);
}

bool AuthClient::hasApiKey() const
{
    return !d->core->apiKey().second.isEmpty();
}

void AuthClient::setCredentialsProvider(CredentialsProvider *provider)
{
    if (provider && !provider->parent())
        provider->setParent(this);
    if (!provider && d->autoSignIn->provider()) {
        d->autoSignIn->stop(AuthError(
            AuthError::Kind::Cancelled, QStringLiteral("The credentials provider was removed")));
    }
    d->autoSignIn->setProvider(provider);
}

CredentialsProvider *AuthClient::credentialsProvider() const
{
    return d->autoSignIn->provider();
}

QJsonObject AuthClient::health() const
{
    const Clock *clock = Clock::instance();
    // A time on the session clock, or on its wall time, as ISO 8601 UTC (null: none).
    auto wallTime = [](qint64 wallMs) -> QJsonValue {
        if (wallMs < 0)
            return QJsonValue::Null;
        return QDateTime::fromMSecsSinceEpoch(wallMs, Qt::UTC).toString(Qt::ISODateWithMs);
    };
    auto due = [clock, wallTime](qint64 deadlineMs) -> QJsonValue {
        if (deadlineMs < 0)
            return QJsonValue::Null;
        return wallTime(clock->wallMs() + std::max<qint64>(deadlineMs - clock->nowMs(), 0));
    };
    const char *autoSignIn = "off";
    if (d->autoSignIn->provider()
        && !ServerProfilePrivate::of(d->core->profile).login.path.isEmpty()) {
        switch (d->autoSignIn->status()) {
        case AutoSignIn::Status::Idle:
            autoSignIn = "idle";
            break;
        case AutoSignIn::Status::SigningIn:
            autoSignIn = "signingIn";
            break;
        case AutoSignIn::Status::Waiting:
            autoSignIn = "waiting";
            break;
        case AutoSignIn::Status::Stopped:
            autoSignIn = "stopped";
            break;
        }
    }
    return {
        { QStringLiteral("state"),
            QString::fromLatin1(QMetaEnum::fromType<State>().valueToKey(int(d->state))) },
        { QStringLiteral("identity"), d->identity },
        { QStringLiteral("online"), d->online },
        { QStringLiteral("expiresAt"),
            d->expiresAt.isValid() ? QJsonValue(d->expiresAt.toUTC().toString(Qt::ISODateWithMs))
                                   : QJsonValue(QJsonValue::Null) },
        { QStringLiteral("lastRefresh"), wallTime(d->lastRefreshMs) },
        { QStringLiteral("refreshesOk"), d->refreshesOk },
        { QStringLiteral("refreshesFailed"), d->refreshesFailed },
        { QStringLiteral("signIns"), d->signIns },
        { QStringLiteral("signInFailures"), d->signInFailures },
        { QStringLiteral("nextRefreshDue"),
            d->state == State::SignedIn ? due(d->coordinator->nextRefreshDueMs())
                                        : QJsonValue(QJsonValue::Null) },
        { QStringLiteral("autoSignIn"), QLatin1String(autoSignIn) },
        { QStringLiteral("nextSignInAttempt"), due(d->autoSignIn->nextAttemptMs()) },
        { QStringLiteral("lastError"),
            d->lastError.isError() ? QJsonValue(d->lastError.toString())
                                   : QJsonValue(QJsonValue::Null) },
        { QStringLiteral("lastErrorAt"), wallTime(d->lastErrorMs) },
    };
}

AuthReply *AuthClient::flush()
{
    auto *reply = new AuthReply(this);
    // A refresh on the wire first: the server may have rotated the token already, and quitting
    // before its answer is stored would leave a spent token for the next start.
    d->core->whenSettled(this, [this, reply] {
        d->storeQueue->whenIdle([this, reply] { reply->finish(d->takeStoreError()); });
    });
    return reply;
}

AuthorizedNetworkAccessManager *AuthClient::networkAccessManager()
{
    if (!d->nam)
        d->nam = new AuthorizedNetworkAccessManager(this, this);
    return d->nam;
}

} // namespace Latchkey
