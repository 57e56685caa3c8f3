#pragma once

#include "serverconfig.h"

#include <QAbstractHttpServer>
#include <QHttpServerResponse>
#include <QUrl>

#include <memory>

class AuthService;
class Database;
class Dialect;
class FaultInjector;
class Metrics;
class OAuth2Endpoint;
class TestHooks;

// The HTTP front of latchkey-server. Every request passes here: its head is checked before its
// body is read (RequestGate: Content-Length over MaxBodyBytes is refused), it is counted, then
// answered by /health, /metrics, the test hooks (with --test-hooks) or the dialect, else
// 404. Subclasses QAbstractHttpServer rather than using QHttpServer's router so one place sees
// every request and a response can be sent later (the latency hook) without blocking.
//
//   AuthServer server(config);
//   if (!server.start(&error)) ...;
//   qInfo() << server.baseUrl();
class AuthServer : public QAbstractHttpServer
{
    Q_OBJECT

public:
    static constexpr qsizetype MaxBodyBytes = 1024 * 1024;

    explicit AuthServer(const ServerConfig &config, QObject *parent = nullptr);
    ~AuthServer() override;

    // Opens the database, loads or creates the signing secret, seeds, and listens.
    bool start(QString *error);

    quint16 port() const { return m_port; }
    QUrl baseUrl() const;

    Metrics &metrics() { return *m_metrics; }
    AuthService *authService() { return m_auth.get(); }
    FaultInjector *faultInjector() { return m_faults.get(); } // null without test hooks

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    QHttpServerResponse respond(const QHttpServerRequest &request);
    bool loadSecret(QByteArray *secret, QString *error);
    // Listens on the configured address (TLS with --tls-cert), every connection through a
    // RequestGate. Returns the port, 0 on failure.
    quint16 listenGated(QString *error);

    ServerConfig m_config;
    quint16 m_port = 0;
    std::unique_ptr<Metrics> m_metrics;
    std::unique_ptr<Database> m_db;
    std::unique_ptr<FaultInjector> m_faults;
    std::unique_ptr<AuthService> m_auth;
    std::unique_ptr<Dialect> m_dialect;
    std::unique_ptr<OAuth2Endpoint> m_oauth;
    std::unique_ptr<TestHooks> m_hooks;
};
