#pragma once

#include <QHttpServerResponse>

#include <optional>

class AuthService;
class FaultInjector;
class QHttpServerRequest;

// The /test/* endpoints (only with --test-hooks), all POST with a JSON body, 204 on success:
//   /test/expire-access-tokens {"email"?}  access tokens issued so far are rejected as expired
//   /test/fail-refresh {"status":503,"count":1}  the next refresh calls fail with that status
//   /test/revoke-sessions {"email"}  revoke every refresh-token family of the user
//   /test/latency {"ms":2000}  delay every later response except /test/* and /health
class TestHooks
{
public:
    TestHooks(FaultInjector &faults, AuthService &auth);

    // Answers a /test/* request; std::nullopt for any other path.
    std::optional<QHttpServerResponse> handle(const QHttpServerRequest &request);

private:
    FaultInjector &m_faults;
    AuthService &m_auth;
};
