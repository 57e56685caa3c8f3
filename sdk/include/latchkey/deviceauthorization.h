#pragma once

#include <latchkey/latchkey_export.h>

#include <QDateTime>
#include <QMetaType>
#include <QObject>
#include <QString>
#include <QUrl>

namespace Latchkey {

/*!
    What a person needs to approve a device sign-in (RFC 8628): the code to type at the
    verification page, or a link that carries it. AuthClient::deviceCodeReceived() hands it over;
    show userCode large and verificationUri beside it (or a QR code of
    verificationUriComplete), and the time left until expiresAt.
*/
struct LATCHKEY_EXPORT DeviceAuthorization
{
    Q_GADGET
    Q_PROPERTY(QString userCode MEMBER userCode CONSTANT) ///< see #userCode
    Q_PROPERTY(QUrl verificationUri MEMBER verificationUri CONSTANT) ///< see #verificationUri
    /*! see #verificationUriComplete */
    Q_PROPERTY(QUrl verificationUriComplete MEMBER verificationUriComplete CONSTANT)
    Q_PROPERTY(QDateTime expiresAt MEMBER expiresAt CONSTANT) ///< see #expiresAt
    Q_PROPERTY(int interval MEMBER interval CONSTANT) ///< see #interval
    Q_PROPERTY(bool isValid READ isValid CONSTANT) ///< see isValid()
public:
    QString userCode; ///< the code the person types at #verificationUri
    QUrl verificationUri; ///< the provider's page where the code is entered
    QUrl verificationUriComplete; ///< the page with the code filled in; may be empty
    QDateTime expiresAt; ///< after this the code is void
    int interval = 5; ///< seconds between two polls of the provider

    /*! Whether there is a code (false for a default-constructed one: no device sign-in). */
    bool isValid() const { return !userCode.isEmpty(); }
};

} // namespace Latchkey

Q_DECLARE_METATYPE(Latchkey::DeviceAuthorization)
