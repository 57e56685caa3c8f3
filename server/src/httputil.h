#pragma once

#include <QByteArray>
#include <QHttpServerResponse>
#include <QJsonObject>
#include <QString>

#include <optional>

class QHttpServerRequest;

// Small helpers shared by the dialects and the hooks.
namespace HttpUtil {

using Status = QHttpServerResponse::StatusCode;

QHttpServerResponse json(const QJsonObject &body, Status status = Status::Ok);
QHttpServerResponse message(Status status, const QString &text); // {"message": text}
QHttpServerResponse noContent();

// Parses the body as a JSON object. An empty body counts as {} only when allowEmpty.
std::optional<QJsonObject> jsonObject(const QByteArray &body, bool allowEmpty = false);

// The value of a cookie in the Cookie header(s); empty when absent.
QByteArray cookie(const QHttpServerRequest &request, const QByteArray &name);

// The token of an "Authorization: Bearer <token>" header; empty when absent or another scheme.
QByteArray bearerToken(const QHttpServerRequest &request);

QByteArray methodName(int method); // a QHttpServerRequest::Method value

// A string field that is present and non-empty.
bool stringField(const QJsonObject &body, const char *name, QString *out);
// An optional string field: absent or null gives an empty string; false for another type.
bool optionalString(const QJsonObject &body, const char *name, QString *out);

} // namespace HttpUtil
