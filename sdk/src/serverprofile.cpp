#include <latchkey/serverprofile.h>

#include "jsonpointer_p.h"
#include "serverprofile_p.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>
#include <cmath>
#include <limits>

namespace Latchkey {

namespace {

// A refresh answer that ends the session unless the profile says otherwise: 401, or the
// RFC 6749 §5.2 answer 400 (some servers: 403) {"error": "invalid_grant"}.
QList<Profile::RejectionRule> defaultRejectionRules()
{
    Profile::RejectionRule unauthorized;
    unauthorized.statuses = { 401 };
    Profile::RejectionRule invalidGrant;
    invalidGrant.statuses = { 400, 403 };
    invalidGrant.pointer = QStringLiteral("/error");
    invalidGrant.values = { QJsonValue(QStringLiteral("invalid_grant")) };
    return { unauthorized, invalidGrant };
}

// Levenshtein distance, for the closest known key to an unknown one (keys are short).
int editDistance(const QString &a, const QString &b)
{
    QList<int> row(b.size() + 1);
    for (int j = 0; j <= int(b.size()); ++j)
        row[j] = j;
    for (int i = 1; i <= int(a.size()); ++i) {
        int diagonal = row[0];
        row[0] = i;
        for (int j = 1; j <= int(b.size()); ++j) {
            const int up = row[j];
            row[j] = std::min(
                { row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1) });
            diagonal = up;
        }
    }
    return row[b.size()];
}

bool isAbsoluteUrl(const QString &text)
{
    const QUrl url(text, QUrl::StrictMode);
    return url.isValid() && !url.host().isEmpty()
        && (url.scheme() == QLatin1String("https") || url.scheme() == QLatin1String("http"));
}

// Collects the first error with the key path it concerns, e.g. "refresh.send.in".
class Reader
{
public:
    QString error;

    // An unknown key is a typo more often than not: refused, naming the closest known one.
    void known(const QJsonObject &o, const QString &prefix, const QStringList &keys)
    {
        for (auto it = o.begin(); it != o.end(); ++it) {
            if (keys.contains(it.key()) || !error.isEmpty())
                continue;
            QString closest;
            int best = std::numeric_limits<int>::max();
            for (const QString &k : keys) {
                const int d = editDistance(it.key().toLower(), k.toLower());
                if (d < best) {
                    best = d;
                    closest = k;
                }
            }
            error = QStringLiteral("profile key \"%1%2\": unknown").arg(prefix, it.key());
            if (best <= std::max<int>(2, int(closest.size()) / 3))
                error += QStringLiteral(" (did you mean \"%1%2\"?)").arg(prefix, closest);
            else
                error += QStringLiteral(" (known here: %1)").arg(keys.join(QStringLiteral(", ")));
        }
    }

    bool fail(const QString &key, const QString &expected)
    {
        if (error.isEmpty())
            error = QStringLiteral("profile key \"%1\": expected %2").arg(key, expected);
        return false;
    }

    QString string(const QJsonObject &o, const QString &path, const QString &key, bool required,
        const QString &fallback = QString())
    {
        const QJsonValue v = o.value(key);
        if (v.isUndefined() || v.isNull()) {
            if (required)
                fail(path + key, QStringLiteral("a string"));
            return fallback;
        }
        if (!v.isString()) {
            fail(path + key, QStringLiteral("a string"));
            return fallback;
        }
        return v.toString();
    }

    QString pointer(const QJsonObject &o, const QString &path, const QString &key, bool required,
        const QString &fallback = QString())
    {
        const QString p = string(o, path, key, required, fallback);
        if (!JsonPointer::isValid(p))
            fail(path + key, QStringLiteral("a JSON Pointer starting with \"/\""));
        return p;
    }

    QString path(const QJsonObject &o, const QString &prefix, const QString &key, bool required)
    {
        const QString p = string(o, prefix, key, required);
        if (!p.isEmpty() && !p.startsWith(QLatin1Char('/')) && !isAbsoluteUrl(p))
            fail(prefix + key,
                QStringLiteral("a path starting with \"/\" or an absolute http(s) URL"));
        return p;
    }

    QUrl url(const QJsonObject &o, const QString &prefix, const QString &key, bool required)
    {
        const QString text = string(o, prefix, key, required);
        if (text.isEmpty())
            return QUrl();
        const QUrl u(text, QUrl::StrictMode);
        if (!u.isValid() || u.scheme().isEmpty() || u.isRelative())
            fail(prefix + key, QStringLiteral("an absolute URL"));
        return u;
    }

    QStringList strings(const QJsonObject &o, const QString &prefix, const QString &key)
    {
        const QJsonValue v = o.value(key);
        if (v.isUndefined() || v.isNull())
            return {};
        if (v.isString()) // "openid profile" as a provider's documentation writes it
            return v.toString().split(QLatin1Char(' '), Qt::SkipEmptyParts);
        QStringList result;
        if (v.isArray()) {
            for (const QJsonValue &item : v.toArray()) {
                if (!item.isString() || item.toString().isEmpty()) {
                    fail(prefix + key, QStringLiteral("a list of strings"));
                    return {};
                }
                result << item.toString();
            }
            return result;
        }
        fail(prefix + key, QStringLiteral("a list of strings"));
        return {};
    }

    QMap<QString, QString> stringMap(
        const QJsonObject &o, const QString &prefix, const QString &key)
    {
        QMap<QString, QString> result;
        const QJsonObject map = object(o, prefix, key, false);
        for (auto it = map.begin(); it != map.end(); ++it) {
            if (!it.value().isString())
                fail(prefix + key + QLatin1Char('.') + it.key(), QStringLiteral("a string"));
            result.insert(it.key(), it.value().toString());
        }
        return result;
    }

    Profile::OpenIdConnect oidc(const QJsonObject &o)
    {
        const QString prefix = QStringLiteral("oidc.");
        Profile::OpenIdConnect c;
        known(o, prefix,
            { QStringLiteral("issuer"), QStringLiteral("clientId"), QStringLiteral("scopes"),
                QStringLiteral("clientAuth"), QStringLiteral("redirectUri"),
                QStringLiteral("prompt"), QStringLiteral("resource"),
                QStringLiteral("authorizationParams"), QStringLiteral("tokenParams"),
                QStringLiteral("endpoints"), QStringLiteral("identityClaims"),
                QStringLiteral("postLogoutRedirectUri") });
        c.issuer = url(o, prefix, QStringLiteral("issuer"), false);
        c.clientId = string(o, prefix, QStringLiteral("clientId"), false);
        c.scopes = o.contains(QLatin1String("scopes"))
            ? strings(o, prefix, QStringLiteral("scopes"))
            : QStringList { QStringLiteral("openid") };
        const QString auth
            = string(o, prefix, QStringLiteral("clientAuth"), false, QStringLiteral("none"));
        if (auth == QLatin1String("basic"))
            c.clientAuth = Profile::ClientAuth::Basic;
        else if (auth == QLatin1String("post"))
            c.clientAuth = Profile::ClientAuth::Post;
        else if (auth != QLatin1String("none"))
            fail(prefix + QStringLiteral("clientAuth"),
                QStringLiteral("\"none\", \"basic\" or \"post\""));
        c.redirectUri = url(o, prefix, QStringLiteral("redirectUri"), false);
        if (c.redirectUri.isEmpty())
            c.redirectUri = QUrl(QStringLiteral("http://127.0.0.1/callback"));
        c.prompt = string(o, prefix, QStringLiteral("prompt"), false);
        c.resources = strings(o, prefix, QStringLiteral("resource"));
        c.authorizationParams = stringMap(o, prefix, QStringLiteral("authorizationParams"));
        c.tokenParams = stringMap(o, prefix, QStringLiteral("tokenParams"));
        const QJsonObject endpoints = object(o, prefix, QStringLiteral("endpoints"), false);
        const QString e = prefix + QStringLiteral("endpoints.");
        for (auto it = endpoints.begin(); it != endpoints.end(); ++it) {
            static const QStringList names
                = { QStringLiteral("authorization"), QStringLiteral("token"),
                      QStringLiteral("deviceAuthorization"), QStringLiteral("userinfo"),
                      QStringLiteral("revocation"), QStringLiteral("endSession") };
            if (!names.contains(it.key())) {
                fail(e + it.key(), QStringLiteral("one of ") + names.join(QStringLiteral(", ")));
                continue;
            }
            c.endpoints.insert(it.key(), url(endpoints, e, it.key(), true));
        }
        c.identityClaims = strings(o, prefix, QStringLiteral("identityClaims"));
        if (c.identityClaims.isEmpty()) {
            c.identityClaims = { QStringLiteral("email"), QStringLiteral("preferred_username"),
                QStringLiteral("sub") };
        }
        c.postLogoutRedirectUri = url(o, prefix, QStringLiteral("postLogoutRedirectUri"), false);
        return c;
    }

    QJsonObject object(const QJsonObject &o, const QString &path, const QString &key, bool required)
    {
        const QJsonValue v = o.value(key);
        if (v.isUndefined() || v.isNull()) {
            if (required)
                fail(path + key, QStringLiteral("an object"));
            return {};
        }
        if (!v.isObject())
            fail(path + key, QStringLiteral("an object"));
        return v.toObject();
    }

    Profile::TokenLocation location(const QJsonObject &o, const QString &path, bool receiving)
    {
        Profile::TokenLocation loc;
        known(o, path,
            { QStringLiteral("in"), receiving ? QStringLiteral("pointer") : QStringLiteral("name"),
                QStringLiteral("name") });
        const QString in = string(o, path, QStringLiteral("in"), true);
        if (in == QLatin1String("cookie")) {
            loc.in = Profile::Carrier::Cookie;
            loc.name = string(o, path, QStringLiteral("name"), true);
        } else if (in == QLatin1String("body")) {
            loc.in = Profile::Carrier::Body;
            if (receiving)
                loc.pointer = pointer(o, path, QStringLiteral("pointer"), true);
            else
                loc.name = string(o, path, QStringLiteral("name"), true);
        } else if (in == QLatin1String("bearer") && !receiving) {
            loc.in = Profile::Carrier::Bearer;
        } else if (!in.isEmpty() || error.isEmpty()) {
            fail(path + QStringLiteral("in"),
                receiving ? QStringLiteral("\"cookie\" or \"body\"")
                          : QStringLiteral("\"cookie\", \"body\" or \"bearer\""));
        }
        return loc;
    }

    Profile::Endpoint endpoint(
        const QJsonObject &root, const QString &key, bool required, bool sendsRefreshToken)
    {
        Profile::Endpoint e;
        const QJsonObject o = object(root, QString(), key, required);
        if (o.isEmpty())
            return e;
        const QString prefix = key + QLatin1Char('.');
        QStringList keys = { QStringLiteral("path"), QStringLiteral("encoding"),
            QStringLiteral("fields"), QStringLiteral("extra"), QStringLiteral("bearer"),
            QStringLiteral("method"), QStringLiteral("headers"), QStringLiteral("basic"),
            QStringLiteral("description") };
        if (sendsRefreshToken)
            keys << QStringLiteral("send");
        if (key == QLatin1String("refresh"))
            keys << QStringLiteral("rejectedWhen");
        known(o, prefix, keys);
        e.path = path(o, prefix, QStringLiteral("path"), true);
        const QString encoding
            = string(o, prefix, QStringLiteral("encoding"), false, QStringLiteral("json"));
        if (encoding == QLatin1String("form"))
            e.encoding = Profile::Encoding::Form;
        else if (encoding != QLatin1String("json"))
            fail(prefix + QStringLiteral("encoding"), QStringLiteral("\"json\" or \"form\""));
        const QJsonObject fields = object(o, prefix, QStringLiteral("fields"), false);
        for (auto it = fields.begin(); it != fields.end(); ++it) {
            if (!it.value().isString())
                fail(prefix + QStringLiteral("fields.") + it.key(), QStringLiteral("a string"));
            e.fields.insert(it.key(), it.value().toString());
        }
        e.extra = object(o, prefix, QStringLiteral("extra"), false);
        const QJsonValue bearer = o.value(QLatin1String("bearer"));
        if (!bearer.isUndefined() && !bearer.isBool())
            fail(prefix + QStringLiteral("bearer"), QStringLiteral("true or false"));
        e.bearer = bearer.toBool(false);
        const QString method
            = string(o, prefix, QStringLiteral("method"), false, QStringLiteral("POST"));
        if (method != QLatin1String("POST") && method != QLatin1String("PUT")
            && method != QLatin1String("PATCH"))
            fail(prefix + QStringLiteral("method"),
                QStringLiteral("\"POST\", \"PUT\" or \"PATCH\""));
        e.method = method.toLatin1();
        const QJsonObject headers = object(o, prefix, QStringLiteral("headers"), false);
        for (auto it = headers.begin(); it != headers.end(); ++it) {
            if (!it.value().isString())
                fail(prefix + QStringLiteral("headers.") + it.key(), QStringLiteral("a string"));
            e.headers.insert(it.key().toLatin1(), it.value().toString().toUtf8());
        }
        const QJsonObject basic = object(o, prefix, QStringLiteral("basic"), false);
        if (!basic.isEmpty()) {
            known(basic, prefix + QStringLiteral("basic."),
                { QStringLiteral("username"), QStringLiteral("password") });
            e.basicUser = string(
                basic, prefix + QStringLiteral("basic."), QStringLiteral("username"), true);
            e.basicPassword = string(
                basic, prefix + QStringLiteral("basic."), QStringLiteral("password"), false);
        }
        if (sendsRefreshToken) {
            const QJsonObject send
                = object(o, prefix, QStringLiteral("send"), key == QLatin1String("refresh"));
            if (!send.isEmpty())
                e.send = location(send, prefix + QStringLiteral("send."), false);
        }
        return e;
    }

    // "refresh.rejectedWhen": a non-empty list of {"status": S or [S…], "pointer": P,
    // "values": V or [V…]}; absent: defaultRejectionRules().
    QList<Profile::RejectionRule> rejectionRules(const QJsonValue &value, const QString &key)
    {
        if (value.isUndefined() || value.isNull())
            return defaultRejectionRules();
        if (!value.isArray() || value.toArray().isEmpty()) {
            fail(key,
                QStringLiteral("a non-empty list of rules such as {\"status\": [400], "
                               "\"pointer\": \"/error\", \"values\": [\"invalid_grant\"]}"));
            return {};
        }
        QList<Profile::RejectionRule> rules;
        const QJsonArray list = value.toArray();
        for (qsizetype i = 0; i < list.size(); ++i) {
            const QString at = QStringLiteral("%1[%2]").arg(key).arg(i);
            if (!list.at(i).isObject()) {
                fail(at,
                    QStringLiteral("an object with \"status\", and optionally \"pointer\" "
                                   "and \"values\""));
                continue;
            }
            const QJsonObject o = list.at(i).toObject();
            for (auto it = o.begin(); it != o.end(); ++it) {
                if (it.key() != QLatin1String("status") && it.key() != QLatin1String("pointer")
                    && it.key() != QLatin1String("values"))
                    fail(at + QLatin1Char('.') + it.key(),
                        QStringLiteral("\"status\", \"pointer\" or \"values\" (a rule has no "
                                       "other key)"));
            }
            Profile::RejectionRule rule;
            const QJsonValue status = o.value(QLatin1String("status"));
            const QJsonArray statuses = status.isArray() ? status.toArray() : QJsonArray { status };
            const QString statusExpected
                = QStringLiteral("an HTTP status from 400 to 499, or a non-empty list of them");
            if (statuses.isEmpty())
                fail(at + QStringLiteral(".status"), statusExpected);
            for (const QJsonValue &s : statuses) {
                const double code = s.toDouble(-1);
                if (!s.isDouble() || code != std::floor(code) || code < 400 || code > 499) {
                    fail(at + QStringLiteral(".status"), statusExpected);
                    break;
                }
                rule.statuses << int(code);
            }
            rule.pointer = pointer(o, at + QLatin1Char('.'), QStringLiteral("pointer"), false);
            const QJsonValue values = o.value(QLatin1String("values"));
            if (rule.pointer.isEmpty()) {
                if (!values.isUndefined())
                    fail(at + QStringLiteral(".values"),
                        QStringLiteral("a \"pointer\" beside it, saying where to read them"));
            } else {
                const QJsonArray list = values.isArray() ? values.toArray()
                    : values.isUndefined()               ? QJsonArray()
                                                         : QJsonArray { values };
                const QString valuesExpected
                    = QStringLiteral("a string or a number, or a non-empty list of them, to "
                                     "compare with the value at \"pointer\"");
                if (list.isEmpty())
                    fail(at + QStringLiteral(".values"), valuesExpected);
                for (const QJsonValue &v : list) {
                    if (!v.isString() && !v.isDouble()) {
                        fail(at + QStringLiteral(".values"), valuesExpected);
                        break;
                    }
                    rule.values << v;
                }
            }
            rules << rule;
        }
        return rules;
    }
};

// A profile that failed to parse: invalid, and keeping why (errorString()).
ServerProfile failed(const QString &message, QString *error)
{
    if (error)
        *error = message;
    ServerProfile profile;
    ServerProfilePrivate::data(profile)->errorString = message;
    return profile;
}

} // namespace

ServerProfile::ServerProfile()
    : d(new ServerProfileData)
{ }

ServerProfile::ServerProfile(const ServerProfile &other) = default;
ServerProfile &ServerProfile::operator=(const ServerProfile &other) = default;
ServerProfile::~ServerProfile() = default;

ServerProfile ServerProfile::fromJsonObject(const QJsonObject &root, QString *error)
{
    ServerProfile profile;
    ServerProfileData *p = profile.d.data();
    Reader r;
    p->json = root;
    p->name = r.string(root, QString(), QStringLiteral("name"), true);
    const QJsonValue version = root.value(QLatin1String("version"));
    if (!version.isUndefined() && (!version.isDouble() || version.toDouble() != 1.0))
        r.fail(QStringLiteral("version"),
            QStringLiteral("1 (this Latchkey reads profiles of format version 1)"));
    // "$schema": the JSON Schema an editor validates the file with (docs/profile.schema.json).
    r.known(root, QString(),
        { QStringLiteral("$schema"), QStringLiteral("name"), QStringLiteral("description"),
            QStringLiteral("version"), QStringLiteral("login"), QStringLiteral("refresh"),
            QStringLiteral("logout"), QStringLiteral("register"), QStringLiteral("changePassword"),
            QStringLiteral("tokens"), QStringLiteral("errors"), QStringLiteral("me"),
            QStringLiteral("claims"), QStringLiteral("apiKey"), QStringLiteral("endpoints"),
            QStringLiteral("authorization"), QStringLiteral("oidc") });
    // An OpenID provider's exchanges come from its endpoints (discovered or given under "oidc"):
    // such a profile needs no "login" or "tokens".
    const QJsonObject oidc = r.object(root, QString(), QStringLiteral("oidc"), false);
    p->hasOidc = root.contains(QLatin1String("oidc"));
    if (p->hasOidc)
        p->oidc = r.oidc(oidc);
    p->login = r.endpoint(root, QStringLiteral("login"), !p->hasOidc, false);
    if (p->login.fields.value(QStringLiteral("identity")).isEmpty())
        p->login.fields.insert(QStringLiteral("identity"), QStringLiteral("email"));
    if (p->login.fields.value(QStringLiteral("password")).isEmpty())
        p->login.fields.insert(QStringLiteral("password"), QStringLiteral("password"));
    // Optional: a server without refresh tokens ends the session when the access token does.
    p->refresh = r.endpoint(root, QStringLiteral("refresh"), false, true);
    p->refreshRejectedWhen = r.rejectionRules(
        root.value(QLatin1String("refresh")).toObject().value(QLatin1String("rejectedWhen")),
        QStringLiteral("refresh.rejectedWhen"));
    p->logout = r.endpoint(root, QStringLiteral("logout"), false, true);
    p->registration = r.endpoint(root, QStringLiteral("register"), false, false);
    if (!p->registration.path.isEmpty()) {
        for (const auto &[key, fallback] :
            { std::pair { "identity", "email" }, { "password", "password" } }) {
            if (p->registration.fields.value(QLatin1String(key)).isEmpty())
                p->registration.fields.insert(QLatin1String(key), QLatin1String(fallback));
        }
    }
    p->changePassword = r.endpoint(root, QStringLiteral("changePassword"), false, false);
    if (!p->changePassword.path.isEmpty()) {
        for (const auto &[key, fallback] :
            { std::pair { "current", "current_password" }, { "new", "new_password" } }) {
            if (p->changePassword.fields.value(QLatin1String(key)).isEmpty())
                p->changePassword.fields.insert(QLatin1String(key), QLatin1String(fallback));
        }
    }

    const QJsonObject tokens = r.object(root, QString(), QStringLiteral("tokens"), !p->hasOidc);
    const QString t = QStringLiteral("tokens.");
    r.known(tokens, t,
        { QStringLiteral("access"), QStringLiteral("refresh"), QStringLiteral("expiresIn"),
            QStringLiteral("user"), QStringLiteral("idToken") });
    // The defaults of an OpenID provider: RFC 6749 §5.1 and OpenID Connect Core §3.1.3.3.
    p->accessTokenPointer = r.pointer(tokens, t, QStringLiteral("access"), !p->hasOidc,
        p->hasOidc ? QStringLiteral("/access_token") : QString());
    const QJsonObject refresh = r.object(tokens, t, QStringLiteral("refresh"), false);
    if (!refresh.isEmpty()) {
        p->refreshTokenLocation = r.location(refresh, t + QStringLiteral("refresh."), true);
    } else if (p->hasOidc) {
        p->refreshTokenLocation.in = Profile::Carrier::Body;
        p->refreshTokenLocation.pointer = QStringLiteral("/refresh_token");
    }
    p->expiresInPointer = r.pointer(tokens, t, QStringLiteral("expiresIn"), false,
        p->hasOidc ? QStringLiteral("/expires_in") : QString());
    p->idTokenPointer = r.pointer(tokens, t, QStringLiteral("idToken"), false,
        p->hasOidc ? QStringLiteral("/id_token") : QString());
    p->userPointer = r.pointer(tokens, t, QStringLiteral("user"), false);

    const QJsonObject errors = r.object(root, QString(), QStringLiteral("errors"), false);
    const QString e = QStringLiteral("errors.");
    r.known(errors, e,
        { QStringLiteral("message"), QStringLiteral("requirements"), QStringLiteral("lockedUntil"),
            QStringLiteral("attemptsLeft"), QStringLiteral("retryAfter") });
    const QJsonValue messages = errors.value(QLatin1String("message"));
    if (messages.isString()) {
        p->errorMessagePointers << messages.toString();
    } else if (messages.isArray()) {
        for (const QJsonValue &m : messages.toArray()) {
            if (!m.isString() || !JsonPointer::isValid(m.toString()))
                r.fail(e + QStringLiteral("message"), QStringLiteral("JSON Pointers"));
            p->errorMessagePointers << m.toString();
        }
    } else if (!messages.isUndefined()) {
        r.fail(e + QStringLiteral("message"), QStringLiteral("a JSON Pointer or a list of them"));
    }
    if (p->errorMessagePointers.isEmpty() && p->hasOidc)
        p->errorMessagePointers
            = { QStringLiteral("/error_description"), QStringLiteral("/error") };
    if (p->errorMessagePointers.isEmpty()) {
        p->errorMessagePointers
            = { QStringLiteral("/message"), QStringLiteral("/error_description"),
                  QStringLiteral("/detail"), QStringLiteral("/error") };
    }
    p->requirementsPointer = r.pointer(
        errors, e, QStringLiteral("requirements"), false, QStringLiteral("/requirements"));
    p->lockedUntilPointer = r.pointer(
        errors, e, QStringLiteral("lockedUntil"), false, QStringLiteral("/locked_until"));
    p->attemptsLeftPointer = r.pointer(
        errors, e, QStringLiteral("attemptsLeft"), false, QStringLiteral("/attempts_left"));
    p->retryAfterPointer
        = r.pointer(errors, e, QStringLiteral("retryAfter"), false, QStringLiteral("/retry_after"));
    const QJsonValue me = root.value(QLatin1String("me"));
    if (me.isObject()) {
        const QJsonObject meObject = me.toObject();
        r.known(
            meObject, QStringLiteral("me."), { QStringLiteral("path"), QStringLiteral("user") });
        p->mePath = r.path(meObject, QStringLiteral("me."), QStringLiteral("path"), true);
        p->meUserPointer
            = r.pointer(meObject, QStringLiteral("me."), QStringLiteral("user"), false);
    } else {
        p->mePath = r.path(root, QString(), QStringLiteral("me"), false);
    }

    const QJsonObject claims = r.object(root, QString(), QStringLiteral("claims"), false);
    r.known(claims, QStringLiteral("claims."),
        { QStringLiteral("roles"), QStringLiteral("permissions") });
    const QString rolesPointer
        = r.pointer(claims, QStringLiteral("claims."), QStringLiteral("roles"), false);
    p->rolesPointers = rolesPointer.isEmpty()
        ? QStringList { QStringLiteral("/roles"), QStringLiteral("/role") }
        : QStringList { rolesPointer };
    p->permissionsPointer = r.pointer(claims, QStringLiteral("claims."),
        QStringLiteral("permissions"), false, QStringLiteral("/permissions"));
    const QJsonObject apiKey = r.object(root, QString(), QStringLiteral("apiKey"), false);
    r.known(apiKey, QStringLiteral("apiKey."), { QStringLiteral("header") });
    p->apiKeyHeader = r.string(apiKey, QStringLiteral("apiKey."), QStringLiteral("header"), false,
                           QStringLiteral("X-API-Key"))
                          .toLatin1();
    r.object(root, QString(), QStringLiteral("endpoints"), false); // for test suites; free-form
    const QJsonObject authorization
        = r.object(root, QString(), QStringLiteral("authorization"), false);
    r.known(authorization, QStringLiteral("authorization."),
        { QStringLiteral("header"), QStringLiteral("scheme") });
    p->authorizationHeader = r.string(authorization, QStringLiteral("authorization."),
                                  QStringLiteral("header"), false, QStringLiteral("Authorization"))
                                 .toLatin1();
    p->authorizationScheme = r.string(authorization, QStringLiteral("authorization."),
                                  QStringLiteral("scheme"), false, QStringLiteral("Bearer"))
                                 .toLatin1();
    if (!p->refresh.path.isEmpty() && p->refreshTokenLocation.in == Profile::Carrier::None)
        r.fail(QStringLiteral("tokens.refresh"),
            QStringLiteral("where refresh tokens arrive, since \"refresh\" is given"));

    if (!r.error.isEmpty())
        return failed(r.error, error);
    p->valid = true;
    return profile;
}

ServerProfile ServerProfile::fromJson(const QByteArray &json, QString *error)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        return failed(QStringLiteral("profile is not valid JSON: %1 at offset %2")
                          .arg(parseError.errorString())
                          .arg(parseError.offset),
            error);
    }
    if (!doc.isObject())
        return failed(QStringLiteral("profile: expected a JSON object at the top level"), error);
    return fromJsonObject(doc.object(), error);
}

ServerProfile ServerProfile::fromFile(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return failed(
            QStringLiteral("cannot read profile %1: %2").arg(path, file.errorString()), error);
    }
    constexpr qint64 maxProfileSize = 1 << 20;
    if (file.size() > maxProfileSize)
        return failed(QStringLiteral("profile %1 is larger than 1 MiB").arg(path), error);
    return fromJson(file.readAll(), error);
}

QStringList ServerProfile::builtinNames()
{
    QStringList names;
    const auto entries = QDir(QStringLiteral(":/latchkey/profiles"))
                             .entryList({ QStringLiteral("*.json") }, QDir::Files, QDir::Name);
    for (const QString &entry : entries)
        names << entry.chopped(5);
    return names;
}

ServerProfile ServerProfile::builtin(const QString &name, QString *error)
{
    if (!builtinNames().contains(name)) {
        return failed(QStringLiteral("no built-in profile \"%1\" (built-in: %2)")
                          .arg(name, builtinNames().join(QStringLiteral(", "))),
            error);
    }
    return fromFile(QStringLiteral(":/latchkey/profiles/%1.json").arg(name), error);
}

ServerProfile ServerProfile::load(const QString &nameOrPath, QString *error)
{
    if (builtinNames().contains(nameOrPath))
        return builtin(nameOrPath, error);
    if (!QFile::exists(nameOrPath)) {
        return failed(QStringLiteral("\"%1\" is neither a built-in profile (%2) nor a file")
                          .arg(nameOrPath, builtinNames().join(QStringLiteral(", "))),
            error);
    }
    return fromFile(nameOrPath, error);
}

bool ServerProfile::isValid() const
{
    return d->valid;
}

QString ServerProfile::errorString() const
{
    return d->errorString;
}

QString ServerProfile::name() const
{
    return d->name;
}

bool ServerProfile::isOpenIdConnect() const
{
    return d->hasOidc;
}

bool ServerProfile::hasPasswordSignIn() const
{
    return d->valid && !d->login.path.isEmpty();
}

QString ServerProfile::errorMessage(const QByteArray &body) const
{
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    const QJsonValue root = doc.isObject() ? QJsonValue(doc.object())
        : doc.isArray()                    ? QJsonValue(doc.array())
                                           : QJsonValue();
    for (const QString &pointer : d->errorMessagePointers) {
        const QJsonValue v = JsonPointer::resolve(root, pointer);
        if (v.isString() && !v.toString().isEmpty())
            return v.toString();
    }
    return QString();
}

ServerProfile ServerProfile::openIdConnect(
    const QUrl &issuer, const QString &clientId, const QStringList &scopes)
{
    QJsonObject root = builtin(QStringLiteral("oidc")).toJson();
    QJsonObject oidc = root.value(QLatin1String("oidc")).toObject();
    oidc.insert(QLatin1String("issuer"), issuer.toString());
    oidc.insert(QLatin1String("clientId"), clientId);
    if (!scopes.isEmpty())
        oidc.insert(QLatin1String("scopes"), QJsonArray::fromStringList(scopes));
    root.insert(QLatin1String("oidc"), oidc);
    return fromJsonObject(root);
}

QJsonObject ServerProfile::toJson() const
{
    return d->json;
}

} // namespace Latchkey
