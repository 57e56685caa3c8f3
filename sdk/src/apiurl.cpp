#include <latchkey/apiurl.h>

namespace Latchkey {

QUrl apiUrl(const QUrl &baseUrl, const QString &pathOrUrl)
{
    if (pathOrUrl.isEmpty())
        return baseUrl;
    const QUrl given(pathOrUrl);
    if (!given.scheme().isEmpty())
        return given;
    // Not QUrl::resolved(): that replaces the base URL's last segment ("https://h/v1" with
    // "/api/x" gives "https://h/api/x"). Encoded as given, so that "%2F" stays one segment.
    QString basePath = baseUrl.path(QUrl::FullyEncoded);
    while (basePath.endsWith(QLatin1Char('/')))
        basePath.chop(1);
    QString path = given.path(QUrl::FullyEncoded);
    if (!path.startsWith(QLatin1Char('/')))
        path.prepend(QLatin1Char('/'));
    QUrl url = baseUrl;
    url.setPath(basePath + path, QUrl::TolerantMode);
    url.setQuery(given.query(QUrl::FullyEncoded), QUrl::TolerantMode);
    url.setFragment(given.fragment(QUrl::FullyEncoded), QUrl::TolerantMode);
    return url;
}

} // namespace Latchkey
