#pragma once

#include <QJsonValue>
#include <QString>

namespace Latchkey::JsonPointer {

// RFC 6901: resolves "/a/0/b" in a JSON value; Undefined when any step is missing.
// The empty pointer is the whole document.
QJsonValue resolve(const QJsonValue &document, const QString &pointer);
bool isValid(const QString &pointer);

} // namespace Latchkey::JsonPointer
