#include "devicegrant_p.h"

#include "authorizationrequest_p.h"
#include "logging_p.h"
#include "serverprofile_p.h"

#include <QJsonDocument>

namespace Latchkey {

DeviceGrant::DeviceGrant(QNetworkAccessManager *nam, const AuthCall::Settings &settings,
    const ServerProfile &exchange, const OidcMetadata &metadata, QObject *parent)
    : QObject(parent)
    , m_nam(nam)
    , m_settings(settings)
    , m_exchange(exchange)
    , m_metadata(metadata)
{
    m_timer.setMaxStep(std::chrono::milliseconds(60000));
    connect(&m_timer, &DeadlineTimer::timeout, this, &DeviceGrant::poll);
}

namespace {

// The token endpoint's client authentication, for another endpoint or grant.
Profile::Endpoint endpointLike(
    const Profile::Endpoint &token, const QUrl &url, const QString &grantType)
{
    Profile::Endpoint e = token;
    e.path = url.toString(QUrl::FullyEncoded);
    e.extra.remove(QStringLiteral("grant_type"));
    if (!grantType.isEmpty())
        e.extra.insert(QStringLiteral("grant_type"), grantType);
    return e;
}

const QString deviceCodeGrant = QStringLiteral("urn:ietf:params:oauth:grant-type:device_code");

} // namespace

void DeviceGrant::start()
{
    const Profile::OpenIdConnect settings = ServerProfilePrivate::of(m_exchange).oidc;
    QJsonObject fields;
    fields.insert(QStringLiteral("scope"), settings.scopes.join(QLatin1Char(' ')));
    for (auto it = settings.authorizationParams.begin(); it != settings.authorizationParams.end();
         ++it)
        fields.insert(it.key(), it.value());
    const Profile::Endpoint e = endpointLike(
        ServerProfilePrivate::of(m_exchange).login, m_metadata.deviceAuthorization, QString());
    m_call = AuthCall::post(m_nam, WireFormat::request(e, QUrl(), fields), m_settings, this,
        [this](const HttpResult &result) { onAuthorization(result); });
}

void DeviceGrant::cancel()
{
    if (m_done)
        return;
    m_done = true;
    m_timer.stop();
    if (m_call)
        m_call->abort();
}

void DeviceGrant::fail(const AuthError &error)
{
    if (m_done)
        return;
    m_done = true;
    m_timer.stop();
    Q_EMIT failed(error);
}

void DeviceGrant::onAuthorization(const HttpResult &result)
{
    m_call = nullptr;
    if (m_done)
        return;
    if (!result.succeeded()) {
        const QJsonValue error = WireFormat::valueAt(result.body, QStringLiteral("/error"));
        if (error.isString()) {
            fail(oauthError(error.toString(),
                WireFormat::valueAt(result.body, QStringLiteral("/error_description")).toString(),
                result.status));
        } else {
            fail(WireFormat::errorFor(m_exchange, result, WireFormat::Exchange::Login));
        }
        return;
    }
    const QJsonObject o = QJsonDocument::fromJson(result.body).object();
    DeviceAuthorization code;
    m_deviceCode = o.value(QLatin1String("device_code")).toString().toLatin1();
    code.userCode = o.value(QLatin1String("user_code")).toString();
    code.verificationUri = QUrl(o.value(QLatin1String("verification_uri")).toString());
    if (code.verificationUri.isEmpty()) // the name of an early draft, still used by some
        code.verificationUri = QUrl(o.value(QLatin1String("verification_url")).toString());
    code.verificationUriComplete
        = QUrl(o.value(QLatin1String("verification_uri_complete")).toString());
    const double expiresIn = o.value(QLatin1String("expires_in")).toDouble(-1);
    const double interval = o.value(QLatin1String("interval")).toDouble(5);
    if (m_deviceCode.isEmpty() || code.userCode.isEmpty() || !code.verificationUri.isValid()
        || code.verificationUri.isEmpty() || !(expiresIn > 0)) {
        fail(AuthError(AuthError::Kind::Protocol,
            QStringLiteral("The provider's device authorization lacks device_code, user_code, "
                           "verification_uri or expires_in")));
        return;
    }
    // Bounded: a provider's expires_in of a year or an interval of an hour is no plan.
    const qint64 lifetimeMs = qint64(std::min(expiresIn, 86400.0) * 1000);
    m_interval = int(std::clamp(interval, 1.0, 600.0));
    code.interval = m_interval;
    code.expiresAt = QDateTime::currentDateTimeUtc().addMSecs(lifetimeMs);
    m_expiresAtMs = Clock::instance()->nowMs() + lifetimeMs;
    qCInfo(lcAuth) << "device code issued; waiting for approval at"
                   << code.verificationUri.toDisplayString();
    m_timer.start(std::chrono::seconds(m_interval));
    Q_EMIT codeReceived(code);
}

void DeviceGrant::poll()
{
    if (m_done)
        return;
    if (Clock::instance()->nowMs() >= m_expiresAtMs) {
        fail(AuthError(AuthError::Kind::AuthorizationExpired,
            QStringLiteral("The device code expired before it was approved")));
        return;
    }
    QJsonObject fields;
    fields.insert(QStringLiteral("device_code"), QString::fromLatin1(m_deviceCode));
    const Profile::Endpoint e = endpointLike(
        ServerProfilePrivate::of(m_exchange).login, m_metadata.token, deviceCodeGrant);
    m_call = AuthCall::post(m_nam, WireFormat::request(e, QUrl(), fields), m_settings, this,
        [this](const HttpResult &result) { onPoll(result); });
}

void DeviceGrant::onPoll(const HttpResult &result)
{
    m_call = nullptr;
    if (m_done)
        return;
    if (result.succeeded()) {
        TokenSet tokens;
        AuthError error;
        if (WireFormat::parseTokens(m_exchange, result, &tokens, &error)) {
            m_done = true;
            Q_EMIT succeeded(tokens);
        } else {
            fail(error);
        }
        return;
    }
    const QString error = WireFormat::valueAt(result.body, QStringLiteral("/error")).toString();
    if (result.transportFailed() || result.status >= 500 || error.isEmpty()) {
        // A blip: poll again at the interval (the code's expiry bounds it).
        qCDebug(lcAuth) << "device poll failed, trying again:" << result.status;
    } else if (error == QLatin1String("authorization_pending")) {
        // Not approved yet.
    } else if (error == QLatin1String("slow_down")) {
        m_interval += slowDownStepSecs;
        qCInfo(lcAuth) << "the provider asked to poll slower: every" << m_interval << "s";
    } else {
        fail(oauthError(error,
            WireFormat::valueAt(result.body, QStringLiteral("/error_description")).toString(),
            result.status));
        return;
    }
    m_timer.start(std::chrono::seconds(m_interval));
}

} // namespace Latchkey
