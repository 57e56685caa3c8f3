#include "authcall_p.h"

#include "logging_p.h"

#include <QNetworkAccessManager>

#include <algorithm>
#include <limits>

namespace Latchkey {

AuthCall *AuthCall::post(QNetworkAccessManager *nam, const PreparedRequest &prepared,
    const Settings &settings, QObject *context, Callback done)
{
    return send(nam, prepared.verb, prepared, settings, context, std::move(done));
}

AuthCall *AuthCall::send(QNetworkAccessManager *nam, const QByteArray &verb,
    const PreparedRequest &prepared, const Settings &settings, QObject *context, Callback done)
{
    QNetworkRequest request = prepared.request;
    // Qt takes the transfer timeout as an int of milliseconds.
    const int timeoutMs
        = int(std::clamp<qint64>(settings.timeout.count(), 1, std::numeric_limits<int>::max()));
    request.setTransferTimeout(timeoutMs);
    if (!settings.tls.isNull()
        && request.url().scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0)
        request.setSslConfiguration(settings.tls);
    qCDebug(lcAuth) << verb << request.url().toDisplayString();
    QNetworkReply *reply = nullptr;
    if (verb == "GET")
        reply = nam->get(request);
    else if (verb == "POST")
        reply = nam->post(request, prepared.body);
    else
        reply = nam->sendCustomRequest(request, verb, prepared.body);
    return new AuthCall(reply, timeoutMs, context, std::move(done));
}

AuthCall::AuthCall(QNetworkReply *reply, int timeoutMs, QObject *context, Callback done)
    : QObject(reply)
    , m_reply(reply)
    , m_timeoutMs(timeoutMs)
    , m_context(context)
    , m_done(std::move(done))
{
    connect(reply, &QNetworkReply::readyRead, this, &AuthCall::onReadyRead);
    connect(reply, &QNetworkReply::finished, this, &AuthCall::onFinished);
}

void AuthCall::preconnect(QNetworkAccessManager *nam, const QUrl &url, const QSslConfiguration &tls)
{
    if (!url.isValid() || url.host().isEmpty())
        return;
    if (url.scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0) {
        nam->connectToHostEncrypted(url.host(), quint16(url.port(443)),
            tls.isNull() ? QSslConfiguration::defaultConfiguration() : tls);
    } else if (url.scheme().compare(QLatin1String("http"), Qt::CaseInsensitive) == 0) {
        nam->connectToHost(url.host(), quint16(url.port(80)));
    }
}

void AuthCall::abort()
{
    m_done = nullptr;
    disconnect(m_reply, nullptr, this, nullptr); // abort() finishes it at once: nothing to read
    m_reply->abort();
    m_reply->deleteLater();
}

void AuthCall::onReadyRead()
{
    if (m_result.tooLarge)
        return;
    if (m_result.body.size() + m_reply->bytesAvailable() > maxBodySize) {
        m_result.tooLarge = true;
        m_reply->abort();
        return;
    }
    m_result.body += m_reply->readAll();
}

void AuthCall::onFinished()
{
    if (!m_result.tooLarge)
        onReadyRead();
    m_result.status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    // Always kept: an answer can fail after its headers (Qt 6.4 keeps status 200 on a body cut
    // short and says RemoteHostClosedError); HttpResult::transportFailed() reads it first.
    m_result.networkError = m_reply->error();
    if (m_result.networkError != QNetworkReply::NoError)
        m_result.networkErrorString = m_reply->errorString();
    if (m_result.networkError == QNetworkReply::OperationCanceledError && !m_result.tooLarge) {
        // Nobody else aborts this reply (abort() above disconnects first, the size bound sets
        // tooLarge): Qt's transfer timeout did, and says only "Operation canceled".
        m_result.networkError = QNetworkReply::TimeoutError;
        m_result.networkErrorString
            = QStringLiteral("The server did not answer: timed out after %1 ms without data")
                  .arg(m_timeoutMs);
    }
    m_result.cookies
        = m_reply->header(QNetworkRequest::SetCookieHeader).value<QList<QNetworkCookie>>();
    m_result.retryAfterHeader = m_reply->rawHeader(QByteArrayLiteral("Retry-After"));
    qCDebug(lcAuth) << "answer" << m_reply->url().toDisplayString() << "HTTP" << m_result.status
                    << m_result.body.size() << "bytes" << m_result.networkError;
    m_reply->deleteLater();
    if (m_done && m_context)
        m_done(m_result);
}

} // namespace Latchkey
