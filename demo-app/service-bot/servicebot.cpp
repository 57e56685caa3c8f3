#include "servicebot.h"

#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/credentialsprovider.h>
#include <latchkey/keychaintokenstore.h>
#include <latchkey/memorytokenstore.h>

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QNetworkReply>
#include <QTextStream>

namespace LatchkeyBot {

using Latchkey::AuthClient;
using Latchkey::AuthError;

ServiceBot::ServiceBot(
    const BotOptions &options, Latchkey::CredentialsProvider *credentials, QObject *parent)
    : QObject(parent)
    , m_options(options)
    , m_client(
          new AuthClient(Latchkey::ServerProfile::load(options.profile), options.baseUrl, this))
{
    if (options.keychainSession)
        m_client->setTokenStore(new Latchkey::KeychainTokenStore);
    else
        m_client->setTokenStore(new Latchkey::MemoryTokenStore);
    m_client->setAllowInsecureHttp(options.allowInsecureHttp);
    m_client->setCredentialsProvider(credentials);
    connect(m_client, &AuthClient::credentialsRejected, this, [this](const AuthError &error) {
        QTextStream(stderr) << "latchkey-service-bot: cannot sign in: " << error.toString()
                            << Qt::endl;
        stop(2);
    });
    m_next.setSingleShot(true);
    connect(&m_next, &QTimer::timeout, this, &ServiceBot::call);
}

ServiceBot::~ServiceBot() = default;

void ServiceBot::start()
{
    // Nothing stored (or the memory store): the client signs in with the credentials by
    // itself; while the server is down it keeps trying. The calls start either way.
    connect(m_client->restore(), &Latchkey::AuthReply::finished, this, [this] {
        if (!m_stopping)
            call();
    });
}

void ServiceBot::call()
{
    if (m_stopping)
        return;
    ++m_calls;
    QNetworkRequest request(m_options.baseUrl.resolved(QUrl(m_options.apiPath)));
    request.setTransferTimeout(30000);
    auto elapsed = std::make_shared<QElapsedTimer>();
    elapsed->start();
    QNetworkReply *reply = m_client->networkAccessManager()->get(request);
    connect(reply, &QNetworkReply::finished, this, [this, reply, elapsed] {
        reply->deleteLater();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        QJsonObject line {
            { QStringLiteral("call"), m_calls },
            { QStringLiteral("status"), status },
            { QStringLiteral("ms"), qint64(elapsed->elapsed()) },
            { QStringLiteral("ok"), reply->error() == QNetworkReply::NoError },
            { QStringLiteral("health"), m_client->health() },
        };
        if (reply->error() != QNetworkReply::NoError) {
            const AuthError authError = Latchkey::AuthorizedNetworkAccessManager::authError(reply);
            line.insert(QStringLiteral("error"),
                authError.isError() ? authError.toString() : reply->errorString());
        }
        QTextStream out(stdout);
        out << QJsonDocument(line).toJson(QJsonDocument::Compact) << Qt::endl;
        if (m_options.iterations > 0 && m_calls >= m_options.iterations) {
            stop(0);
            return;
        }
        if (!m_stopping)
            m_next.start(m_options.intervalMs);
    });
}

void ServiceBot::stop(int exitCode)
{
    if (m_stopping)
        return;
    m_stopping = true;
    m_next.stop();
    // A refresh rotates the stored token: let it land before quitting (with the keychain).
    connect(m_client->flush(), &Latchkey::AuthReply::finished, this,
        [this, exitCode] { Q_EMIT finished(exitCode); });
}

} // namespace LatchkeyBot
