#include "apirequest.h"

#include <latchkey/authorizednetworkaccessmanager.h>

#include <QJSEngine>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTimer>

namespace Latchkey {

ApiRequest::ApiRequest(QJSEngine *engine, const ServerProfile &profile, QNetworkAccessManager *nam,
    const QByteArray &method, const QUrl &url, const QByteArray &body, QObject *keeper)
    : QObject(keeper) // kept alive (and out of the garbage collector's reach) while running
    , m_engine(engine)
    , m_profile(profile)
    , m_url(url)
{
    if (!nam) {
        QTimer::singleShot(0, this, [this] {
            fail(AuthError::kindName(AuthError::Kind::NotSignedIn),
                QStringLiteral("The session has no server: set profile and baseUrl"));
        });
        return;
    }
    QNetworkRequest request(url);
    request.setRawHeader(QByteArrayLiteral("Accept"), QByteArrayLiteral("application/json"));
    if (!body.isEmpty())
        request.setHeader(
            QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    m_reply = nam->sendCustomRequest(request, method, body);
    connect(m_reply, &QNetworkReply::finished, this, &ApiRequest::onReplyFinished);
}

ApiRequest::~ApiRequest()
{
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
        m_reply->deleteLater();
    }
}

void ApiRequest::onReplyFinished()
{
    QNetworkReply *reply = m_reply;
    if (!reply)
        return;
    reply->deleteLater();
    m_reply = nullptr;
    m_status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray bytes = reply->readAll();
    if (!bytes.trimmed().isEmpty()) {
        QJsonParseError parseError;
        const QJsonDocument doc = QJsonDocument::fromJson(bytes, &parseError);
        m_data = parseError.error == QJsonParseError::NoError ? doc.toVariant()
                                                              : QVariant(QString::fromUtf8(bytes));
    }

    const AuthError authError = AuthorizedNetworkAccessManager::authError(reply);
    if (authError.isError()) {
        fail(AuthError::kindName(authError.kind()), authError.message());
    } else if (m_status >= 400) {
        QString message = m_profile.errorMessage(bytes);
        if (message.isEmpty() && m_data.typeId() == QMetaType::QVariantMap)
            message = m_data.toMap().value(QStringLiteral("message")).toString();
        if (message.isEmpty())
            message = reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString();
        fail(QStringLiteral("Http"), message);
    } else if (reply->error() != QNetworkReply::NoError) {
        fail(reply->error() == QNetworkReply::OperationCanceledError
                ? AuthError::kindName(AuthError::Kind::Cancelled)
                : AuthError::kindName(AuthError::Kind::Network),
            reply->errorString());
    } else {
        complete();
    }
}

void ApiRequest::fail(const QString &kind, const QString &message)
{
    m_error = { { QStringLiteral("kind"), kind }, { QStringLiteral("status"), m_status },
        { QStringLiteral("message"), message }, { QStringLiteral("data"), m_data } };
    complete();
}

void ApiRequest::complete()
{
    if (m_finished)
        return;
    m_finished = true;
    Q_EMIT finished();
    if (m_error.isEmpty())
        Q_EMIT succeeded(m_data, m_status);
    else
        Q_EMIT failed(m_error);
    runCallbacks();
    // From now on only JavaScript keeps it (when it does): no parent, collectable.
    setParent(nullptr);
    QJSEngine::setObjectOwnership(this, QJSEngine::JavaScriptOwnership);
}

ApiRequest *ApiRequest::then(const QJSValue &onSuccess, const QJSValue &onError)
{
    m_callbacks.append({ onSuccess, onError });
    if (m_finished) // like a settled promise: later, from the event loop
        QTimer::singleShot(0, this, &ApiRequest::runCallbacks);
    return this;
}

void ApiRequest::abort()
{
    if (m_reply)
        m_reply->abort();
}

void ApiRequest::runCallbacks()
{
    const auto callbacks = std::exchange(m_callbacks, {});
    if (!m_engine)
        return;
    for (const auto &pair : callbacks) {
        QJSValue callback = m_error.isEmpty() ? pair.first : pair.second;
        if (!callback.isCallable())
            continue;
        const QJSValue result = m_error.isEmpty()
            ? callback.call({ m_engine->toScriptValue(m_data), QJSValue(m_status) })
            : callback.call({ m_engine->toScriptValue(m_error) });
        if (result.isError()) {
            qWarning("%s",
                qPrintable(QStringLiteral("ApiRequest callback: %1 (%2:%3)")
                               .arg(result.toString(),
                                   result.property(QStringLiteral("fileName")).toString(),
                                   result.property(QStringLiteral("lineNumber")).toString())));
        }
    }
}

} // namespace Latchkey
