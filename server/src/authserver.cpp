#include "authserver.h"

#include "authservice.h"
#include "database.h"
#include "demoseeder.h"
#include "dialect.h"
#include "faultinjector.h"
#include "httputil.h"
#include "metrics.h"
#include "oauth2endpoint.h"
#include "requestgate.h"
#include "securerandom.h"
#include "serverlog.h"
#include "testhooks.h"

#include <QFile>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QPointer>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslServer>
#include <QTcpSocket>
#include <QTimer>

using HttpUtil::Status;

namespace {
const QString secretSetting = QStringLiteral("jwt_secret");
constexpr int SecretBytes = 32;
} // namespace

AuthServer::AuthServer(const ServerConfig &config, QObject *parent)
    : QAbstractHttpServer(parent)
    , m_config(config)
    , m_metrics(std::make_unique<Metrics>())
{ }

AuthServer::~AuthServer() = default;

bool AuthServer::start(QString *error)
{
    m_db = std::make_unique<Database>();
    const QString path = m_config.databasePath.isEmpty() ? ServerConfig::defaultDatabasePath()
                                                         : m_config.databasePath;
    if (!m_db->open(path, error))
        return false;
    QByteArray secret;
    if (!loadSecret(&secret, error))
        return false;
    if (m_config.testHooks)
        m_faults = std::make_unique<FaultInjector>();
    AuthService::Options options;
    options.accessTtlSeconds = m_config.accessTtlSeconds;
    options.refreshTtlSeconds = m_config.refreshTtlSeconds;
    options.pbkdf2Iterations = m_config.pbkdf2Iterations;
    options.lockoutThreshold = m_config.lockoutThreshold;
    options.lockoutSeconds = m_config.lockoutSeconds;
    options.lockoutWindowSeconds = m_config.lockoutWindowSeconds;
    options.loginRateLimit = m_config.loginRateLimit;
    options.loginRateWindowSeconds = m_config.loginRateWindowSeconds;
    m_auth = std::make_unique<AuthService>(*m_db, secret, options, *m_metrics, m_faults.get());
    m_dialect = Dialect::create(m_config.dialect, *m_auth, *m_metrics);
    if (!m_dialect) {
        *error = QStringLiteral("unknown dialect %1").arg(m_config.dialect);
        return false;
    }
    m_auth->setClaimsProvider([dialect = m_dialect.get()](
                                  const UserRecord &user) { return dialect->accessClaims(user); });
    m_oauth = std::make_unique<OAuth2Endpoint>(*m_auth, m_config.oauthClients);
    if (m_faults)
        m_hooks = std::make_unique<TestHooks>(*m_faults, *m_auth);
    if (m_config.seedDemo && !DemoSeeder::seed(*m_auth, error))
        return false;
    m_port = listenGated(error);
    if (m_port == 0)
        return false;
    qCInfo(lcServer) << "dialect" << m_dialect->name() << "database" << path
                     << (m_faults ? "test hooks ON" : "test hooks off")
                     << (m_config.tls() ? "https" : "http");
    return true;
}

namespace {
bool loadTls(const ServerConfig &config, QSslConfiguration *tls, QString *error)
{
    const QList<QSslCertificate> chain
        = QSslCertificate::fromPath(config.tlsCertificateFile, QSsl::Pem);
    if (chain.isEmpty() || chain.first().isNull()) {
        *error = QStringLiteral("--tls-cert %1: no PEM certificate could be read")
                     .arg(config.tlsCertificateFile);
        return false;
    }
    QFile keyFile(config.tlsKeyFile);
    if (!keyFile.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read --tls-key %1: %2")
                     .arg(config.tlsKeyFile, keyFile.errorString());
        return false;
    }
    const QByteArray pem = keyFile.readAll();
    QSslKey key;
    for (QSsl::KeyAlgorithm algorithm : { QSsl::Rsa, QSsl::Ec, QSsl::Dsa }) {
        key = QSslKey(pem, algorithm, QSsl::Pem, QSsl::PrivateKey);
        if (!key.isNull())
            break;
    }
    if (key.isNull()) {
        *error = QStringLiteral("--tls-key %1: no unencrypted PEM private key (RSA, EC or DSA) "
                                "could be read")
                     .arg(config.tlsKeyFile);
        return false;
    }
    *tls = QSslConfiguration::defaultConfiguration();
    tls->setLocalCertificateChain(chain);
    tls->setPrivateKey(key);
    tls->setPeerVerifyMode(QSslSocket::VerifyNone); // no client certificates
    return true;
}
} // namespace

quint16 AuthServer::listenGated(QString *error)
{
    // Not QAbstractHttpServer::listen(): its QTcpServer/QSslServer hands connections straight
    // to QHttpServer, which reads every body whole before anyone can look at its length.
    QTcpServer *server = nullptr;
    if (m_config.tls()) {
        QSslConfiguration tls;
        if (!loadTls(m_config, &tls, error))
            return 0;
        auto *sslServer = new GatedServer<QSslServer>(this, MaxBodyBytes);
        sslServer->setSslConfiguration(tls);
        server = sslServer;
    } else {
        server = new GatedServer<QTcpServer>(this, MaxBodyBytes);
    }
    if (!server->listen(m_config.listenAddress, m_config.port)) {
        *error = QStringLiteral("cannot listen on %1:%2: %3")
                     .arg(m_config.listenAddress.toString())
                     .arg(m_config.port)
                     .arg(server->errorString());
        delete server;
        return 0;
    }
    bind(server); // parented to this server
    return server->serverPort();
}

QUrl AuthServer::baseUrl() const
{
    QUrl url;
    url.setScheme(m_config.tls() ? QStringLiteral("https") : QStringLiteral("http"));
    const QHostAddress &address = m_config.listenAddress;
    const bool any = address == QHostAddress(QHostAddress::Any)
        || address == QHostAddress(QHostAddress::AnyIPv4)
        || address == QHostAddress(QHostAddress::AnyIPv6);
    url.setHost(any ? QStringLiteral("127.0.0.1") : address.toString());
    url.setPort(m_port);
    return url;
}

bool AuthServer::loadSecret(QByteArray *secret, QString *error)
{
    if (!m_config.jwtSecretFile.isEmpty()) {
        QFile file(m_config.jwtSecretFile);
        if (!file.open(QIODevice::ReadOnly)) {
            *error = QStringLiteral("cannot read --jwt-secret-file %1: %2")
                         .arg(m_config.jwtSecretFile, file.errorString());
            return false;
        }
        *secret = file.readAll().trimmed();
        if (secret->size() < SecretBytes) {
            *error
                = QStringLiteral("--jwt-secret-file must hold at least %1 bytes").arg(SecretBytes);
            return false;
        }
        return true;
    }
    const QString stored = m_db->setting(secretSetting);
    if (!stored.isEmpty()) {
        *secret = QByteArray::fromBase64(stored.toLatin1());
        if (secret->size() >= SecretBytes)
            return true;
    }
    *secret = secureRandomBytes(SecretBytes);
    if (!m_db->setSetting(secretSetting, QString::fromLatin1(secret->toBase64()))) {
        *error = QStringLiteral("cannot store the signing secret in the database");
        return false;
    }
    qCInfo(lcServer) << "generated a new signing secret";
    return true;
}

bool AuthServer::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    m_metrics->countRequest();
    const QString path = request.url().path();
    QHttpServerResponse response = respond(request);
    qCDebug(lcServer).noquote() << HttpUtil::methodName(int(request.method())) << path << "->"
                                << int(response.statusCode());

    const bool delayable
        = path != QLatin1String("/health") && !path.startsWith(QLatin1String("/test/"));
    const int delay = (m_faults && delayable) ? m_faults->latencyMs() : 0;
    if (delay <= 0) {
        response.write(makeResponder(request, socket));
        return true;
    }
    // Answer later from the event loop: QHttpServer 6.4 is single-threaded, so sleeping here
    // would stall every other connection. The work (e.g. a token rotation) is already done, as
    // with a slow network; a client that gives up meanwhile just never sees the answer.
    auto responder = std::make_shared<QHttpServerResponder>(makeResponder(request, socket));
    auto pending = std::make_shared<QHttpServerResponse>(std::move(response));
    QPointer<QTcpSocket> guard(socket);
    QTimer::singleShot(delay, this, [responder, pending, guard] {
        if (guard && guard->state() == QAbstractSocket::ConnectedState)
            pending->write(std::move(*responder));
    });
    return true;
}

void AuthServer::missingHandler(const QHttpServerRequest &request, QTcpSocket *socket)
{
    // handleRequest answers everything; kept for completeness.
    HttpUtil::message(Status::NotFound, QStringLiteral("Not found."))
        .write(makeResponder(request, socket));
}

QHttpServerResponse AuthServer::respond(const QHttpServerRequest &request)
{
    if (request.body().size() > MaxBodyBytes)
        return HttpUtil::message(
            Status::PayloadTooLarge, QStringLiteral("Request body exceeds 1 MiB."));
    const QString path = request.url().path();
    const bool get = request.method() == QHttpServerRequest::Method::Get;
    if (path == QLatin1String("/health") && get)
        return HttpUtil::json({ { QStringLiteral("status"), QStringLiteral("ok") } });
    if (path == QLatin1String("/metrics") && get)
        return QHttpServerResponse(
            QByteArrayLiteral("text/plain; version=0.0.4"), m_metrics->render());
    if (m_hooks) {
        if (auto response = m_hooks->handle(request))
            return std::move(*response);
    }
    if (m_oauth) {
        if (auto response = m_oauth->handle(request))
            return std::move(*response);
    }
    if (m_dialect) {
        if (auto response = m_dialect->handle(request))
            return std::move(*response);
    }
    return HttpUtil::message(Status::NotFound, QStringLiteral("Not found."));
}
