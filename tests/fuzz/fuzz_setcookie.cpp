// libFuzzer target: Set-Cookie capture. Each input line is one Set-Cookie header of a 200
// sign-in answer; AuthCall captures the cookies as Qt's HTTP layer hands them over
// (QNetworkCookie::parseCookies), every built-in profile whose refresh token arrives in a
// cookie reads it, and the refresh request sends it back.

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
    LatchkeyFuzz::Answer answer;
    answer.status = 200;
    for (const QByteArray &line : input.split('\n'))
        answer.headers.append({ QByteArrayLiteral("Set-Cookie"), line });

    for (const ServerProfile &profile : LatchkeyFuzz::builtinProfiles()) {
        const Profile::TokenLocation location
            = ServerProfilePrivate::of(profile).refreshTokenLocation;
        if (location.in != Profile::Carrier::Cookie)
            continue;
        answer.body = LatchkeyFuzz::jsonWith(
            ServerProfilePrivate::of(profile).accessTokenPointer, QStringLiteral("at"));
        const HttpResult result = LatchkeyFuzz::capture(answer);

        // The token is the last non-empty value of a cookie of the profile's name.
        QByteArray expected;
        for (const QNetworkCookie &cookie : result.cookies) {
            (void)cookie.toRawForm(QNetworkCookie::Full);
            if (QString::fromUtf8(cookie.name()) == location.name && !cookie.value().isEmpty())
                expected = cookie.value();
        }
        TokenSet tokens;
        AuthError error;
        if (!WireFormat::parseTokens(profile, result, &tokens, &error)) {
            // Only a cookie that cannot be sent back as it came is a reason to refuse.
            check(!LatchkeyFuzz::headerSafe(expected),
                "a sign-in answer with an access token refused for its cookies");
            continue;
        }
        check(tokens.refresh == expected, "a refresh token other than the cookie's value");

        if (!tokens.refresh.isEmpty()) {
            const PreparedRequest request = WireFormat::refresh(
                profile, QUrl(QStringLiteral("https://auth.example")), tokens.refresh);
            check(LatchkeyFuzz::headerSafe(request.request.rawHeader("Cookie")),
                "a captured cookie that would break the Cookie header it is sent back in");
        }
    }
    return 0;
}
