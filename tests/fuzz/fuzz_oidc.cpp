// libFuzzer target: what an OpenID provider (or whoever reaches the loopback listener) sends
// that the SDK reads before trusting anything — the discovery document, the redirect's query,
// the ID token. The input is three parts separated by a line "--": a discovery document, a
// redirect URL's query, an ID token (or, when it starts with '{', its claims, wrapped into an
// unsigned token). Properties: a document is accepted only for the configured issuer with an
// https or loopback token endpoint; a redirect is accepted only with the request's own state; an
// ID token only for the configured issuer, client and nonce.

#include "authorizationrequest_p.h"
#include "fuzzsupport.h"
#include "idtoken_p.h"
#include "oidcmetadata_p.h"

#include <QJsonObject>

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
    QList<QByteArray> parts = input.split('\n');
    QByteArray document, query, idToken;
    int section = 0;
    for (const QByteArray &line : parts) {
        if (line == "--") {
            ++section;
            continue;
        }
        QByteArray &target = section == 0 ? document : section == 1 ? query : idToken;
        if (!target.isEmpty())
            target += '\n';
        target += line;
    }
    if (idToken.startsWith('{')) {
        idToken = QByteArrayLiteral("eyJhbGciOiJub25lIn0.")
            + idToken.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals)
            + '.';
    }

    Profile::OpenIdConnect settings;
    settings.issuer = QUrl(QStringLiteral("https://idp.example"));
    settings.clientId = QStringLiteral("app");
    settings.scopes = { QStringLiteral("openid") };
    settings.redirectUri = QUrl(QStringLiteral("http://127.0.0.1:8400/callback"));

    OidcMetadata metadata;
    AuthError error;
    if (OidcMetadata::fromDiscovery(settings, document, false, &metadata, &error)) {
        check(metadata.issuer == settings.issuer || metadata.issuer.isEmpty()
                || metadata.issuer.toString() == settings.issuer.toString(),
            "a discovery document of another issuer accepted");
        check(isSecureEndpoint(metadata.token, false), "an insecure token endpoint accepted");
    } else {
        check(error.isError(), "a refused document without an error");
    }

    metadata.issuer = settings.issuer;
    metadata.authorization = QUrl(QStringLiteral("https://idp.example/auth"));
    const AuthorizationRequest request(settings, metadata, settings.redirectUri);
    QUrl redirect = settings.redirectUri;
    redirect.setQuery(QString::fromLatin1(query));
    QString code;
    if (request.accept(redirect, settings.issuer, &code, &error))
        check(!code.isEmpty(), "a redirect accepted without a code");
    // No input knows the request's fresh state: nothing may be accepted.
    check(!request.accept(redirect, settings.issuer, &code, &error) || query.contains("state="),
        "a redirect without state accepted");

    QJsonObject claims;
    const IdToken::Expected expected { settings.issuer.toString(), settings.clientId,
        QByteArrayLiteral("n0nce"), 1700000000 };
    if (IdToken::validate(idToken, expected, &claims, &error)) {
        check(claims.value(QLatin1String("iss")).toString() == expected.issuer,
            "an ID token of another issuer accepted");
        check(claims.value(QLatin1String("nonce")).toString() == QLatin1String("n0nce"),
            "an ID token with another nonce accepted");
    }
    return 0;
}
