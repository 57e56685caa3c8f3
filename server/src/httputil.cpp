#include "httputil.h"

#include <QHttpServerRequest>
#include <QJsonDocument>

namespace HttpUtil {

QHttpServerResponse json(const QJsonObject &body, Status status)
{
    return QHttpServerResponse(QByteArrayLiteral("application/json"),
        QJsonDocument(body).toJson(QJsonDocument::Compact), status);
}

QHttpServerResponse message(Status status, const QString &text)
{
    return json(QJsonObject { { QStringLiteral("message"), text } }, status);
}

QHttpServerResponse noContent()
{
    return QHttpServerResponse(Status::NoContent);
}

std::optional<QJsonObject> jsonObject(const QByteArray &body, bool allowEmpty)
{
    if (allowEmpty && body.trimmed().isEmpty())
        return QJsonObject();
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return std::nullopt;
    return doc.object();
}

QByteArray cookie(const QHttpServerRequest &request, const QByteArray &name)
{
    // Several Cookie headers arrive joined with ", "; cookie values here never hold commas.
    const QByteArray header = request.value(QByteArrayLiteral("Cookie"));
    QByteArray found;
    for (QByteArray pair : header.split(';')) {
        for (QByteArray part : pair.split(',')) {
            part = part.trimmed();
            const int eq = part.indexOf('=');
            if (eq > 0 && part.left(eq).trimmed() == name) {
                QByteArray value = part.mid(eq + 1).trimmed();
                if (value.size() >= 2 && value.startsWith('"') && value.endsWith('"'))
                    value = value.mid(1, value.size() - 2);
                if (!value.isEmpty())
                    found = value; // the last non-empty one wins
            }
        }
    }
    return found;
}

QByteArray bearerToken(const QHttpServerRequest &request)
{
    const QByteArray header = request.value(QByteArrayLiteral("Authorization")).trimmed();
    const int space = header.indexOf(' ');
    if (space <= 0 || header.left(space).toLower() != "bearer")
        return {};
    return header.mid(space + 1).trimmed();
}

bool stringField(const QJsonObject &body, const char *name, QString *out)
{
    const QJsonValue value = body.value(QLatin1String(name));
    if (!value.isString() || value.toString().isEmpty())
        return false;
    *out = value.toString();
    return true;
}

bool optionalString(const QJsonObject &body, const char *name, QString *out)
{
    const QJsonValue value = body.value(QLatin1String(name));
    if (value.isUndefined() || value.isNull()) {
        out->clear();
        return true;
    }
    if (!value.isString())
        return false;
    *out = value.toString();
    return true;
}

QByteArray methodName(int method)
{
    switch (QHttpServerRequest::Method(method)) {
    case QHttpServerRequest::Method::Get:
        return QByteArrayLiteral("GET");
    case QHttpServerRequest::Method::Put:
        return QByteArrayLiteral("PUT");
    case QHttpServerRequest::Method::Delete:
        return QByteArrayLiteral("DELETE");
    case QHttpServerRequest::Method::Post:
        return QByteArrayLiteral("POST");
    case QHttpServerRequest::Method::Head:
        return QByteArrayLiteral("HEAD");
    case QHttpServerRequest::Method::Options:
        return QByteArrayLiteral("OPTIONS");
    case QHttpServerRequest::Method::Patch:
        return QByteArrayLiteral("PATCH");
    default:
        return QByteArrayLiteral("OTHER");
    }
}

} // namespace HttpUtil
