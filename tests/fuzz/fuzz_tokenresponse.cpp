// libFuzzer target: an auth server's answer (status, headers, body; see fuzzsupport.h for the
// input's shape) captured by AuthCall as from the network, then read with every built-in
// profile: WireFormat::parseTokens, WireFormat::classifyRefresh and WireFormat::errorFor for
// every exchange.

#include "fuzzsupport.h"

using namespace Latchkey;
using LatchkeyFuzz::check;

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    LatchkeyFuzz::initialize(argc, argv);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    const HttpResult result = LatchkeyFuzz::capture(LatchkeyFuzz::parseAnswer(input));

    for (const ServerProfile &profile : LatchkeyFuzz::builtinProfiles()) {
        TokenSet tokens;
        AuthError error;
        if (WireFormat::parseTokens(profile, result, &tokens, &error)) {
            check(!tokens.access.isEmpty(), "tokens accepted without an access token");
            // Both are sent back in headers (Authorization; a cookie or a bearer refresh).
            check(
                LatchkeyFuzz::headerSafe(tokens.access) && LatchkeyFuzz::headerSafe(tokens.refresh),
                "a token accepted that would break the header it is sent in");
            check(tokens.lifetimeMs == -1
                    || (tokens.lifetimeMs >= TokenLifetime::minMs
                        && tokens.lifetimeMs <= TokenLifetime::maxMs),
                "a token lifetime outside TokenLifetime's bounds");
        } else {
            check(error.kind() == AuthError::Kind::Protocol,
                "unreadable tokens not a Protocol error");
        }

        const WireFormat::RefreshVerdict verdict = WireFormat::classifyRefresh(profile, result);
        switch (verdict.outcome) {
        case WireFormat::RefreshOutcome::Tokens:
            check(result.succeeded(), "tokens adopted from an answer that did not succeed");
            check(!verdict.tokens.access.isEmpty(), "a refresh adopted without an access token");
            break;
        case WireFormat::RefreshOutcome::Rejected:
            check(verdict.error.kind() == AuthError::Kind::SessionExpired,
                "a rejected refresh that is not SessionExpired");
            check(!result.transportFailed() && !result.tooLarge,
                "a transport failure or an oversized answer ended the session");
            break;
        case WireFormat::RefreshOutcome::Transient:
            check(verdict.error.kind() != AuthError::Kind::NoError,
                "a failed refresh without an error");
            break;
        }
        check(verdict.error.retryAfter() >= -1, "a negative Retry-After other than -1 (unknown)");

        for (auto exchange : { WireFormat::Exchange::Login, WireFormat::Exchange::Refresh,
                 WireFormat::Exchange::Logout, WireFormat::Exchange::Me,
                 WireFormat::Exchange::Register, WireFormat::Exchange::ChangePassword }) {
            const AuthError e = WireFormat::errorFor(profile, result, exchange);
            check(e.retryAfter() >= -1, "a negative Retry-After other than -1 (unknown)");
            (void)e.lockedUntil().toString(Qt::ISODate);
            (void)e.toString();
        }
    }
    return 0;
}
