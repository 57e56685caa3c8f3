#include "routeddialect.h"

#include "httputil.h"
#include "metrics.h"

using HttpUtil::Status;

RoutedDialect::RoutedDialect(AuthService &auth, Metrics &metrics)
    : m_auth(auth)
    , m_metrics(metrics)
{ }

void RoutedDialect::publicRoute(Method method, const QString &pattern, PublicFn handler)
{
    m_routes.append({ method, pattern.split(QLatin1Char('/')), std::move(handler), {} });
}

void RoutedDialect::userRoute(Method method, const QString &pattern, UserFn handler)
{
    m_routes.append({ method, pattern.split(QLatin1Char('/')), {}, std::move(handler) });
}

bool RoutedDialect::match(const Route &route, const QStringList &segments, Args *args)
{
    if (route.segments.size() != segments.size())
        return false;
    args->clear();
    for (qsizetype i = 0; i < segments.size(); ++i) {
        if (route.segments[i] == QLatin1String("{}")) {
            if (segments[i].isEmpty())
                return false;
            args->append(segments[i]);
        } else if (route.segments[i] != segments[i]) {
            return false;
        }
    }
    return true;
}

std::optional<QHttpServerResponse> RoutedDialect::handle(const QHttpServerRequest &request)
{
    const QStringList segments = request.url().path().split(QLatin1Char('/'));
    QByteArrayList allowed;
    Args args;
    for (const Route &route : std::as_const(m_routes)) {
        if (!match(route, segments, &args))
            continue;
        if (route.method != request.method()) {
            const QByteArray name = HttpUtil::methodName(int(route.method));
            if (!allowed.contains(name))
                allowed << name;
            continue;
        }
        if (route.publicHandler)
            return route.publicHandler(request, args);
        const BearerResult bearer = m_auth.authenticate(HttpUtil::bearerToken(request));
        if (bearer.status != BearerResult::Status::Ok)
            return unauthorized(bearer);
        return route.userHandler(request, bearer.user, args);
    }
    if (allowed.isEmpty())
        return std::nullopt;
    QHttpServerResponse response = methodNotAllowed();
    response.setHeader(QByteArrayLiteral("Allow"), allowed.join(", "));
    return response;
}

QHttpServerResponse RoutedDialect::methodNotAllowed()
{
    return HttpUtil::message(Status::MethodNotAllowed, QStringLiteral("Method not allowed."));
}

QString RoutedDialect::clientAddress(const QHttpServerRequest &request)
{
    return request.remoteAddress().toString();
}

QHttpServerResponse RoutedDialect::echo(const QHttpServerRequest &request)
{
    QByteArray type = request.value(QByteArrayLiteral("Content-Type"));
    if (type.isEmpty())
        type = QByteArrayLiteral("application/octet-stream");
    return QHttpServerResponse(type, request.body());
}

QByteArray RoutedDialect::bearerChallenge(const QByteArray &realm, const BearerResult &bearer)
{
    QByteArray challenge = "Bearer realm=\"" + realm + '"';
    if (bearer.status == BearerResult::Status::Invalid) {
        challenge += ", error=\"invalid_token\", error_description=\""
            + bearer.errorDescription.toLatin1() + '"';
    }
    return challenge;
}

QString RoutedDialect::isoUtc(const QDateTime &time)
{
    return time.toUTC().toString(Qt::ISODate);
}
