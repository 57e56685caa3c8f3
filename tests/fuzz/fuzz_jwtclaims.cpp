// libFuzzer target: decoding a JWT's claims (JwtClaims) and the lifetime parseTokens() derives
// from them. An input starting with '{' is a payload, wrapped into an unsigned token, so the
// fuzzer reaches the JSON reader as easily as the splitting and base64url decoding; any other
// input is a whole token.

#include "fuzzsupport.h"
#include "jwtclaims_p.h"

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
    const QByteArray token = input.startsWith('{')
        ? QByteArrayLiteral("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.")
            + input.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals)
            + QByteArrayLiteral(".c2lnbmF0dXJl")
        : input;

    if (const auto claims = JwtClaims::decode(token)) {
        (void)claims->claims().size();
        (void)claims->lifetimeSeconds();
        (void)claims->roles();
    }

    // As a sign-in answer of a profile without expires_in, where the lifetime comes from the
    // token's exp - iat: unknown (-1) or within the bounds, never anything else.
    for (const ServerProfile &profile : LatchkeyFuzz::builtinProfiles()) {
        if (!ServerProfilePrivate::of(profile).expiresInPointer.isEmpty())
            continue;
        HttpResult result;
        result.status = 200;
        result.body = LatchkeyFuzz::jsonWith(
            ServerProfilePrivate::of(profile).accessTokenPointer, QString::fromLatin1(token));
        TokenSet tokens;
        AuthError error;
        if (WireFormat::parseTokens(profile, result, &tokens, &error)) {
            check(tokens.lifetimeMs == -1
                    || (tokens.lifetimeMs >= TokenLifetime::minMs
                        && tokens.lifetimeMs <= TokenLifetime::maxMs),
                "a token lifetime outside TokenLifetime's bounds");
        }
    }
    return 0;
}
