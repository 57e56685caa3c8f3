// libFuzzer target: ServerProfile::fromJson with every validation path (endpoints, token
// locations, errors, claims, refresh.rejectedWhen), then what the SDK does with a profile it
// accepted: build its requests and read canned answers with it.

#include "fuzzsupport.h"

using namespace Latchkey;
using LatchkeyFuzz::check;

namespace {

// Answers every accepted profile reads: tokens, a rejection, a proxy's page, a rate limit.
const QList<HttpResult> &cannedAnswers()
{
    static const QList<HttpResult> answers = [] {
        QList<HttpResult> list;
        const auto add = [&](int status, const QByteArray &body, const QByteArray &retryAfter) {
            HttpResult r;
            r.status = status;
            r.body = body;
            r.retryAfterHeader = retryAfter;
            r.cookies = { QNetworkCookie("refresh_token", "rt-cookie"),
                QNetworkCookie("refreshToken", "rt-cookie-2") };
            list << r;
        };
        add(200,
            R"({"access_token":"at","refresh_token":"rt","expires_in":900,"user":{"id":1},)"
            R"("data":{"access_token":"at","refresh_token":"rt","expires_in":"60"},)"
            R"("accessToken":"at"})",
            {});
        add(400, R"({"error":"invalid_grant","error_description":"expired"})", {});
        add(401, R"({"message":"Invalid or expired refresh token."})", {});
        add(403, "<html>Forbidden</html>", {});
        add(423, R"({"locked_until":"2030-01-01T00:00:00Z","lockedUntil":"2030-01-01T00:00:00Z"})",
            "60");
        add(429, R"({"retry_after":30,"data":{"retry_after":31},"retryAfter":32})", {});
        add(503, R"(["not","an","object"])", "Wed, 21 Oct 2037 07:28:00 GMT");
        return list;
    }();
    return answers;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    LatchkeyFuzz::initialize(argc, argv);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    QString error;
    const ServerProfile profile = ServerProfile::fromJson(input, &error);
    if (!profile.isValid()) {
        check(!error.isEmpty(), "a refused profile without a message saying why");
        check(profile.errorString() == error, "a refused profile that keeps another message");
        return 0;
    }

    // What the profile says, read back: accepted once, accepted again.
    QString again;
    check(ServerProfile::fromJsonObject(profile.toJson(), &again).isValid(),
        "a profile accepted once and refused from its own toJson()");
    check(profile.errorString().isEmpty(), "an accepted profile with an error");
    (void)profile.name();
    (void)profile.hasPasswordSignIn();
    for (const HttpResult &answer : cannedAnswers())
        (void)profile.errorMessage(answer.body);
    const ServerProfileData &wire = ServerProfilePrivate::of(profile);
    for (const Profile::RejectionRule &rule : wire.refreshRejectedWhen) {
        check(!rule.statuses.isEmpty(), "a rejection rule without statuses");
        for (int status : rule.statuses)
            check(status >= 400 && status <= 499, "a rejection rule for a status outside 4xx");
        check(rule.pointer.isEmpty() == rule.values.isEmpty(),
            "a rejection rule with a pointer but no values, or values but no pointer");
    }

    // Its requests, against a base URL with a path.
    const QUrl base(QStringLiteral("https://auth.example/base/"));
    (void)WireFormat::login(
        profile, base, QStringLiteral("user@example.com"), QStringLiteral("pa+ss w&rd=\u00e9"));
    (void)WireFormat::refresh(profile, base, QByteArrayLiteral("refresh-token"));
    (void)WireFormat::logout(
        profile, base, QByteArrayLiteral("access-token"), QByteArrayLiteral("refresh-token"));
    for (const Profile::Endpoint &endpoint : { wire.registration, wire.changePassword }) {
        if (!endpoint.path.isEmpty())
            (void)WireFormat::request(endpoint, base, { { QStringLiteral("k"), 1 } });
    }

    // Canned answers read with it.
    for (const HttpResult &answer : cannedAnswers()) {
        TokenSet tokens;
        AuthError parseError;
        if (WireFormat::parseTokens(profile, answer, &tokens, &parseError))
            check(!tokens.access.isEmpty(), "tokens accepted without an access token");
        const WireFormat::RefreshVerdict verdict = WireFormat::classifyRefresh(profile, answer);
        if (verdict.outcome == WireFormat::RefreshOutcome::Rejected)
            check(verdict.error.kind() == AuthError::Kind::SessionExpired,
                "a rejected refresh that is not SessionExpired");
        for (auto exchange : { WireFormat::Exchange::Login, WireFormat::Exchange::Refresh,
                 WireFormat::Exchange::Logout, WireFormat::Exchange::Me,
                 WireFormat::Exchange::Register, WireFormat::Exchange::ChangePassword }) {
            const AuthError e = WireFormat::errorFor(profile, answer, exchange);
            check(e.retryAfter() >= -1, "a negative Retry-After other than -1 (unknown)");
            (void)e.toString();
        }
    }
    return 0;
}
