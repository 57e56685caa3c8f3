#include "logging_p.h"

#include <QCryptographicHash>

namespace Latchkey {

Q_LOGGING_CATEGORY(lcAuth, "latchkey.auth", QtWarningMsg)
Q_LOGGING_CATEGORY(lcNet, "latchkey.net", QtWarningMsg)
Q_LOGGING_CATEGORY(lcStore, "latchkey.store", QtWarningMsg)
Q_LOGGING_CATEGORY(lcTiming, "latchkey.timing", QtWarningMsg)

QByteArray redacted(const QByteArray &secret)
{
    if (secret.isEmpty())
        return QByteArrayLiteral("<none>");
    const QByteArray digest = QCryptographicHash::hash(secret, QCryptographicHash::Sha256);
    return QByteArrayLiteral("<redacted ") + QByteArray::number(secret.size())
        + QByteArrayLiteral(" bytes #") + digest.toHex().left(8) + '>';
}

} // namespace Latchkey
