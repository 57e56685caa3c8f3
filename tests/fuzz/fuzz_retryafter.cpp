// libFuzzer target: Retry-After. Each input line is one Retry-After header (repeated ones are
// joined with ", " as Qt joins them) of a 429, 503 and 423 answer captured by AuthCall; the
// whole input is also the JSON value at each built-in profile's errors.retryAfter pointer of a
// 429 body without the header. WireFormat::errorFor and WireFormat::classifyRefresh read both.

#include "fuzzsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>

#include <limits>

using namespace Latchkey;
using LatchkeyFuzz::check;

namespace {

// Reads \a result with \a profile; \a atLeast: the wait it asks for at the least (-1: any).
void read(const ServerProfile &profile, const HttpResult &result, qint64 atLeast = -1)
{
    for (auto exchange : { WireFormat::Exchange::Login, WireFormat::Exchange::Refresh }) {
        const AuthError error = WireFormat::errorFor(profile, result, exchange);
        check(error.retryAfter() >= -1, "a negative Retry-After other than -1 (unknown)");
        check(error.retryAfter() >= atLeast, "a Retry-After read as sooner than it asks");
        (void)error.toString();
    }
    const WireFormat::RefreshVerdict verdict = WireFormat::classifyRefresh(profile, result);
    check(verdict.error.retryAfter() >= -1, "a negative Retry-After other than -1 (unknown)");
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

    // One HTTP-date (not a number) in the future: never read as sooner than it is, nor wrapped
    // around an int. Five seconds of slack for the clock moving on meanwhile.
    qint64 atLeast = -1;
    const QByteArray text = input.trimmed();
    bool isNumber = false;
    (void)text.toLongLong(&isNumber);
    QDateTime when = QDateTime::fromString(QString::fromLatin1(text), Qt::RFC2822Date);
    if (!when.isValid()) // the IMF-fixdate every HTTP server sends: "Wed, 21 Oct 2037 07:28:00 GMT"
        when = QLocale::c().toDateTime(
            QString::fromLatin1(text), QStringLiteral("ddd, dd MMM yyyy hh:mm:ss 'GMT'"));
    if (when.isValid() && when.timeSpec() == Qt::LocalTime)
        when.setTimeSpec(Qt::UTC);
    if (!input.contains('\n') && !isNumber && when.isValid()) {
        const qint64 ahead = QDateTime::currentDateTimeUtc().secsTo(when);
        atLeast = qBound<qint64>(0, ahead - 5, qint64(std::numeric_limits<int>::max()));
    }

    for (int status : { 429, 503, 423 }) {
        LatchkeyFuzz::Answer answer;
        answer.status = status;
        for (const QByteArray &line : input.split('\n'))
            answer.headers.append({ QByteArrayLiteral("Retry-After"), line });
        // Every profile reads the header alike (its body is empty): one is enough.
        read(LatchkeyFuzz::builtinProfiles().first(), LatchkeyFuzz::capture(answer), atLeast);
    }

    // The same text as a JSON value in the body, where each profile looks for it.
    const QJsonDocument doc = QJsonDocument::fromJson('[' + input + ']');
    if (doc.isArray() && !doc.array().isEmpty()) {
        for (const ServerProfile &profile : LatchkeyFuzz::builtinProfiles()) {
            HttpResult result; // as AuthCall captures a 429 without a Retry-After header
            result.status = 429;
            result.networkError = QNetworkReply::UnknownContentError;
            result.networkErrorString = QStringLiteral("Too Many Requests");
            result.body = LatchkeyFuzz::jsonWith(
                ServerProfilePrivate::of(profile).retryAfterPointer, doc.array().first());
            read(profile, result);
        }
    }
    return 0;
}
