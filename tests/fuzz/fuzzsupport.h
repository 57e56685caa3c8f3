#pragma once

// Shared by the libFuzzer targets in this folder: the SDK's own code paths, fed from a fuzz
// input without a network.

#include "wireformat_p.h"

#include "serverprofile_p.h"

#include <QByteArray>
#include <QJsonValue>
#include <QList>
#include <QNetworkCookie>

namespace LatchkeyFuzz {

// Once per process, from LLVMFuzzerInitialize: a QCoreApplication (AuthCall and
// QNetworkAccessManager expect one) and Qt's messages silenced, so a run prints only what
// libFuzzer finds.
void initialize(int *argc, char ***argv);

// Every profile in sdk/profiles/ (the built-in ones, from the compiled-in resources).
const QList<Latchkey::ServerProfile> &builtinProfiles();

// One HTTP answer as a fuzz input writes it, like the head of a real one:
//
//     HTTP/1.1 429 Too Many Requests      (or just "429"; the status line)
//     Retry-After: 30                     (header lines; repeated ones join as Qt joins them)
//     Set-Cookie: refresh_token=…; HttpOnly
//     X-Fuzz-Network-Error: 2             (a QNetworkReply::NetworkError the transport ends with)
//     X-Fuzz-Too-Large: 1                 (AuthCall cut the body at its size bound)
//                                         (an empty line, then)
//     {"access_token": …}                 (the body)
//
// Lines end with "\n" or "\r\n"; without an empty line there is no body.
struct Answer
{
    int status = 0;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
    int networkError = 0;
    bool tooLarge = false;
};
Answer parseAnswer(const QByteArray &input);

// The HttpResult AuthCall makes of \a answer: the answer is served by a QNetworkReply of our
// own that stores its headers as Qt's HTTP layer does (Set-Cookie lines joined with "\n",
// other repeated headers with ", "), and AuthCall::send() reads it exactly as it reads a real
// one (status attribute, body, Set-Cookie through QNetworkRequest::SetCookieHeader, which is
// QNetworkCookie::parseCookies, the raw Retry-After header).
Latchkey::HttpResult capture(const Answer &answer);

// The cookies AuthCall sees for these Set-Cookie header lines (through capture()).
QList<QNetworkCookie> capturedCookies(const QList<QByteArray> &setCookieLines);

// A compact JSON object that holds \a value at the JSON Pointer \a pointer ("/data/token" →
// {"data":{"token":…}}), as a server answer puts it where a profile reads it.
QByteArray jsonWith(const QString &pointer, const QJsonValue &value);

// Whether \a value can go into an HTTP header as it is: no control characters (Qt 6.4 sends a
// raw header value unchecked, so a CR or LF in it would end the header and start another).
bool headerSafe(const QByteArray &value);

// Aborts (a finding for libFuzzer) with \a what when \a ok is false: for properties that are
// bugs without being a crash.
void check(bool ok, const char *what);

} // namespace LatchkeyFuzz
