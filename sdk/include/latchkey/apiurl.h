#pragma once

#include <latchkey/latchkey_export.h>

#include <QString>
#include <QUrl>

namespace Latchkey {

/*!
    The URL a request path means on the server at \a baseUrl: the one rule the SDK (a
    profile's endpoint paths), the QML \c Session (\c get(), \c post(), …) and \c latchkey-cli
    follow.

    A path is appended to the base URL's path, with exactly one \c / between them, whether or
    not the base URL ends with one: \c https://h/v1 and \c https://h/v1/ with \c /api/x (or
    \c api/x) both give \c https://h/v1/api/x. The path's query and fragment are kept
    (\c /api/x?page=2). An absolute URL (one with a scheme, such as
    \c https://auth.example.com/token) is returned as it is. An empty path gives \a baseUrl.
*/
LATCHKEY_EXPORT QUrl apiUrl(const QUrl &baseUrl, const QString &pathOrUrl);

} // namespace Latchkey
