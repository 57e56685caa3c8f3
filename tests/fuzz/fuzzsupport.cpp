#include "fuzzsupport.h"

#include "authcall_p.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QPointer>

#include <cstdio>
#include <cstdlib>

namespace LatchkeyFuzz {

namespace {

// The QNetworkReply::NetworkError Qt's HTTP layer sets for an HTTP error status (Qt 6.4,
// statusCodeFromHttp in qhttpthreaddelegate.cpp): AuthCall keeps it, and
// HttpResult::transportFailed() reads it.
QNetworkReply::NetworkError qtErrorForStatus(int status)
{
    switch (status) {
    case 400:
    case 418:
        return QNetworkReply::ProtocolInvalidOperationError;
    case 401:
        return QNetworkReply::AuthenticationRequiredError;
    case 403:
        return QNetworkReply::ContentAccessDenied;
    case 404:
        return QNetworkReply::ContentNotFoundError;
    case 405:
        return QNetworkReply::ContentOperationNotPermittedError;
    case 407:
        return QNetworkReply::ProxyAuthenticationRequiredError;
    case 409:
        return QNetworkReply::ContentConflictError;
    case 410:
        return QNetworkReply::ContentGoneError;
    case 500:
        return QNetworkReply::InternalServerError;
    case 501:
        return QNetworkReply::OperationNotImplementedError;
    case 503:
        return QNetworkReply::ServiceUnavailableError;
    default:
        return status > 500 ? QNetworkReply::UnknownServerError
                            : QNetworkReply::UnknownContentError;
    }
}

// Qt 6.4's HTTP-date parser (QNetworkHeadersPrivate::fromHttpDate, run by setRawHeader() for
// Last-Modified and If-Modified-Since) reads past the end of a value whose first comma is its
// last character: a bug of Qt's own that the SDK cannot avoid, so those are left out.
bool breaksQtDateParser(const QByteArray &name, const QByteArray &value)
{
    return (name.compare("last-modified", Qt::CaseInsensitive) == 0
               || name.compare("if-modified-since", Qt::CaseInsensitive) == 0)
        && value.endsWith(',') && value.count(',') == 1 && value.size() != 4;
}

// A reply that serves one scripted answer the way QNetworkReplyHttpImpl hands a real one over:
// headers first (repeated ones joined as Qt joins them), then the body on readyRead, then the
// error, if any, and finished.
class ScriptedReply : public QNetworkReply
{
public:
    ScriptedReply(
        QNetworkAccessManager::Operation operation, const QNetworkRequest &request, QObject *parent)
        : QNetworkReply(parent)
    {
        setRequest(request);
        setOperation(operation);
        setUrl(request.url());
    }

    void serve(const Answer &answer)
    {
        for (const auto &[name, value] : answer.headers) {
            // As QNetworkReplyHttpImplPrivate::replyDownloadMetaData: "\n" between Set-Cookie
            // lines (QNetworkCookie::parseCookies splits there), ", " between others.
            QByteArray joined = rawHeader(name);
            if (!joined.isEmpty())
                joined += name.compare("set-cookie", Qt::CaseInsensitive) == 0 ? "\n" : ", ";
            joined += value;
            if (!breaksQtDateParser(name, joined))
                setRawHeader(name, joined);
        }
        if (answer.status != 0)
            setAttribute(QNetworkRequest::HttpStatusCodeAttribute, answer.status);
        open(QIODevice::ReadOnly | QIODevice::Unbuffered);
        m_body = answer.body;
        if (answer.tooLarge) // over AuthCall's bound: it reads no further and aborts
            m_body += QByteArray(Latchkey::AuthCall::maxBodySize + 1 - m_body.size(), ' ');
        if (!m_body.isEmpty())
            Q_EMIT readyRead();
        if (isFinished()) // aborted by the reader
            return;
        QNetworkReply::NetworkError error = QNetworkReply::NetworkError(answer.networkError);
        if (error == QNetworkReply::NoError && answer.status >= 400)
            error = qtErrorForStatus(answer.status);
        if (error != QNetworkReply::NoError) {
            setError(error, QStringLiteral("scripted network error %1").arg(int(error)));
            Q_EMIT errorOccurred(error);
        }
        setFinished(true);
        Q_EMIT finished();
    }

    void abort() override
    {
        if (isFinished())
            return;
        setError(OperationCanceledError, QStringLiteral("Operation canceled"));
        setFinished(true);
        Q_EMIT errorOccurred(OperationCanceledError);
        Q_EMIT finished();
    }

    qint64 bytesAvailable() const override
    {
        return m_body.size() - m_read + QNetworkReply::bytesAvailable();
    }

    bool isSequential() const override { return true; }

protected:
    qint64 readData(char *data, qint64 maxSize) override
    {
        const qint64 n = qMin(maxSize, qint64(m_body.size()) - m_read);
        if (n <= 0)
            return isFinished() ? -1 : 0;
        memcpy(data, m_body.constData() + m_read, size_t(n));
        m_read += n;
        return n;
    }

private:
    QByteArray m_body;
    qint64 m_read = 0;
};

class ScriptedNetworkAccessManager : public QNetworkAccessManager
{
public:
    QPointer<ScriptedReply> last;

protected:
    QNetworkReply *createRequest(
        Operation operation, const QNetworkRequest &request, QIODevice *) override
    {
        auto *reply = new ScriptedReply(operation, request, this);
        last = reply;
        return reply;
    }
};

ScriptedNetworkAccessManager *nam = nullptr;

void quietMessages(QtMsgType type, const QMessageLogContext &, const QString &message)
{
    if (type == QtFatalMsg) {
        fprintf(stderr, "qFatal: %s\n", qPrintable(message));
        abort();
    }
}

} // namespace

void initialize(int *argc, char ***argv)
{
    qInstallMessageHandler(quietMessages);
    static QCoreApplication app(*argc, *argv);
    nam = new ScriptedNetworkAccessManager;
    builtinProfiles();
}

const QList<Latchkey::ServerProfile> &builtinProfiles()
{
    static const QList<Latchkey::ServerProfile> profiles = [] {
        QList<Latchkey::ServerProfile> list;
        for (const QString &name : Latchkey::ServerProfile::builtinNames()) {
            QString error;
            list << Latchkey::ServerProfile::builtin(name, &error);
            if (!list.last().isValid()) {
                fprintf(stderr, "built-in profile %s: %s\n", qPrintable(name), qPrintable(error));
                abort();
            }
        }
        if (list.isEmpty()) {
            fprintf(stderr, "no built-in profiles (resources not linked in?)\n");
            abort();
        }
        return list;
    }();
    return profiles;
}

Answer parseAnswer(const QByteArray &input)
{
    Answer answer;
    qsizetype pos = 0;
    bool first = true;
    while (pos <= input.size()) {
        qsizetype end = input.indexOf('\n', pos);
        const bool last = end < 0;
        if (last)
            end = input.size();
        QByteArray line = input.mid(pos, end - pos);
        pos = end + 1;
        if (line.endsWith('\r'))
            line.chop(1);
        if (first) {
            first = false;
            // "HTTP/1.1 200 OK" or "200"
            QList<QByteArray> words = line.split(' ');
            if (!words.isEmpty() && words.first().startsWith("HTTP/"))
                words.removeFirst();
            if (!words.isEmpty())
                answer.status = words.first().toInt();
        } else if (line.isEmpty()) {
            if (!last)
                answer.body = input.mid(pos);
            break;
        } else {
            const qsizetype colon = line.indexOf(':');
            const QByteArray name = line.left(colon < 0 ? line.size() : colon).trimmed();
            const QByteArray value = colon < 0 ? QByteArray() : line.mid(colon + 1).trimmed();
            if (name.compare("X-Fuzz-Network-Error", Qt::CaseInsensitive) == 0)
                answer.networkError = qBound(0, value.toInt(), 1000);
            else if (name.compare("X-Fuzz-Too-Large", Qt::CaseInsensitive) == 0)
                answer.tooLarge = true;
            else if (!name.isEmpty())
                answer.headers.append({ name, value });
        }
        if (last)
            break;
    }
    return answer;
}

Latchkey::HttpResult capture(const Answer &answer)
{
    Latchkey::HttpResult result;
    bool handedOver = false;
    {
        QObject context;
        const Latchkey::PreparedRequest prepared = Latchkey::WireFormat::jsonRequest(
            QUrl(QStringLiteral("https://auth.example")), QStringLiteral("/token"), {});
        Latchkey::AuthCall::post(nam, prepared, Latchkey::AuthCall::Settings(), &context,
            [&](const Latchkey::HttpResult &r) {
                result = r;
                handedOver = true;
            });
        check(!nam->last.isNull(), "the scripted manager made no reply");
        nam->last->serve(answer);
    }
    // The reply (and the AuthCall it owns) went to deleteLater(): no leak per input.
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    check(nam->last.isNull(), "AuthCall left its reply alive");
    check(handedOver, "AuthCall handed over no result");
    return result;
}

QList<QNetworkCookie> capturedCookies(const QList<QByteArray> &setCookieLines)
{
    Answer answer;
    answer.status = 200;
    for (const QByteArray &line : setCookieLines)
        answer.headers.append({ QByteArrayLiteral("Set-Cookie"), line });
    return capture(answer).cookies;
}

QByteArray jsonWith(const QString &pointer, const QJsonValue &value)
{
    QStringList keys = pointer.mid(1).split(QLatin1Char('/'));
    for (QString &key : keys)
        key.replace(QLatin1String("~1"), QLatin1String("/"))
            .replace(QLatin1String("~0"), QLatin1String("~"));
    QJsonValue nested = value;
    for (auto it = keys.crbegin(); it != keys.crend(); ++it)
        nested = QJsonObject { { *it, nested } };
    return QJsonDocument(nested.toObject()).toJson(QJsonDocument::Compact);
}

bool headerSafe(const QByteArray &value)
{
    for (const char c : value) {
        if (uchar(c) < 0x20 || uchar(c) == 0x7f)
            return false;
    }
    return true;
}

void check(bool ok, const char *what)
{
    if (ok)
        return;
    fprintf(stderr, "==latchkey-fuzz== property violated: %s\n", what);
    abort();
}

} // namespace LatchkeyFuzz
