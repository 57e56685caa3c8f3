#include "scriptedserver.h"

#include <QHostAddress>
#include <QSslCertificate>
#include <QSslKey>

namespace LatchkeyTest {

ScriptedServer::ScriptedServer() = default;

bool ScriptedServer::listen()
{
    const quint16 port = m_server.listen(QHostAddress::LocalHost, 0);
    if (!port)
        return false;
    m_baseUrl = QUrl(
        (m_tls ? QStringLiteral("https://127.0.0.1:%1") : QStringLiteral("http://127.0.0.1:%1"))
            .arg(port));
    return true;
}

void ScriptedServer::useTls(const QSslCertificate &certificate, const QSslKey &key)
{
    m_server.sslSetup(certificate, key);
    m_tls = true;
}

int ScriptedServer::count(const QString &path) const
{
    int n = 0;
    for (const Seen &s : m_seen)
        n += s.path == path ? 1 : 0;
    return n;
}

QHttpServerResponse ScriptedServer::json(const QByteArray &body, int status)
{
    return QHttpServerResponse(
        QByteArrayLiteral("application/json"), body, QHttpServerResponse::StatusCode(status));
}

void ScriptedServer::record(const QHttpServerRequest &request)
{
    Seen s;
    switch (request.method()) {
    case QHttpServerRequest::Method::Get:
        s.method = "GET";
        break;
    case QHttpServerRequest::Method::Post:
        s.method = "POST";
        break;
    case QHttpServerRequest::Method::Put:
        s.method = "PUT";
        break;
    case QHttpServerRequest::Method::Delete:
        s.method = "DELETE";
        break;
    case QHttpServerRequest::Method::Patch:
        s.method = "PATCH";
        break;
    default:
        s.method = "OTHER";
        break;
    }
    s.path = request.url().path();
    s.authorization = request.value(QByteArrayLiteral("Authorization"));
    s.cookie = request.value(QByteArrayLiteral("Cookie"));
    s.body = request.body();
    m_seen.append(s);
}

} // namespace LatchkeyTest
