#pragma once

#include "scriptedserver.h"

#include <latchkey/serverprofile.h>

#include <QHash>
#include <QPointer>
#include <QSet>
#include <QTcpSocket>

#include <memory>
#include <vector>

namespace LatchkeyTest {

// A small OAuth 2.0 server (RFC 6749 password and refresh_token grants at /oauth/token, the
// built-in "oauth2" profile) in this process, for tests that must steer it step by step: hold
// refresh answers until released, refuse every token of a session, answer 503, give any
// expires_in. Refresh tokens rotate, and presenting a rotated one counts as reuse and revokes
// its session, as real servers do. Tokens name their session: access "A<s>.<n>", refresh
// "R<s>.<n>". The API: GET /api/data wants a current access token; GET /health wants none.
class TokenServer
{
public:
    TokenServer();
    ~TokenServer();
    bool listen();
    QUrl baseUrl() const { return m_server.baseUrl(); }
    QUrl url(const QString &path) const { return m_server.url(path); }
    static Latchkey::ServerProfile profile();
    // The same, reading the user object each token answer carries ("user": {"name": <the
    // username signed in with>}), and wanting a bearer at sign-out when \a bearerLogout.
    static Latchkey::ServerProfile profileWithUser(bool bearerLogout = false);

    // What a token answer says in expires_in (raw JSON: 3600, 0.001, 1e300, "x", ...).
    QByteArray expiresInJson = "3600";
    // Refresh answers wait until releaseRefreshes().
    bool holdRefreshes = false;
    void releaseRefreshes();
    int heldRefreshes() const { return int(m_held.size()); }
    // 503 for refreshes and API calls.
    bool down = false;
    // 503 for sign-ins (the password grant).
    bool loginsDown = false;

    // Every token issued so far: refreshes answer 400 invalid_grant, the API 401.
    void revokeAll();
    // Access tokens issued so far answer 401 (their refresh tokens still work).
    void expireAccessTokens();

    int refreshCalls = 0;
    int loginCalls = 0;
    int reuseCount = 0; // refreshes that presented a rotated token
    int apiCalls = 0;
    QList<QByteArray> apiAuthorizations; // the Authorization of each /api/data, in order

    // Sessions issued so far are numbered 1..issuedSessions().
    int issuedSessions() const { return m_nextSession - 1; }
    // API requests whose token belonged to a session the test had marked ended when it made
    // the request (its X-Ended-Up-To header: sessions 1..N are over).
    int endedTokenUses() const { return m_endedTokenUses; }

    static int sessionOf(const QByteArray &token); // -1 when not one of ours
    ScriptedServer &scripted() { return m_server; }

private:
    QHttpServerResponse token(const QHttpServerRequest &request);
    QHttpServerResponse refresh(const QByteArray &presented);
    QHttpServerResponse issue(int session);

    struct Session
    {
        QByteArray refresh; // current
        QSet<QByteArray> rotated; // earlier ones
        bool revoked = false;
        QByteArray user;
        int counter = 0;
    };
    ScriptedServer m_server;
    QHash<int, Session> m_sessions;
    QSet<QByteArray> m_validAccess;
    int m_nextSession = 1;
    int m_endedTokenUses = 0;
    struct Held
    {
        std::shared_ptr<QHttpServerResponder> responder;
        QPointer<QTcpSocket> socket; // gone when the client gave up
        QByteArray presented;
    };
    std::vector<Held> m_held;
};

} // namespace LatchkeyTest
