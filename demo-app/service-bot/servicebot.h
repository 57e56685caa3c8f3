#pragma once

#include <QObject>
#include <QString>
#include <QTimer>
#include <QUrl>

namespace Latchkey {
class AuthClient;
class CredentialsProvider;
} // namespace Latchkey

namespace LatchkeyBot {

struct BotOptions
{
    QUrl baseUrl;
    QString profile = QStringLiteral("latchkey");
    QString identityEnv; // with passwordEnv: EnvironmentCredentials
    QString passwordEnv;
    QString credentialsFile; // FileCredentials
    QString keychainKey; // with identity: KeychainCredentials
    QString identity;
    bool keychainSession = false; // keep the session in the OS keychain (default: memory)
    bool allowInsecureHttp = false;
    QString apiPath = QStringLiteral("/api/bookings");
    int intervalMs = 5000;
    int iterations = 0; // 0: until SIGTERM or SIGINT
};

// The service: signs in by itself through the SDK's credentials provider, keeps the token
// fresh (the SDK does), calls the API every interval and prints one JSON line per call with the
// call's outcome and AuthClient::health(). finished() carries the exit code.
class ServiceBot : public QObject
{
    Q_OBJECT
public:
    // \a credentials is adopted by the client.
    ServiceBot(const BotOptions &options, Latchkey::CredentialsProvider *credentials,
        QObject *parent = nullptr);
    ~ServiceBot() override;

    void start();
    // Stops calling, writes back what the store still has to, then finished(exitCode).
    void stop(int exitCode);

Q_SIGNALS:
    void finished(int exitCode);

private:
    void call();

    BotOptions m_options;
    Latchkey::AuthClient *m_client;
    QTimer m_next;
    int m_calls = 0;
    bool m_stopping = false;
};

} // namespace LatchkeyBot
