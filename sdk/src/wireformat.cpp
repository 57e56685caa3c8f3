#include "wireformat_p.h"

#include <latchkey/apiurl.h>

#include "jsonpointer_p.h"
#include "jwtclaims_p.h"
#include "logging_p.h"
#include "serverprofile_p.h"

#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>
#include <QUrlQuery>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

namespace Latchkey::WireFormat {

namespace {

constexpr auto kJson = "application/json";
constexpr auto kForm = "application/x-www-form-urlencoded";

PreparedRequest build(const Profile::Endpoint &endpoint, const QUrl &baseUrl, QJsonObject fields)
{
    for (auto it = endpoint.extra.begin(); it != endpoint.extra.end(); ++it)
        fields.insert(it.key(), it.value());
    PreparedRequest prepared;
    prepared.verb = endpoint.method;
    prepared.request = QNetworkRequest(apiUrl(baseUrl, endpoint.path));
    prepared.request.setRawHeader(
        QByteArrayLiteral("Accept"), QByteArrayLiteral("application/json"));
    if (endpoint.encoding == Profile::Encoding::Form) {
        QUrlQuery query;
        for (auto it = fields.begin(); it != fields.end(); ++it) {
            const QJsonValue v = it.value();
            query.addQueryItem(it.key(), v.isString() ? v.toString() : v.toVariant().toString());
        }
        // QUrlQuery leaves '+' alone; in a form body it would read as a space.
        prepared.body = query.query(QUrl::FullyEncoded).toUtf8().replace('+', "%2B");
        prepared.request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray(kForm));
    } else {
        prepared.body = QJsonDocument(fields).toJson(QJsonDocument::Compact);
        prepared.request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray(kJson));
    }
    // The auth exchanges keep their cookies out of any cookie jar: a refresh token delivered as
    // a cookie goes to the token store, and is sent back only by us.
    prepared.request.setAttribute(
        QNetworkRequest::CookieLoadControlAttribute, QNetworkRequest::Manual);
    prepared.request.setAttribute(
        QNetworkRequest::CookieSaveControlAttribute, QNetworkRequest::Manual);
    prepared.request.setAttribute(
        QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    prepared.request.setAttribute(QNetworkRequest::CacheSaveControlAttribute, false);
    prepared.request.setAttribute(
        QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    for (auto it = endpoint.headers.begin(); it != endpoint.headers.end(); ++it)
        prepared.request.setRawHeader(it.key(), it.value());
    if (!endpoint.basicUser.isEmpty()) {
        const QString credentials = endpoint.basicUser + QLatin1Char(':') + endpoint.basicPassword;
        prepared.request.setRawHeader(QByteArrayLiteral("Authorization"),
            QByteArrayLiteral("Basic ") + credentials.toUtf8().toBase64());
    }
    return prepared;
}

// The refresh token goes in the body (a field of \a fields) or in a header (after build()).
QJsonObject withBodyToken(
    QJsonObject fields, const Profile::TokenLocation &send, const QByteArray &refreshToken)
{
    if (send.in == Profile::Carrier::Body && !refreshToken.isEmpty())
        fields.insert(send.name, QString::fromUtf8(refreshToken));
    return fields;
}

void attachHeaderToken(
    PreparedRequest &prepared, const Profile::TokenLocation &send, const QByteArray &refreshToken)
{
    if (refreshToken.isEmpty())
        return;
    if (send.in == Profile::Carrier::Cookie) {
        prepared.request.setRawHeader(
            QByteArrayLiteral("Cookie"), send.name.toUtf8() + '=' + refreshToken);
    } else if (send.in == Profile::Carrier::Bearer) {
        prepared.request.setRawHeader(
            QByteArrayLiteral("Authorization"), QByteArrayLiteral("Bearer ") + refreshToken);
    }
}

QString firstString(const QJsonValue &doc, const QStringList &pointers)
{
    for (const QString &p : pointers) {
        const QJsonValue v = JsonPointer::resolve(doc, p);
        if (v.isString() && !v.toString().isEmpty())
            return v.toString();
    }
    return QString();
}

// A wait a server asks for, as AuthError::retryAfter() holds it: from 0 to INT_MAX seconds
// (in double: a server may ask for centuries, or send 1e300).
int boundedRetryAfter(double seconds)
{
    return int(std::clamp(seconds, 0.0, double(std::numeric_limits<int>::max())));
}

// An HTTP-date (RFC 9110 §5.6.7) in any of its three forms, e.g. "Wed, 21 Oct 2037 07:28:00
// GMT": Qt::RFC2822Date does not read its "GMT", and Qt 6.4's own HTTP-date parser (behind
// QNetworkRequest's date headers) reads past the end of a value whose first comma ends it.
QDateTime httpDate(const QByteArray &header)
{
    const QLocale c = QLocale::c();
    const QString text = QString::fromLatin1(header).simplified();
    QDateTime when = c.toDateTime(text, QStringLiteral("ddd, dd MMM yyyy hh:mm:ss t"));
    if (!when.isValid()) {
        // Obsolete RFC 850, "Sunday, 06-Nov-94 08:49:37 GMT": the weekday skipped (as Qt's own
        // parser does), the two-digit year (19yy to QLocale) the latest not 50 years ahead.
        when = c.toDateTime(
            text.section(QStringLiteral(", "), 1), QStringLiteral("dd-MMM-yy hh:mm:ss t"));
        if (when.isValid() && when.addYears(100) <= QDateTime::currentDateTimeUtc().addYears(50))
            when = when.addYears(100);
    }
    if (!when.isValid()) // obsolete asctime, in UTC
        when = c.toDateTime(
            text + QStringLiteral(" GMT"), QStringLiteral("ddd MMM d hh:mm:ss yyyy t"));
    return when;
}

int parseRetryAfter(const QByteArray &header)
{
    if (header.isEmpty())
        return -1;
    bool ok = false;
    const qlonglong seconds = header.trimmed().toLongLong(&ok);
    if (ok)
        return boundedRetryAfter(double(seconds));
    QDateTime when = httpDate(header);
    if (!when.isValid())
        when = QDateTime::fromString(QString::fromLatin1(header.trimmed()), Qt::RFC2822Date);
    if (when.isValid())
        return boundedRetryAfter(double(QDateTime::currentDateTimeUtc().secsTo(when)));
    return -1;
}

// Whether a token can be sent in a header as it came: Qt 6.4 writes a raw header value
// unchecked, so a CR or LF in a token would end the Authorization (or Cookie) header and start
// one of the server's choosing.
bool fitsInAHeader(const QByteArray &token)
{
    return std::none_of(
        token.begin(), token.end(), [](char c) { return uchar(c) < 0x20 || uchar(c) == 0x7f; });
}

// An announced lifetime in seconds (from \a source) as milliseconds within TokenLifetime, or -1
// when it is no positive finite number. Says in \a note what was clamped or ignored.
qint64 lifetimeMs(double seconds, const QString &source, QString *note)
{
    if (!std::isfinite(seconds) || seconds <= 0) {
        *note = QStringLiteral("%1 is not a positive number of seconds: ignored").arg(source);
        return -1;
    }
    // Compared in seconds, in double: seconds * 1000 may not fit any integer.
    if (seconds < double(TokenLifetime::minMs) / 1000) {
        *note = QStringLiteral("%1 of %2 s is shorter than %3 s: using %3 s")
                    .arg(source)
                    .arg(seconds)
                    .arg(TokenLifetime::minMs / 1000);
        return TokenLifetime::minMs;
    }
    if (seconds > double(TokenLifetime::maxMs) / 1000) {
        *note = QStringLiteral("%1 of %2 s is longer than %3 days: using %3 days")
                    .arg(source)
                    .arg(seconds)
                    .arg(TokenLifetime::maxMs / (24 * 60 * 60 * 1000));
        return TokenLifetime::maxMs;
    }
    return qint64(seconds * 1000);
}

// The lifetime an answer announces: the profile's expiresIn, else the JWT's exp - iat, else -1.
qint64 announcedLifetime(
    const ServerProfile &profile, const QJsonValue &root, const QByteArray &access, QString *note)
{
    const QString expiresIn = ServerProfilePrivate::of(profile).expiresInPointer;
    if (!expiresIn.isEmpty()) {
        const QJsonValue v = JsonPointer::resolve(root, expiresIn);
        const QString source = QStringLiteral("expires_in (\"%1\")").arg(expiresIn);
        qint64 ms = -1;
        if (v.isDouble()) {
            ms = lifetimeMs(v.toDouble(), source, note);
        } else if (v.isString()) {
            bool ok = false;
            const double seconds = v.toString().trimmed().toDouble(&ok);
            if (ok)
                ms = lifetimeMs(seconds, source, note);
            else
                *note = QStringLiteral("%1 is not a number: ignored").arg(source);
        } else if (!v.isUndefined() && !v.isNull()) {
            *note = QStringLiteral("%1 is not a number: ignored").arg(source);
        }
        if (ms >= 0)
            return ms;
    }
    if (const auto claims = JwtClaims::decode(access)) {
        if (const auto seconds = claims->lifetimeSeconds()) {
            QString jwtNote;
            const qint64 ms = lifetimeMs(
                *seconds, QStringLiteral("the access token's lifetime (exp - iat)"), &jwtNote);
            if (!jwtNote.isEmpty())
                *note = note->isEmpty() ? jwtNote : *note + QStringLiteral("; ") + jwtNote;
            return ms;
        }
    }
    return -1;
}

// A lifetime the server got wrong is its configuration, not this answer: warn once per
// process, then say it at debug level.
void reportLifetime(const QString &note)
{
    static std::atomic_bool warned { false };
    if (!warned.exchange(true)) {
        qCWarning(lcAuth).noquote()
            << "token lifetime:" << note << "(said once; later ones at debug level)";
    } else {
        qCDebug(lcAuth).noquote() << "token lifetime:" << note;
    }
}

} // namespace

PreparedRequest request(
    const Profile::Endpoint &endpoint, const QUrl &baseUrl, const QJsonObject &fields)
{
    return build(endpoint, baseUrl, fields);
}

PreparedRequest jsonRequest(const QUrl &baseUrl, const QString &path, const QJsonObject &body)
{
    Profile::Endpoint endpoint;
    endpoint.path = path;
    return build(endpoint, baseUrl, body);
}

QJsonValue valueAt(const QByteArray &body, const QString &pointer)
{
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    if (doc.isNull())
        return QJsonValue(QJsonValue::Undefined);
    const QJsonValue root = doc.isObject() ? QJsonValue(doc.object()) : QJsonValue(doc.array());
    return JsonPointer::resolve(root, pointer);
}

bool isLoopbackHost(const QString &host)
{
    if (host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0)
        return true;
    const QHostAddress address(host);
    return !address.isNull() && address.isLoopback();
}

PreparedRequest login(const ServerProfile &profile, const QUrl &baseUrl, const QString &identity,
    const QString &password)
{
    const Profile::Endpoint e = ServerProfilePrivate::of(profile).login;
    QJsonObject fields;
    fields.insert(e.fields.value(QStringLiteral("identity")), identity);
    fields.insert(e.fields.value(QStringLiteral("password")), password);
    return build(e, baseUrl, fields);
}

PreparedRequest refresh(
    const ServerProfile &profile, const QUrl &baseUrl, const QByteArray &refreshToken)
{
    const Profile::Endpoint e = ServerProfilePrivate::of(profile).refresh;
    PreparedRequest prepared = build(e, baseUrl, withBodyToken({}, e.send, refreshToken));
    attachHeaderToken(prepared, e.send, refreshToken);
    return prepared;
}

PreparedRequest logout(const ServerProfile &profile, const QUrl &baseUrl,
    const QByteArray &accessToken, const QByteArray &refreshToken)
{
    const Profile::Endpoint e = ServerProfilePrivate::of(profile).logout;
    PreparedRequest prepared = build(e, baseUrl, withBodyToken({}, e.send, refreshToken));
    if (e.bearer && !accessToken.isEmpty()) {
        prepared.request.setRawHeader(ServerProfilePrivate::of(profile).authorizationHeader,
            ServerProfilePrivate::of(profile).authorizationScheme + ' ' + accessToken);
    }
    attachHeaderToken(prepared, e.send, refreshToken);
    return prepared;
}

bool parseTokens(
    const ServerProfile &profile, const HttpResult &result, TokenSet *tokens, AuthError *error)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(result.body, &parseError);
    if (parseError.error != QJsonParseError::NoError || !(doc.isObject() || doc.isArray())) {
        *error = AuthError(AuthError::Kind::Protocol,
            QStringLiteral("expected a JSON body with the tokens, got %1")
                .arg(result.body.isEmpty()
                        ? QStringLiteral("an empty body")
                        : QStringLiteral("malformed JSON (%1)").arg(parseError.errorString())),
            result.status);
        return false;
    }
    const QJsonValue root = doc.isObject() ? QJsonValue(doc.object()) : QJsonValue(doc.array());

    const QJsonValue access
        = JsonPointer::resolve(root, ServerProfilePrivate::of(profile).accessTokenPointer);
    if (!access.isString() || access.toString().isEmpty()) {
        *error = AuthError(AuthError::Kind::Protocol,
            QStringLiteral("expected an access token (a string) at \"%1\"")
                .arg(ServerProfilePrivate::of(profile).accessTokenPointer),
            result.status);
        return false;
    }
    tokens->access = access.toString().toUtf8();
    if (!fitsInAHeader(tokens->access)) {
        *error = AuthError(AuthError::Kind::Protocol,
            QStringLiteral("the access token at \"%1\" holds control characters")
                .arg(ServerProfilePrivate::of(profile).accessTokenPointer),
            result.status);
        return false;
    }

    const Profile::TokenLocation rt = ServerProfilePrivate::of(profile).refreshTokenLocation;
    if (rt.in == Profile::Carrier::Body) {
        const QJsonValue v = JsonPointer::resolve(root, rt.pointer);
        if (v.isString())
            tokens->refresh = v.toString().toUtf8();
        else if (!v.isUndefined() && !v.isNull()) {
            *error = AuthError(AuthError::Kind::Protocol,
                QStringLiteral("expected the refresh token (a string) at \"%1\"").arg(rt.pointer),
                result.status);
            return false;
        }
    } else if (rt.in == Profile::Carrier::Cookie) {
        for (const QNetworkCookie &cookie : result.cookies) {
            if (QString::fromUtf8(cookie.name()) == rt.name && !cookie.value().isEmpty())
                tokens->refresh = cookie.value();
        }
    }

    if (!fitsInAHeader(tokens->refresh)) {
        *error = AuthError(AuthError::Kind::Protocol,
            QStringLiteral("the refresh token holds control characters"), result.status);
        return false;
    }

    if (const auto claims = JwtClaims::decode(tokens->access))
        tokens->claims = claims->claims();

    tokens->lifetimeMs = announcedLifetime(profile, root, tokens->access, &tokens->lifetimeNote);
    if (!tokens->lifetimeNote.isEmpty())
        reportLifetime(tokens->lifetimeNote);

    if (!ServerProfilePrivate::of(profile).userPointer.isEmpty()) {
        const QJsonValue user
            = JsonPointer::resolve(root, ServerProfilePrivate::of(profile).userPointer);
        if (user.isObject())
            tokens->user = user.toObject();
    }
    if (!ServerProfilePrivate::of(profile).idTokenPointer.isEmpty()) {
        const QJsonValue idToken
            = JsonPointer::resolve(root, ServerProfilePrivate::of(profile).idTokenPointer);
        if (idToken.isString())
            tokens->idToken = idToken.toString().toLatin1();
    }
    return true;
}

bool isRejection(const ServerProfile &profile, const HttpResult &result)
{
    if (result.tooLarge || result.transportFailed())
        return false;
    const QList<Profile::RejectionRule> rules
        = ServerProfilePrivate::of(profile).refreshRejectedWhen;
    for (const Profile::RejectionRule &rule : rules) {
        if (!rule.statuses.contains(result.status))
            continue;
        if (rule.pointer.isEmpty())
            return true;
        // No JSON (an HTML page from a proxy) resolves to Undefined and matches no value.
        if (rule.values.contains(valueAt(result.body, rule.pointer)))
            return true;
    }
    return false;
}

RefreshVerdict classifyRefresh(const ServerProfile &profile, const HttpResult &result)
{
    RefreshVerdict verdict;
    if (result.succeeded()) {
        if (parseTokens(profile, result, &verdict.tokens, &verdict.error))
            verdict.outcome = RefreshOutcome::Tokens;
        // else a 2xx without tokens: the server is not speaking the profile (Protocol); asking
        // again gets the same answer.
        return verdict;
    }
    verdict.error = errorFor(profile, result, Exchange::Refresh);
    if (verdict.error.kind() == AuthError::Kind::SessionExpired) {
        verdict.outcome = RefreshOutcome::Rejected;
        return verdict;
    }
    verdict.retry = !result.tooLarge
        && (result.transportFailed() || result.status >= 500 || result.status == 408
            || result.status == 429);
    return verdict;
}

AuthError errorFor(const ServerProfile &profile, const HttpResult &result, Exchange exchange)
{
    if (result.tooLarge) {
        return AuthError(AuthError::Kind::Protocol,
            QStringLiteral("the server's answer is larger than Latchkey accepts "
                           "for an auth exchange (1 MiB)"),
            result.status);
    }
    if (result.transportFailed()) {
        const QString message = result.status == 0
            ? result.networkErrorString
            : QStringLiteral("%1 (the answer, HTTP %2, was cut short)")
                  .arg(result.networkErrorString)
                  .arg(result.status);
        return AuthError(AuthError::Kind::Network, message).setNetworkError(result.networkError);
    }
    const QJsonDocument doc = QJsonDocument::fromJson(result.body);
    const QJsonValue root = doc.isObject() ? QJsonValue(doc.object()) : QJsonValue();
    QString message = firstString(root, ServerProfilePrivate::of(profile).errorMessagePointers);
    if (message.isEmpty())
        message = QStringLiteral("the server answered HTTP %1").arg(result.status);
    const int status = result.status;
    // The profile's rule for a dead refresh token comes first: it is what the server said.
    if (exchange == Exchange::Refresh && isRejection(profile, result))
        return AuthError(AuthError::Kind::SessionExpired, message, status);

    const QJsonValue requirements
        = JsonPointer::resolve(root, ServerProfilePrivate::of(profile).requirementsPointer);
    const QJsonValue lockedUntil
        = JsonPointer::resolve(root, ServerProfilePrivate::of(profile).lockedUntilPointer);
    int retryAfter = parseRetryAfter(result.retryAfterHeader);
    if (retryAfter < 0) {
        const QJsonValue v
            = JsonPointer::resolve(root, ServerProfilePrivate::of(profile).retryAfterPointer);
        if (v.isDouble())
            retryAfter = boundedRetryAfter(v.toDouble());
    }

    if (status == 429)
        return AuthError(AuthError::Kind::RateLimited, message, status).setRetryAfter(retryAfter);
    if (status == 423 || lockedUntil.isString()) {
        return AuthError(AuthError::Kind::AccountLocked, message, status)
            .setLockedUntil(QDateTime::fromString(lockedUntil.toString(), Qt::ISODate))
            .setRetryAfter(retryAfter);
    }
    if (status >= 500) {
        return AuthError(AuthError::Kind::Server, message, status).setRetryAfter(retryAfter);
    }
    if (requirements.isArray()) {
        QStringList list;
        for (const QJsonValue &r : requirements.toArray())
            list << r.toString();
        return AuthError(AuthError::Kind::PasswordPolicy, message, status).setRequirements(list);
    }
    if (status == 409)
        return AuthError(AuthError::Kind::AlreadyExists, message, status);
    switch (exchange) {
    case Exchange::Login:
        if (status == 400 || status == 401 || status == 403) {
            const QJsonValue left
                = JsonPointer::resolve(root, ServerProfilePrivate::of(profile).attemptsLeftPointer);
            return AuthError(AuthError::Kind::InvalidCredentials, message, status)
                .setAttemptsLeft(left.isDouble() ? left.toInt(-1) : -1);
        }
        break;
    case Exchange::Refresh:
        // A 4xx that does not say the grant is dead — an HTML 403 from a proxy or a WAF, a JSON
        // error naming something else: something between here and a working refresh failed,
        // and the session is kept.
        if (status >= 400 && status < 500)
            return AuthError(AuthError::Kind::Server, message, status);
        break;
    case Exchange::ChangePassword:
        if (status == 400 || status == 401 || status == 403)
            return AuthError(AuthError::Kind::InvalidCredentials, message, status);
        break;
    case Exchange::Register:
        break;
    case Exchange::Logout:
    case Exchange::Me:
        if (status == 401)
            return AuthError(AuthError::Kind::SessionExpired, message, status);
        break;
    }
    return AuthError(AuthError::Kind::Protocol, message, status);
}

} // namespace Latchkey::WireFormat
