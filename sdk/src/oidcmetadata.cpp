#include "oidcmetadata_p.h"

#include "serverprofile_p.h"
#include "wireformat_p.h"

#include <QJsonDocument>

namespace Latchkey {

bool isSecureEndpoint(const QUrl &url, bool allowInsecureHttp)
{
    if (!url.isValid() || url.host().isEmpty())
        return false;
    if (url.scheme() == QLatin1String("https"))
        return true;
    return url.scheme() == QLatin1String("http")
        && (allowInsecureHttp || WireFormat::isLoopbackHost(url.host()));
}

QUrl OidcMetadata::discoveryUrl(const Profile::OpenIdConnect &settings)
{
    // Discovery §4: the issuer's path, then /.well-known/openid-configuration.
    QUrl url = settings.issuer;
    QString path = url.path();
    if (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    url.setPath(path + QStringLiteral("/.well-known/openid-configuration"));
    url.setQuery(QString());
    url.setFragment(QString());
    return url;
}

OidcMetadata OidcMetadata::fromProfile(const Profile::OpenIdConnect &settings)
{
    OidcMetadata m;
    m.issuer = settings.issuer;
    const auto &e = settings.endpoints;
    m.authorization = e.value(QStringLiteral("authorization"));
    m.token = e.value(QStringLiteral("token"));
    m.deviceAuthorization = e.value(QStringLiteral("deviceAuthorization"));
    m.userinfo = e.value(QStringLiteral("userinfo"));
    m.revocation = e.value(QStringLiteral("revocation"));
    m.endSession = e.value(QStringLiteral("endSession"));
    return m;
}

bool OidcMetadata::fromDiscovery(const Profile::OpenIdConnect &settings, const QByteArray &document,
    bool allowInsecureHttp, OidcMetadata *metadata, AuthError *error)
{
    auto fail = [error](const QString &what) {
        *error = AuthError(AuthError::Kind::Protocol,
            QStringLiteral("The provider's discovery document is not usable: %1").arg(what));
        return false;
    };
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(document, &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject())
        return fail(QStringLiteral("it is not a JSON object"));
    const QJsonObject o = doc.object();
    const QString issuer = o.value(QLatin1String("issuer")).toString();
    if (issuer != settings.issuer.toString()) {
        return fail(QStringLiteral("its issuer \"%1\" is not the configured \"%2\"")
                        .arg(issuer.left(200), settings.issuer.toString()));
    }
    OidcMetadata m = fromProfile(settings);
    struct Field
    {
        const char *key;
        QUrl OidcMetadata::*member;
    };
    static const Field fields[] = {
        { "authorization_endpoint", &OidcMetadata::authorization },
        { "token_endpoint", &OidcMetadata::token },
        { "device_authorization_endpoint", &OidcMetadata::deviceAuthorization },
        { "userinfo_endpoint", &OidcMetadata::userinfo },
        { "revocation_endpoint", &OidcMetadata::revocation },
        { "end_session_endpoint", &OidcMetadata::endSession },
    };
    for (const Field &field : fields) {
        if (!(m.*field.member).isEmpty())
            continue; // the profile's own
        const QJsonValue v = o.value(QLatin1String(field.key));
        if (v.isUndefined() || v.isNull())
            continue;
        const QUrl url(v.toString(), QUrl::StrictMode);
        if (!v.isString() || !isSecureEndpoint(url, allowInsecureHttp)) {
            return fail(QStringLiteral("\"%1\" is not an https URL").arg(QLatin1String(field.key)));
        }
        m.*field.member = url;
    }
    if (m.token.isEmpty())
        return fail(QStringLiteral("it names no token_endpoint"));
    m.issInResponses
        = o.value(QLatin1String("authorization_response_iss_parameter_supported")).toBool();
    *metadata = m;
    return true;
}

QByteArray OidcMetadata::toDocument() const
{
    QJsonObject o;
    o.insert(QStringLiteral("issuer"), issuer.toString());
    if (issInResponses)
        o.insert(QStringLiteral("authorization_response_iss_parameter_supported"), true);
    const std::pair<const char *, const QUrl *> fields[] = {
        { "authorization_endpoint", &authorization },
        { "token_endpoint", &token },
        { "device_authorization_endpoint", &deviceAuthorization },
        { "userinfo_endpoint", &userinfo },
        { "revocation_endpoint", &revocation },
        { "end_session_endpoint", &endSession },
    };
    for (const auto &[key, url] : fields) {
        if (!url->isEmpty())
            o.insert(QLatin1String(key), url->toString(QUrl::FullyEncoded));
    }
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

ServerProfile OidcMetadata::exchangeProfile(
    const ServerProfile &profile, const QByteArray &clientSecret, Grant grant) const
{
    Profile::OpenIdConnect settings = ServerProfilePrivate::of(profile).oidc;
    // A client authenticates itself for client credentials (RFC 6749 §4.4): Basic unless the
    // profile says "post".
    if (grant == Grant::ClientCredentials && settings.clientAuth == Profile::ClientAuth::None)
        settings.clientAuth = Profile::ClientAuth::Basic;
    ServerProfile exchange = profile;
    ServerProfileData *p = ServerProfilePrivate::data(exchange);

    // Client authentication at the token and revocation endpoints (RFC 6749 §2.3.1).
    auto endpoint = [&](const QUrl &url) {
        Profile::Endpoint e;
        e.path = url.toString(QUrl::FullyEncoded);
        e.encoding = Profile::Encoding::Form;
        if (settings.clientAuth == Profile::ClientAuth::Basic && !clientSecret.isEmpty()) {
            // RFC 6749 §2.3.1: both form-encoded before they are joined.
            e.basicUser = QString::fromLatin1(QUrl::toPercentEncoding(settings.clientId));
            e.basicPassword
                = QString::fromLatin1(QUrl::toPercentEncoding(QString::fromUtf8(clientSecret)));
        } else {
            e.extra.insert(QStringLiteral("client_id"), settings.clientId);
            if (settings.clientAuth == Profile::ClientAuth::Post && !clientSecret.isEmpty())
                e.extra.insert(QStringLiteral("client_secret"), QString::fromUtf8(clientSecret));
        }
        return e;
    };

    p->login = endpoint(token);
    p->login.extra.insert(QStringLiteral("grant_type"), QStringLiteral("authorization_code"));

    p->refresh = endpoint(token);
    if (grant == Grant::ClientCredentials) {
        // No refresh token: a new token is fetched with the client's own credentials. What the
        // session keeps as its "refresh token" is the secret (in memory only), sent where the
        // client authentication says; with Basic it is in the header already.
        p->refresh.extra.insert(QStringLiteral("grant_type"), QStringLiteral("client_credentials"));
        // OpenID's own scopes are about a user: a client asks for its API's scopes alone.
        QStringList scopes = settings.scopes;
        for (const char *userScope : { "openid", "offline_access", "profile", "email" })
            scopes.removeAll(QLatin1String(userScope));
        if (!scopes.isEmpty())
            p->refresh.extra.insert(QStringLiteral("scope"), scopes.join(QLatin1Char(' ')));
        if (!settings.resources.isEmpty())
            p->refresh.extra.insert(QStringLiteral("resource"), settings.resources.first());
        for (auto it = settings.tokenParams.begin(); it != settings.tokenParams.end(); ++it)
            p->refresh.extra.insert(it.key(), it.value());
        p->refresh.send.in = Profile::Carrier::None;
    } else {
        p->refresh.extra.insert(QStringLiteral("grant_type"), QStringLiteral("refresh_token"));
        p->refresh.send.in = Profile::Carrier::Body;
        p->refresh.send.name = QStringLiteral("refresh_token");
    }

    if (revocation.isEmpty()) {
        p->logout = Profile::Endpoint();
    } else {
        p->logout = endpoint(revocation);
        p->logout.extra.insert(QStringLiteral("token_type_hint"), QStringLiteral("refresh_token"));
        p->logout.send.in = Profile::Carrier::Body;
        p->logout.send.name = QStringLiteral("token");
    }
    p->mePath = userinfo.isEmpty() ? QString() : userinfo.toString(QUrl::FullyEncoded);
    p->meUserPointer.clear();
    return exchange;
}

} // namespace Latchkey
