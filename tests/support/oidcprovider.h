#pragma once

#include <QJsonObject>
#include <QProcess>
#include <QStringList>
#include <QUrl>

#include <memory>
#include <vector>

namespace LatchkeyTest {

// A real OpenID provider (tests/support/oidc/provider.mjs: oidc-provider on Node.js) as a child
// process on a free loopback port, with its test hooks, and the headless user agent
// (useragent.mjs) that signs in on its pages in place of the user's browser.
//
// Its clients: latchkey-native (public, loopback http://127.0.0.1/callback on any port and
// com.example.latchkey:/callback; code, refresh, device code), latchkey-confidential (basic,
// "confidential-secret"), latchkey-service (basic) and latchkey-service-post (post), both
// "service-secret" with client credentials. Users: any login with the password "correct horse";
// sub = login, email = <login>@example.com. tests/support/oidc/README.md has the rest.
class OidcProvider
{
public:
    OidcProvider();
    ~OidcProvider();
    OidcProvider(const OidcProvider &) = delete;
    OidcProvider &operator=(const OidcProvider &) = delete;

    // Whether node and the provider's npm packages (scripts/deps.sh) are there; \a why says what
    // is missing. Tests QFAIL with it: CI must run them.
    static bool available(QString *why = nullptr);

    // Starts `node provider.mjs --port 0 --test-hooks` plus extraArgs (--access-ttl S,
    // --device-interval S, --refresh-ttl S, --device-ttl S) and waits (bounded) for its
    // LISTENING line. False (and errorString()) when it does not start.
    // $LATCHKEY_OIDC_VERBOSE=1 adds --verbose: the provider logs its errors (with the reason
    // behind every "grant request is invalid") on the test's stderr.
    bool start(const QStringList &extraArgs = {});
    void stop();

    QUrl issuer() const { return m_issuer; }
    QString errorString() const { return m_error; }

    // Runs the user agent on an authorization URL, asynchronously: keep the event loop running
    // (QTRY_*, QSignalSpy::wait; never waitForFinished) so the application's loopback listener
    // in the test process can answer it. args: --login L, --password P, --deny. Its stdout has
    // `REDIRECT <url>` (see redirectOf()) and `STATUS <n>`; exit code 0 when it reached the
    // redirect URI, 3 when the login was rejected. The process belongs to this object.
    QProcess *authorize(const QUrl &url, const QStringList &args = {});
    // The same for the device flow: enters userCode (empty: the URI is verification_uri_complete),
    // confirms, signs in and consents (--deny: aborts on the confirmation page). Its stdout says
    // `DEVICE APPROVED` or `DEVICE DENIED`.
    QProcess *approveDevice(
        const QUrl &verificationUri, const QString &userCode, const QStringList &args = {});
    // The redirect the user agent followed out of the provider (its `REDIRECT` line); for a
    // private-use scheme, the URL to hand to AuthClient::handleRedirect().
    static QUrl redirectOf(QProcess *userAgent);
    // Exit code, stdout and stderr of a finished user agent, for QVERIFY2 messages.
    static QByteArray describe(QProcess *userAgent);

    // Blocking helpers (they spin a local event loop, bounded).
    // RFC 7662 introspection as latchkey-introspector: whether the provider still honours token.
    bool isActive(const QByteArray &token);
    // {"token": {"<grant_type>": n}, "discovery": n, "authorization": n, "deviceAuthorization": n,
    //  "revocation": n, "introspection": n, "userinfo": n, "endSession": n}
    QJsonObject counters();
    int tokenRequests(const QString &grantType)
    {
        return counters()[QStringLiteral("token")].toObject()[grantType].toInt();
    }
    void resetCounters();
    // Every pending device code expires now (the token endpoint answers expired_token).
    void expireDeviceCodes();
    // Every access token / refresh token expires now (introspection inactive, userinfo 401,
    // refresh invalid_grant).
    void expireAccessTokens();
    void expireRefreshTokens();
    // The next \a count device-code polls answer slow_down.
    void slowDown(int count = 1);
    // POST to any /test/ hook; the HTTP status.
    int hook(const QString &path, const QByteArray &json = "{}");

    // Paths for tests that run the pieces themselves (the CLI tests' $BROWSER).
    static QString nodeProgram();
    static QString userAgentScript();
    static QString browserScript();

private:
    QProcess *startUserAgent(const QStringList &args);
    QByteArray request(const QString &path, const QByteArray &verb, const QByteArray &body,
        const QByteArray &contentType, const QByteArray &authorization, int *status);

    QProcess m_process;
    std::vector<std::unique_ptr<QProcess>> m_userAgents;
    QUrl m_issuer;
    QString m_error;
};

} // namespace LatchkeyTest
