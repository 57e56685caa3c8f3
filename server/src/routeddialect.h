#pragma once

#include "authservice.h"
#include "dialect.h"

#include <QHttpServerRequest>
#include <QList>

#include <functional>

// The common machinery of the dialects: a route table (exact paths, `{}` matches one path
// segment and is passed on as an argument), bearer authentication of protected routes, 405 for a
// known path with another method, and helpers every dialect shares. A subclass registers its
// routes in its constructor and shapes its answers (unauthorized() at least).
class RoutedDialect : public Dialect
{
public:
    std::optional<QHttpServerResponse> handle(const QHttpServerRequest &request) override;

    // The sign-in rate limit is per client address.
    static QString clientAddress(const QHttpServerRequest &request);
    // POST echo: the request body and Content-Type, byte for byte.
    static QHttpServerResponse echo(const QHttpServerRequest &request);
    // `Bearer realm="…"` plus RFC 6750 error attributes for an invalid token.
    static QByteArray bearerChallenge(const QByteArray &realm, const BearerResult &bearer);
    static QString isoUtc(const QDateTime &time); // 2026-01-15T10:30:00Z

protected:
    using Method = QHttpServerRequest::Method;
    using Args = QStringList;
    using PublicFn = std::function<QHttpServerResponse(const QHttpServerRequest &, const Args &)>;
    using UserFn = std::function<QHttpServerResponse(
        const QHttpServerRequest &, const UserRecord &, const Args &)>;

    RoutedDialect(AuthService &auth, Metrics &metrics);

    void publicRoute(Method method, const QString &pattern, PublicFn handler);
    void userRoute(Method method, const QString &pattern, UserFn handler);

    template<class D>
    void publicRoute(Method method, const QString &pattern,
        QHttpServerResponse (D::*fn)(const QHttpServerRequest &))
    {
        D *self = static_cast<D *>(this);
        publicRoute(method, pattern, [self, fn](const QHttpServerRequest &request, const Args &) {
            return (self->*fn)(request);
        });
    }
    template<class D>
    void userRoute(Method method, const QString &pattern,
        QHttpServerResponse (D::*fn)(const QHttpServerRequest &, const UserRecord &))
    {
        D *self = static_cast<D *>(this);
        userRoute(method, pattern,
            [self, fn](const QHttpServerRequest &request, const UserRecord &user, const Args &) {
                return (self->*fn)(request, user);
            });
    }
    template<class D>
    void userRoute(Method method, const QString &pattern,
        QHttpServerResponse (D::*fn)(const QHttpServerRequest &, const UserRecord &, const Args &))
    {
        D *self = static_cast<D *>(this);
        userRoute(method, pattern,
            [self, fn](const QHttpServerRequest &request, const UserRecord &user,
                const Args &args) { return (self->*fn)(request, user, args); });
    }

    // A protected route without a usable bearer token. Count it with
    // m_metrics.countUnauthorized() and send WWW-Authenticate.
    virtual QHttpServerResponse unauthorized(const BearerResult &bearer) = 0;
    virtual QHttpServerResponse methodNotAllowed();

    AuthService &m_auth;
    Metrics &m_metrics;

private:
    struct Route
    {
        Method method;
        QStringList segments;
        PublicFn publicHandler; // exactly one of the two is set
        UserFn userHandler;
    };
    static bool match(const Route &route, const QStringList &segments, Args *args);

    QList<Route> m_routes;
};
