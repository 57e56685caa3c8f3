#include "oidcprovider.h"

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRandomGenerator>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUrlQuery>
#include <QtTest>

using namespace LatchkeyTest;

namespace {

QByteArray base64Url(const QByteArray &bytes)
{
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QByteArray randomToken(int bytes = 32)
{
    QByteArray raw(bytes, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(raw.data()), bytes / 4);
    return base64Url(raw);
}

// The application's loopback redirect listener: answers every request with 200 and keeps the
// request targets.
class LoopbackListener : public QObject
{
public:
    LoopbackListener()
    {
        m_server.listen(QHostAddress::LocalHost, 0);
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                connect(socket, &QTcpSocket::readyRead, this, [this, socket] {
                    m_buffer[socket] += socket->readAll();
                    if (!m_buffer[socket].contains("\r\n\r\n"))
                        return;
                    const QList<QByteArray> requestLine
                        = m_buffer[socket].left(m_buffer[socket].indexOf("\r\n")).split(' ');
                    if (requestLine.size() == 3)
                        requests << QUrl::fromEncoded(requestLine[1]);
                    socket->write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                  "Content-Length: 9\r\nConnection: close\r\n\r\nsigned in");
                    socket->disconnectFromHost();
                });
                connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
    }
    QString redirectUri() const
    {
        return QStringLiteral("http://127.0.0.1:%1/callback").arg(m_server.serverPort());
    }

    QList<QUrl> requests;

private:
    QTcpServer m_server;
    QHash<QTcpSocket *, QByteArray> m_buffer;
};

struct Tokens
{
    QByteArray access;
    QByteArray refresh;
    QByteArray id;
};

} // namespace

// The OpenID provider the OIDC tests run against (tests/support/oidc), exercised by hand without
// the SDK: discovery, authorization code + PKCE through the headless user agent, refresh-token
// rotation, revocation, the device flow with its test hooks, client credentials.
class TestOidcProvider : public QObject
{
    Q_OBJECT

    OidcProvider m_provider;
    QJsonObject m_discovery;
    QNetworkAccessManager m_nam;

    QUrl endpoint(const char *name) const
    {
        return QUrl(m_discovery.value(QLatin1String(name)).toString());
    }

    // A blocking form POST (no user agent runs meanwhile); the JSON answer and the status.
    QJsonObject post(
        const QUrl &url, const QByteArray &form, int *status, const QByteArray &basicAuth = {})
    {
        QNetworkRequest request(url);
        request.setHeader(QNetworkRequest::ContentTypeHeader,
            QByteArrayLiteral("application/x-www-form-urlencoded"));
        if (!basicAuth.isEmpty())
            request.setRawHeader("Authorization", "Basic " + basicAuth.toBase64());
        QNetworkReply *reply = m_nam.post(request, form);
        QSignalSpy finished(reply, &QNetworkReply::finished);
        if (!reply->isFinished())
            finished.wait(20000);
        *status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QJsonObject answer = QJsonDocument::fromJson(reply->readAll()).object();
        delete reply;
        return answer;
    }

    // application/x-www-form-urlencoded, every value percent-encoded (a '+' stays a '+').
    static QByteArray form(std::initializer_list<std::pair<QString, QString>> items)
    {
        QByteArrayList pairs;
        for (const auto &[key, value] : items)
            pairs << key.toUtf8() + '=' + QUrl::toPercentEncoding(value);
        return pairs.join('&');
    }

    static Tokens tokensOf(const QJsonObject &answer)
    {
        return { answer.value(QLatin1String("access_token")).toString().toLatin1(),
            answer.value(QLatin1String("refresh_token")).toString().toLatin1(),
            answer.value(QLatin1String("id_token")).toString().toLatin1() };
    }

    // The browser flow as a native app runs it; the user agent's exit code is checked.
    // Returns the query of the redirect the app received.
    QUrlQuery authorize(LoopbackListener &listener, const QByteArray &challenge,
        const QByteArray &state, const QStringList &userAgentArgs = {})
    {
        QUrl url = endpoint("authorization_endpoint");
        url.setQuery(
            QString::fromLatin1(form({ { QStringLiteral("client_id"),
                                           QStringLiteral("latchkey-native") },
                { QStringLiteral("response_type"), QStringLiteral("code") },
                { QStringLiteral("scope"), QStringLiteral("openid offline_access email profile") },
                { QStringLiteral("prompt"), QStringLiteral("consent") },
                { QStringLiteral("redirect_uri"), listener.redirectUri() },
                { QStringLiteral("code_challenge"), QString::fromLatin1(challenge) },
                { QStringLiteral("code_challenge_method"), QStringLiteral("S256") },
                { QStringLiteral("state"), QString::fromLatin1(state) },
                { QStringLiteral("nonce"), QString::fromLatin1(randomToken()) } })),
            QUrl::StrictMode);

        QElapsedTimer timer;
        timer.start();
        QProcess *userAgent = m_provider.authorize(url, userAgentArgs);
        // The event loop runs: the listener in this process answers the user agent.
        [&] { QTRY_COMPARE_WITH_TIMEOUT(userAgent->state(), QProcess::NotRunning, 30000); }();
        qInfo("browser flow (user agent run) took %lld ms", timer.elapsed());
        if (userAgent->exitCode() != 0 || listener.requests.size() != 1) {
            qWarning("%s", OidcProvider::describe(userAgent).constData());
            return {};
        }
        const QUrl redirect = listener.requests.takeFirst();
        if (redirect.path() != QLatin1String("/callback"))
            return {};
        return QUrlQuery(redirect);
    }

    Tokens signIn()
    {
        LoopbackListener listener;
        const QByteArray verifier = randomToken();
        const QByteArray challenge
            = base64Url(QCryptographicHash::hash(verifier, QCryptographicHash::Sha256));
        const QByteArray state = randomToken(16);
        const QUrlQuery redirect = authorize(listener, challenge, state);
        if (redirect.queryItemValue(QStringLiteral("state")) != QLatin1String(state))
            return {};
        int status = 0;
        const QJsonObject answer = post(endpoint("token_endpoint"),
            form({ { QStringLiteral("grant_type"), QStringLiteral("authorization_code") },
                { QStringLiteral("client_id"), QStringLiteral("latchkey-native") },
                { QStringLiteral("code"), redirect.queryItemValue(QStringLiteral("code")) },
                { QStringLiteral("redirect_uri"), listener.redirectUri() },
                { QStringLiteral("code_verifier"), QString::fromLatin1(verifier) } }),
            &status);
        if (status != 200)
            qWarning("code exchange: %d %s", status, QJsonDocument(answer).toJson().constData());
        return tokensOf(answer);
    }

    QJsonObject startDevice(int *status)
    {
        return post(endpoint("device_authorization_endpoint"),
            form({ { QStringLiteral("client_id"), QStringLiteral("latchkey-native") },
                { QStringLiteral("scope"), QStringLiteral("openid offline_access") } }),
            status);
    }

    QJsonObject pollDevice(const QJsonObject &device, int *status)
    {
        return post(endpoint("token_endpoint"),
            form({ { QStringLiteral("grant_type"),
                       QStringLiteral("urn:ietf:params:oauth:grant-type:device_code") },
                { QStringLiteral("client_id"), QStringLiteral("latchkey-native") },
                { QStringLiteral("device_code"),
                    device.value(QLatin1String("device_code")).toString() } }),
            status);
    }

private slots:
    void initTestCase()
    {
        QString why;
        QVERIFY2(OidcProvider::available(&why), qPrintable(why));
        QElapsedTimer timer;
        timer.start();
        QVERIFY2(m_provider.start({ QStringLiteral("--device-interval"), QStringLiteral("1") }),
            qPrintable(m_provider.errorString()));
        qInfo("provider start took %lld ms", timer.elapsed());
        QVERIFY(m_provider.issuer().isValid());
        QVERIFY(!m_provider.issuer().toString().endsWith(QLatin1Char('/')));

        QNetworkReply *reply = m_nam.get(QNetworkRequest(QUrl(
            m_provider.issuer().toString() + QStringLiteral("/.well-known/openid-configuration"))));
        QSignalSpy finished(reply, &QNetworkReply::finished);
        QVERIFY(finished.wait(20000));
        m_discovery = QJsonDocument::fromJson(reply->readAll()).object();
        delete reply;
    }

    void discoveryNamesEveryEndpoint()
    {
        QCOMPARE(
            m_discovery.value(QLatin1String("issuer")).toString(), m_provider.issuer().toString());
        for (const char *name : { "authorization_endpoint", "token_endpoint",
                 "device_authorization_endpoint", "revocation_endpoint", "introspection_endpoint",
                 "userinfo_endpoint", "end_session_endpoint", "jwks_uri" })
            QVERIFY2(endpoint(name).isValid() && !endpoint(name).isEmpty(), name);
        QCOMPARE(m_discovery.value(QLatin1String("code_challenge_methods_supported")).toArray(),
            QJsonArray { QStringLiteral("S256") });
    }

    void browserSignInYieldsTokensAndRefreshRotates()
    {
        m_provider.resetCounters();
        const Tokens first = signIn();
        QVERIFY(!first.access.isEmpty());
        QVERIFY(!first.refresh.isEmpty());
        QVERIFY(!first.id.isEmpty());
        QVERIFY(m_provider.isActive(first.access));

        const auto refresh = [this](const QByteArray &token, int *status) {
            return post(endpoint("token_endpoint"),
                form({ { QStringLiteral("grant_type"), QStringLiteral("refresh_token") },
                    { QStringLiteral("client_id"), QStringLiteral("latchkey-native") },
                    { QStringLiteral("refresh_token"), QString::fromLatin1(token) } }),
                status);
        };
        int status = 0;
        const Tokens second = tokensOf(refresh(first.refresh, &status));
        QCOMPARE(status, 200);
        QVERIFY(!second.access.isEmpty());
        QVERIFY(!second.refresh.isEmpty());
        QVERIFY(second.refresh != first.refresh);
        QVERIFY(m_provider.isActive(second.refresh));

        // Rotation: the old refresh token is spent.
        const QJsonObject reused = refresh(first.refresh, &status);
        QCOMPARE(status, 400);
        QCOMPARE(reused.value(QLatin1String("error")).toString(), QStringLiteral("invalid_grant"));

        const QJsonObject tokenCounts
            = m_provider.counters().value(QLatin1String("token")).toObject();
        QCOMPARE(tokenCounts.value(QLatin1String("authorization_code")).toInt(), 1);
        QCOMPARE(tokenCounts.value(QLatin1String("refresh_token")).toInt(), 2);
        QCOMPARE(m_provider.counters().value(QLatin1String("authorization")).toInt(), 1);
    }

    void revokedRefreshTokenIsInactive()
    {
        const Tokens tokens = signIn();
        QVERIFY(!tokens.refresh.isEmpty());
        QVERIFY(m_provider.isActive(tokens.refresh));
        m_provider.resetCounters();
        int status = 0;
        post(endpoint("revocation_endpoint"),
            form({ { QStringLiteral("client_id"), QStringLiteral("latchkey-native") },
                { QStringLiteral("token"), QString::fromLatin1(tokens.refresh) },
                { QStringLiteral("token_type_hint"), QStringLiteral("refresh_token") } }),
            &status);
        QCOMPARE(status, 200);
        QVERIFY(!m_provider.isActive(tokens.refresh));
        QCOMPARE(m_provider.counters().value(QLatin1String("revocation")).toInt(), 1);
    }

    void deniedSignInRedirectsWithAccessDenied()
    {
        LoopbackListener listener;
        const QUrlQuery redirect
            = authorize(listener, randomToken(), "s1", { QStringLiteral("--deny") });
        QCOMPARE(redirect.queryItemValue(QStringLiteral("error")), QStringLiteral("access_denied"));
        QCOMPARE(redirect.queryItemValue(QStringLiteral("state")), QStringLiteral("s1"));
    }

    void wrongPasswordNeverReachesTheApplication()
    {
        LoopbackListener listener;
        QUrl url = endpoint("authorization_endpoint");
        url.setQuery(
            QString::fromLatin1(
                form({ { QStringLiteral("client_id"), QStringLiteral("latchkey-native") },
                    { QStringLiteral("response_type"), QStringLiteral("code") },
                    { QStringLiteral("scope"), QStringLiteral("openid") },
                    { QStringLiteral("redirect_uri"), listener.redirectUri() },
                    { QStringLiteral("code_challenge"), QString::fromLatin1(randomToken()) },
                    { QStringLiteral("code_challenge_method"), QStringLiteral("S256") } })),
            QUrl::StrictMode);
        QProcess *userAgent
            = m_provider.authorize(url, { QStringLiteral("--password"), QStringLiteral("wrong") });
        QTRY_COMPARE_WITH_TIMEOUT(userAgent->state(), QProcess::NotRunning, 30000);
        QCOMPARE(userAgent->exitCode(), 3);
        QVERIFY(listener.requests.isEmpty());
    }

    void deviceFlowYieldsTokensOnceApproved()
    {
        int status = 0;
        const QJsonObject device = startDevice(&status);
        QCOMPARE(status, 200);
        QCOMPARE(device.value(QLatin1String("interval")).toInt(-1), 1);

        QJsonObject poll = pollDevice(device, &status);
        QCOMPARE(status, 400);
        QCOMPARE(
            poll.value(QLatin1String("error")).toString(), QStringLiteral("authorization_pending"));

        QElapsedTimer timer;
        timer.start();
        QProcess *userAgent = m_provider.approveDevice(
            QUrl(device.value(QLatin1String("verification_uri")).toString()),
            device.value(QLatin1String("user_code")).toString());
        QTRY_COMPARE_WITH_TIMEOUT(userAgent->state(), QProcess::NotRunning, 30000);
        qInfo("device approval (user agent run) took %lld ms", timer.elapsed());
        QVERIFY2(userAgent->exitCode() == 0, OidcProvider::describe(userAgent).constData());
        QVERIFY(userAgent->readAllStandardOutput().contains("DEVICE APPROVED"));

        const Tokens tokens = tokensOf(pollDevice(device, &status));
        QCOMPARE(status, 200);
        QVERIFY(m_provider.isActive(tokens.access));
        QVERIFY(!tokens.refresh.isEmpty());
    }

    void deviceFlowHooksDenyExpireAndSlowDown()
    {
        int status = 0;
        // Denied on the confirmation page.
        const QJsonObject denied = startDevice(&status);
        QProcess *userAgent = m_provider.approveDevice(
            QUrl(denied.value(QLatin1String("verification_uri_complete")).toString()), {},
            { QStringLiteral("--deny") });
        QTRY_COMPARE_WITH_TIMEOUT(userAgent->state(), QProcess::NotRunning, 30000);
        QVERIFY2(userAgent->exitCode() == 0, OidcProvider::describe(userAgent).constData());
        QCOMPARE(pollDevice(denied, &status).value(QLatin1String("error")).toString(),
            QStringLiteral("access_denied"));

        // slow_down on request.
        const QJsonObject device = startDevice(&status);
        m_provider.slowDown(1);
        QCOMPARE(pollDevice(device, &status).value(QLatin1String("error")).toString(),
            QStringLiteral("slow_down"));
        QCOMPARE(pollDevice(device, &status).value(QLatin1String("error")).toString(),
            QStringLiteral("authorization_pending"));

        // Expired now.
        m_provider.expireDeviceCodes();
        QCOMPARE(pollDevice(device, &status).value(QLatin1String("error")).toString(),
            QStringLiteral("expired_token"));
    }

    void endSessionRedirectsToTheLoopbackPort()
    {
        LoopbackListener listener;
        QUrl url = endpoint("end_session_endpoint");
        const QString signedOut
            = QString(listener.redirectUri())
                  .replace(QStringLiteral("/callback"), QStringLiteral("/signed-out"));
        url.setQuery(QString::fromLatin1(
                         form({ { QStringLiteral("client_id"), QStringLiteral("latchkey-native") },
                             { QStringLiteral("post_logout_redirect_uri"), signedOut },
                             { QStringLiteral("state"), QStringLiteral("bye") } })),
            QUrl::StrictMode);
        QProcess *userAgent = m_provider.authorize(url);
        QTRY_COMPARE_WITH_TIMEOUT(userAgent->state(), QProcess::NotRunning, 30000);
        QVERIFY2(userAgent->exitCode() == 0, OidcProvider::describe(userAgent).constData());
        QCOMPARE(listener.requests.size(), 1);
        QCOMPARE(listener.requests.first().path(), QStringLiteral("/signed-out"));
        QCOMPARE(QUrlQuery(listener.requests.first()).queryItemValue(QStringLiteral("state")),
            QStringLiteral("bye"));
    }

    void clientCredentialsForServices()
    {
        int status = 0;
        const QJsonObject basic = post(endpoint("token_endpoint"),
            form({ { QStringLiteral("grant_type"), QStringLiteral("client_credentials") },
                { QStringLiteral("scope"), QStringLiteral("api:read") },
                { QStringLiteral("resource"), QStringLiteral("http://127.0.0.1/api") } }),
            &status, "latchkey-service:service-secret");
        QCOMPARE(status, 200);
        QCOMPARE(basic.value(QLatin1String("scope")).toString(), QStringLiteral("api:read"));
        QVERIFY(
            m_provider.isActive(basic.value(QLatin1String("access_token")).toString().toLatin1()));

        const QJsonObject viaPost = post(endpoint("token_endpoint"),
            form({ { QStringLiteral("grant_type"), QStringLiteral("client_credentials") },
                { QStringLiteral("client_id"), QStringLiteral("latchkey-service-post") },
                { QStringLiteral("client_secret"), QStringLiteral("service-secret") } }),
            &status);
        QCOMPARE(status, 200);
        QVERIFY(m_provider.isActive(
            viaPost.value(QLatin1String("access_token")).toString().toLatin1()));

        const QJsonObject wrong = post(endpoint("token_endpoint"),
            form({ { QStringLiteral("grant_type"), QStringLiteral("client_credentials") } }),
            &status, "latchkey-service:wrong");
        QCOMPARE(status, 401);
        QCOMPARE(wrong.value(QLatin1String("error")).toString(), QStringLiteral("invalid_client"));

        m_provider.expireAccessTokens();
        QVERIFY(
            !m_provider.isActive(basic.value(QLatin1String("access_token")).toString().toLatin1()));
    }
};

QTEST_GUILESS_MAIN(TestOidcProvider)
#include "tst_oidcprovider.moc"
