#include "jsonpointer_p.h"

#include <QJsonArray>
#include <QJsonObject>

namespace Latchkey::JsonPointer {

bool isValid(const QString &pointer)
{
    return pointer.isEmpty() || pointer.startsWith(QLatin1Char('/'));
}

QJsonValue resolve(const QJsonValue &document, const QString &pointer)
{
    if (!isValid(pointer))
        return QJsonValue(QJsonValue::Undefined);
    QJsonValue current = document;
    if (pointer.isEmpty())
        return current;
    const QStringList tokens = pointer.mid(1).split(QLatin1Char('/'));
    for (QString token : tokens) {
        token.replace(QLatin1String("~1"), QLatin1String("/"));
        token.replace(QLatin1String("~0"), QLatin1String("~"));
        if (current.isObject()) {
            current = current.toObject().value(token);
        } else if (current.isArray()) {
            bool ok = false;
            const int index = token.toInt(&ok);
            const QJsonArray array = current.toArray();
            if (!ok || index < 0 || index >= array.size())
                return QJsonValue(QJsonValue::Undefined);
            current = array.at(index);
        } else {
            return QJsonValue(QJsonValue::Undefined);
        }
        if (current.isUndefined())
            return current;
    }
    return current;
}

} // namespace Latchkey::JsonPointer
