#include "tokenserver.h"

#include <QJsonObject>
#include <QUrlQuery>

namespace LatchkeyTest {

namespace {

QHttpServerResponse oauthError(const char *code, int status)
{
    return ScriptedServer::json(QByteArray("{\"error\":\"") + code + "\"}", status);
}

} // namespace

TokenServer::TokenServer()
{
    m_server.onDeferred(QStringLiteral("/oauth/token"),
        [this](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
            const QUrlQuery form(QString::fromUtf8(request.body()));
            if (form.queryItemValue(QStringLiteral("grant_type")) == QLatin1String("refresh_token")
                && !down && holdRefreshes) {
                ++refreshCalls;
                QPointer<QTcpSocket> socket(responder.socket());
                m_held.push_back({ std::make_shared<QHttpServerResponder>(std::move(responder)),
                    socket, form.queryItemValue(QStringLiteral("refresh_token")).toUtf8() });
                return;
            }
            token(request).write(std::move(responder));
        });
    m_server.on(QStringLiteral("/oauth/revoke"), [this](const QHttpServerRequest &request) {
        const QUrlQuery form(QString::fromUtf8(request.body()));
        const int s = sessionOf(form.queryItemValue(QStringLiteral("token")).toUtf8());
        if (m_sessions.contains(s))
            m_sessions[s].revoked = true;
        return ScriptedServer::json("{}");
    });
    m_server.on(QStringLiteral("/api/data"), [this](const QHttpServerRequest &request) {
        ++apiCalls;
        const QByteArray authorization = request.value(QByteArrayLiteral("Authorization"));
        apiAuthorizations.append(authorization);
        if (down)
            return ScriptedServer::json(R"({"error":"down"})", 503);
        const QByteArray token = authorization.mid(7);
        const int s = sessionOf(token);
        if (s > 0 && s <= request.value(QByteArrayLiteral("X-Ended-Up-To")).toInt())
            ++m_endedTokenUses;
        if (!authorization.startsWith("Bearer ") || !m_validAccess.contains(token)
            || m_sessions.value(s).revoked)
            return ScriptedServer::json(R"({"error":"invalid_token"})", 401);
        return ScriptedServer::json(R"({"data":"ok"})");
    });
    m_server.on(QStringLiteral("/health"),
        [](const QHttpServerRequest &) { return ScriptedServer::json(R"({"status":"ok"})"); });
}

TokenServer::~TokenServer()
{
    m_held.clear();
}

bool TokenServer::listen()
{
    return m_server.listen();
}

Latchkey::ServerProfile TokenServer::profile()
{
    return Latchkey::ServerProfile::builtin(QStringLiteral("oauth2"));
}

Latchkey::ServerProfile TokenServer::profileWithUser(bool bearerLogout)
{
    QJsonObject json = profile().toJson();
    if (bearerLogout) {
        QJsonObject logout = json.value(QStringLiteral("logout")).toObject();
        logout.insert(QStringLiteral("bearer"), true);
        json.insert(QStringLiteral("logout"), logout);
    }
    QJsonObject tokens = json.value(QStringLiteral("tokens")).toObject();
    tokens.insert(QStringLiteral("user"), QStringLiteral("/user"));
    json.insert(QStringLiteral("tokens"), tokens);
    return Latchkey::ServerProfile::fromJsonObject(json);
}

int TokenServer::sessionOf(const QByteArray &token)
{
    if (token.size() < 2 || (token.at(0) != 'A' && token.at(0) != 'R'))
        return -1;
    bool ok = false;
    const int s = token.mid(1, token.indexOf('.') - 1).toInt(&ok);
    return ok ? s : -1;
}

QHttpServerResponse TokenServer::issue(int s)
{
    Session &session = m_sessions[s];
    const QByteArray n = QByteArray::number(++session.counter);
    const QByteArray access = 'A' + QByteArray::number(s) + '.' + n;
    session.refresh = 'R' + QByteArray::number(s) + '.' + n;
    m_validAccess.insert(access);
    return ScriptedServer::json("{\"access_token\":\"" + access + "\",\"refresh_token\":\""
        + session.refresh + "\",\"token_type\":\"Bearer\",\"expires_in\":" + expiresInJson
        + ",\"user\":{\"name\":\"" + session.user + "\"}}");
}

QHttpServerResponse TokenServer::refresh(const QByteArray &presented)
{
    if (down)
        return oauthError("temporarily_unavailable", 503);
    const int s = sessionOf(presented);
    if (!m_sessions.contains(s))
        return oauthError("invalid_grant", 400);
    Session &session = m_sessions[s];
    if (session.rotated.contains(presented)) {
        ++reuseCount;
        session.revoked = true;
    }
    if (session.revoked || presented != session.refresh)
        return oauthError("invalid_grant", 400);
    session.rotated.insert(presented);
    return issue(s);
}

QHttpServerResponse TokenServer::token(const QHttpServerRequest &request)
{
    const QUrlQuery form(QString::fromUtf8(request.body()));
    const QString grant = form.queryItemValue(QStringLiteral("grant_type"));
    if (grant == QLatin1String("password")) {
        ++loginCalls;
        if (loginsDown)
            return oauthError("temporarily_unavailable", 503);
        if (form.queryItemValue(QStringLiteral("password")) != QLatin1String("pw"))
            return oauthError("invalid_grant", 400);
        m_sessions[m_nextSession].user = form.queryItemValue(QStringLiteral("username")).toUtf8();
        return issue(m_nextSession++);
    }
    if (grant == QLatin1String("refresh_token")) {
        ++refreshCalls;
        return refresh(form.queryItemValue(QStringLiteral("refresh_token")).toUtf8());
    }
    return oauthError("unsupported_grant_type", 400);
}

void TokenServer::releaseRefreshes()
{
    auto held = std::exchange(m_held, {});
    for (Held &h : held) {
        // The server does its work either way (a client that gave up may still have been
        // refreshed, as on a real server); only a live connection gets the answer.
        QHttpServerResponse response = refresh(h.presented);
        if (h.socket)
            response.write(std::move(*h.responder));
    }
}

void TokenServer::revokeAll()
{
    for (Session &s : m_sessions)
        s.revoked = true;
}

void TokenServer::expireAccessTokens()
{
    m_validAccess.clear();
}

} // namespace LatchkeyTest
