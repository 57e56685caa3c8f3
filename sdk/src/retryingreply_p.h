#pragma once

#include "sessioncore_p.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPointer>

#include <functional>
#include <memory>

namespace Latchkey {

// What the caller of an AuthorizedNetworkAccessManager holds for a request to the API's
// origin. It owns the real reply of each attempt (created by the manager's base createRequest,
// so the manager never announces a discarded attempt), attaches the current token, and:
//  - waits for the one refresh in flight when the token is stale before sending;
//  - on a 401 to a request that carried a token: one refresh, one replay (body included);
//  - follows redirects itself, so a token never travels to another origin;
//  - gives each attempt to the API's origin the client's TLS configuration unless the request
//    has one of its own;
// then forwards the final attempt's metadata, data and error as its own.
class RetryingReply : public QNetworkReply
{
    Q_OBJECT
public:
    using CreateFunction = std::function<QNetworkReply *(
        QNetworkAccessManager::Operation, const QNetworkRequest &, QIODevice *)>;

    RetryingReply(std::shared_ptr<SessionCore> session, CreateFunction create,
        QNetworkAccessManager::Operation op, const QNetworkRequest &request,
        QIODevice *outgoingData, QNetworkRequest::RedirectPolicy managerPolicy, QObject *parent);
    ~RetryingReply() override;

    void abort() override;
    void close() override;
    qint64 bytesAvailable() const override;
    bool isSequential() const override { return true; }
    void setReadBufferSize(qint64 size) override;

    static constexpr char authErrorProperty[] = "_latchkey_authError";

    // Called (in this reply's thread) when a 401 showed that the token of \a generation is
    // refused: if this attempt carries that token and has not gone out yet, it is withdrawn
    // and waits for the refresh. See SessionCore::registerUnsent.
    void holdBack(quint64 generation);

protected:
    qint64 readData(char *data, qint64 maxSize) override;
    void ignoreSslErrorsImplementation(const QList<QSslError> &errors) override;
    void sslConfigurationImplementation(QSslConfiguration &configuration) const override;
    void setSslConfigurationImplementation(const QSslConfiguration &configuration) override;

private:
    enum class Disposition { Undecided, Forward, Retry, Redirect };

    void start();
    void send(const QByteArray &accessToken, quint64 generation);
    void waitForRefresh(quint64 seenGeneration, RefreshReason reason);
    void onMetaData();
    void onInnerFinished();
    void followRedirect();
    void commitMetaData();
    void fail(const AuthError &error);
    void finishOnce();
    enum class DropMode { Abort, Delete };
    void dropInner(DropMode mode = DropMode::Abort);
    bool rewindBody();
    void stopWatchingUnsent();

    std::shared_ptr<SessionCore> m_session;
    CreateFunction m_create;
    QNetworkRequest m_original;
    QNetworkAccessManager::Operation m_op;
    QByteArray m_customVerb;
    QPointer<QIODevice> m_body;
    qint64 m_bodyStart = 0;
    QUrl m_currentUrl;
    QPointer<QNetworkReply> m_inner;
    Disposition m_disposition = Disposition::Undecided;
    quint64 m_sentGeneration = 0;
    bool m_sentToken = false;
    bool m_replayed = false;
    bool m_watchingUnsent = false; // registered with SessionCore::registerUnsent
    bool m_requestSent = false; // the inner reply said requestSent()
    int m_attempts = 0;
    QNetworkRequest::RedirectPolicy m_redirectPolicy = QNetworkRequest::NoLessSafeRedirectPolicy;
    int m_redirectsLeft = 50;
    bool m_done = false;
    qint64 m_readBufferSize = 0;
    QList<QSslError> m_ignoredSslErrors;
    // The request brought no SSL configuration of its own: attempts to the API's origin get
    // the client's (SessionCore::sslConfiguration).
    bool m_clientTls = false;
};

} // namespace Latchkey
