#include "handclient.h"

#include "benchutil.h"

#include <QEventLoop>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkCookie>
#include <QNetworkCookieJar>
#include <QNetworkReply>
#include <QTimer>

using Latchkey::ServerProfile;
using Latchkey::ServerProfilePrivate;
namespace Profile = Latchkey::Profile;

namespace LatchkeyBench {

HandClient::HandClient(const ServerProfile &profile, const QUrl &baseUrl, QObject *parent)
    : QObject(parent)
    , m_profile(profile)
    , m_base(baseUrl)
{ }

QUrl HandClient::url(const QString &path) const
{
    QUrl u = m_base;
    QString base = u.path();
    if (base.endsWith(QLatin1Char('/')))
        base.chop(1);
    u.setPath(base + path);
    return u;
}

QNetworkRequest HandClient::authorized(const QUrl &url) const
{
    QNetworkRequest request(url);
    request.setRawHeader(ServerProfilePrivate::of(m_profile).authorizationHeader,
        ServerProfilePrivate::of(m_profile).authorizationScheme + ' ' + m_access);
    return request;
}

QNetworkRequest HandClient::endpointRequest(const Profile::Endpoint &e) const
{
    QNetworkRequest request(url(e.path));
    request.setHeader(QNetworkRequest::ContentTypeHeader,
        e.encoding == Profile::Encoding::Form
            ? QByteArrayLiteral("application/x-www-form-urlencoded")
            : QByteArrayLiteral("application/json"));
    for (auto it = e.headers.cbegin(); it != e.headers.cend(); ++it)
        request.setRawHeader(it.key(), it.value());
    if (!e.basicUser.isEmpty()) {
        request.setRawHeader(QByteArrayLiteral("Authorization"),
            "Basic " + (e.basicUser + QLatin1Char(':') + e.basicPassword).toUtf8().toBase64());
    }
    return request;
}

QByteArray HandClient::encode(const Profile::Endpoint &e, QJsonObject fields) const
{
    for (auto it = e.extra.begin(); it != e.extra.end(); ++it)
        fields.insert(it.key(), it.value());
    if (e.encoding == Profile::Encoding::Json)
        return QJsonDocument(fields).toJson(QJsonDocument::Compact);
    QByteArray form;
    for (auto it = fields.begin(); it != fields.end(); ++it) {
        if (!form.isEmpty())
            form += '&';
        const QJsonValue v = it.value();
        const QString value = v.isString() ? v.toString() : QString::number(v.toDouble());
        form += QUrl::toPercentEncoding(it.key()) + '=' + QUrl::toPercentEncoding(value);
    }
    return form;
}

bool HandClient::takeTokens(const QByteArray &body)
{
    const QJsonValue root = QJsonDocument::fromJson(body).object();
    const QString access
        = jsonPointer(root, ServerProfilePrivate::of(m_profile).accessTokenPointer).toString();
    if (access.isEmpty())
        return false;
    m_access = access.toUtf8();
    const Profile::TokenLocation where = ServerProfilePrivate::of(m_profile).refreshTokenLocation;
    if (where.in == Profile::Carrier::Body) {
        const QString refresh = jsonPointer(root, where.pointer).toString();
        if (!refresh.isEmpty())
            m_refresh = refresh.toUtf8();
    }
    // Carrier::Cookie: the manager's cookie jar keeps it, as a browser (credentials: 'include')
    // or a requests.Session does.
    return true;
}

bool HandClient::login(const QString &identity, const QString &password)
{
    const Profile::Endpoint e = ServerProfilePrivate::of(m_profile).login;
    QJsonObject fields;
    fields.insert(e.fields.value(QStringLiteral("identity"), QStringLiteral("email")), identity);
    fields.insert(e.fields.value(QStringLiteral("password"), QStringLiteral("password")), password);
    int status = 0;
    const QByteArray body
        = blockingRequest(&m_nam, endpointRequest(e), e.method, encode(e, fields), &status);
    if (status / 100 != 2 || !takeTokens(body)) {
        m_error = QStringLiteral("login answered %1: %2").arg(status).arg(QString::fromUtf8(body));
        return false;
    }
    return true;
}

QNetworkReply *HandClient::startRefresh()
{
    ++m_refreshCalls;
    const Profile::Endpoint e = ServerProfilePrivate::of(m_profile).refresh;
    QNetworkRequest request = endpointRequest(e);
    QJsonObject fields;
    switch (e.send.in) {
    case Profile::Carrier::Body:
        fields.insert(e.send.name, QString::fromUtf8(m_refresh));
        break;
    case Profile::Carrier::Bearer:
        request.setRawHeader(QByteArrayLiteral("Authorization"), "Bearer " + m_refresh);
        break;
    case Profile::Carrier::Cookie:
        // From the jar; a token set by hand (read from a keychain) goes in the header.
        if (!m_refresh.isEmpty())
            request.setRawHeader(
                QByteArrayLiteral("Cookie"), e.send.name.toUtf8() + '=' + m_refresh);
        break;
    case Profile::Carrier::None:
        break;
    }
    return m_nam.sendCustomRequest(request, e.method, encode(e, fields));
}

bool HandClient::refreshBlocking()
{
    QNetworkReply *reply = startRefresh();
    QEventLoop loop;
    connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(60000, &loop, &QEventLoop::quit);
    if (!reply->isFinished())
        loop.exec();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray body = reply->readAll();
    delete reply;
    if (status / 100 != 2 || !takeTokens(body)) {
        ++m_refreshFailures;
        m_error = QStringLiteral("refresh answered %1").arg(status);
        return false;
    }
    return true;
}

void HandClient::naiveGet(const QUrl &url, std::function<void(int, bool)> done)
{
    QNetworkReply *first = m_nam.get(authorized(url));
    connect(first, &QNetworkReply::finished, this, [this, first, url, done] {
        first->deleteLater();
        const int status = first->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (status != 401) {
            first->readAll();
            done(status, first->error() != QNetworkReply::NoError);
            return;
        }
        // "Auto-refresh if token expired": this request's own refresh, then one retry.
        QNetworkReply *refresh = startRefresh();
        connect(refresh, &QNetworkReply::finished, this, [this, refresh, url, done] {
            refresh->deleteLater();
            const int rs = refresh->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            if (rs / 100 != 2 || !takeTokens(refresh->readAll())) {
                ++m_refreshFailures; // throw new Error('Token refresh failed')
                done(rs, true);
                return;
            }
            QNetworkReply *retry = m_nam.get(authorized(url));
            connect(retry, &QNetworkReply::finished, this, [retry, done] {
                retry->deleteLater();
                retry->readAll();
                const int s = retry->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
                done(s, retry->error() != QNetworkReply::NoError);
            });
        });
    });
}

} // namespace LatchkeyBench
