#pragma once

#include "requestgate_p.h"
#include "sessioncore_p.h"

#include <QBasicTimer>
#include <QElapsedTimer>
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
//
// To the caller it behaves as Qt 6.4's own HTTP reply does (tests/auto/fidelity compares the
// two signal by signal): the same sequence of metaDataChanged, readyRead, redirected,
// errorOccurred, downloadProgress/uploadProgress, readChannelFinished and finished, the same
// errors, attributes and headers; redirect policies (UserVerified waits for redirectAllowed()),
// maximumRedirectsAllowed, the transfer timeout (which also bounds a wait for a refresh),
// auto-delete, ignoreSslErrors() in both forms. Where it deliberately differs from Qt 6.4:
//  - abort() in a redirected() slot sends no next hop (Qt 6.4 still sends it and then emits
//    metaDataChanged after finished);
//  - SameOriginRedirectPolicy compares origins with default ports (http://h/ and http://h:80/
//    are one origin; Qt 6.4 compares QUrl::port() as written and refuses that redirect).
//
// Not possible in Qt 6.4: QNetworkAccessManager::authenticationRequired(reply, authenticator)
// (a server's Basic/Digest/NTLM/Negotiate challenge) carries the inner attempt, not this reply.
// Qt emits it from QNetworkAccessManagerPrivate::authenticationRequired() with the
// QNetworkReplyHttpImpl that met the challenge, inside a blocking call from the HTTP thread,
// and offers no hook to substitute the argument. The other manager-level signals carry this
// reply: finished, encrypted, sslErrors and preSharedKeyAuthenticationRequired are connected
// by QNetworkAccessManager to the reply createRequest() returned (this one), which re-emits
// them; proxyAuthenticationRequired carries no reply at all.
class RetryingReply : public QNetworkReply
{
    Q_OBJECT
public:
    using CreateFunction = std::function<QNetworkReply *(
        QNetworkAccessManager::Operation, const QNetworkRequest &, QIODevice *)>;

    // \a request is the request as QNetworkAccessManager::createRequest() would keep it (the
    // manager's redirect policy, transfer timeout and auto-delete applied): request() shows it.
    RetryingReply(std::shared_ptr<SessionCore> session, CreateFunction create,
        QNetworkAccessManager::Operation op, const QNetworkRequest &request,
        QIODevice *outgoingData, QNetworkRequest::RedirectPolicy managerPolicy,
        std::shared_ptr<RequestGate> gate, QObject *parent);
    ~RetryingReply() override;

    void abort() override;
    void close() override;
    void ignoreSslErrors() override;
    qint64 bytesAvailable() const override;
    bool isSequential() const override { return true; }
    void setReadBufferSize(qint64 size) override;

    static constexpr char authErrorProperty[] = "_latchkey_authError";

    // Called (in this reply's thread) when a 401 showed that the token of \a generation is
    // refused: if this attempt carries that token and has not gone out yet, it is withdrawn
    // and waits for the refresh. See SessionCore::registerUnsent.
    void holdBack(quint64 generation);
    // The gate gave this reply the slot it waited for: it goes out now, with the token current
    // now (or waits for a refresh, giving the slot back).
    void resume();

protected:
    qint64 readData(char *data, qint64 maxSize) override;
    void timerEvent(QTimerEvent *event) override;
    void ignoreSslErrorsImplementation(const QList<QSslError> &errors) override;
    void sslConfigurationImplementation(QSslConfiguration &configuration) const override;
    void setSslConfigurationImplementation(const QSslConfiguration &configuration) override;

private:
    enum class Disposition { Undecided, Forward, Redirect };

    void start();
    // \a authorization: the Authorization header's value (SessionCore::Snapshot), empty for none.
    void send(const QByteArray &authorization, quint64 generation);
    void waitForRefresh(quint64 seenGeneration, RefreshReason reason);
    void onMetaData();
    void onInnerReadyRead();
    void onInnerDownloadProgress(qint64 received, qint64 total);
    void onInnerUploadProgress(qint64 sent, qint64 total);
    void onInnerFinished();
    void forwardInnerError();
    void followRedirect();
    void refuseRedirect(QNetworkReply::NetworkError code, const QString &message);
    void onRedirectAllowed();
    void commitMetaData();
    void clearHeaders();
    void fail(const AuthError &error);
    void finishOnce();
    // Destroy: as Abort, from the destructor; a finished inner reply is deleted at once when
    // none of its signals is being delivered.
    enum class DropMode { Abort, Delete, Destroy };
    // Keep: the caller gives the gate's slot back itself, once it is ready for the next reply.
    enum class SlotMode { Release, Keep };
    void dropInner(DropMode mode = DropMode::Abort, SlotMode slot = SlotMode::Release);
    bool rewindBody();
    void stopWatchingUnsent();
    void releaseSlot();
    // latchkey.timing: \a what happened this long after the reply was made.
    void span(const char *what, int status = 0) const;
    void leaveQueue();

    std::shared_ptr<SessionCore> m_session;
    CreateFunction m_create;
    QNetworkRequest m_original;
    QNetworkAccessManager::Operation m_op;
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
    bool m_hadBody = false; // created with an outgoing device (Qt then reports upload progress)
    int m_attempts = 0;
    QNetworkRequest::RedirectPolicy m_redirectPolicy = QNetworkRequest::NoLessSafeRedirectPolicy;
    int m_redirectsLeft = 50;
    bool m_awaitingRedirectAllowed = false; // UserVerified: redirected() emitted, hop not sent
    bool m_watchingRedirectAllowed = false;
    bool m_done = false;
    bool m_innerErrorForwarded = false;
    bool m_finalProgressSent = false; // the last downloadProgress/uploadProgress before finished
    bool m_ignoreAllSslErrors = false;
    qint64 m_readBufferSize = 0;
    qint64 m_received = 0; // download progress of the forwarded attempt
    qint64 m_readFromInner = 0;
    qint64 m_uploadHighWater = -1; // upload progress never goes back on a replay
    int m_transferTimeout = 0; // ms; 0: none
    QBasicTimer m_transferTimer; // runs while no attempt is in flight (waiting for a refresh)
    QList<QSslError> m_ignoredSslErrors;
    // The request brought no SSL configuration of its own: attempts to the API's origin get
    // the client's (SessionCore::sslConfiguration).
    bool m_clientTls = false;
    // Null for a synchronous request (it cannot wait in a queue).
    std::shared_ptr<RequestGate> m_gate;
    bool m_holdsSlot = false; // an attempt of this reply counts against the gate
    bool m_queued = false; // waiting in the gate for a slot
    QElapsedTimer m_clock; // started only while latchkey.timing is enabled
    quint64 m_epoch = 0; // the session it was made in (SessionCore::Snapshot::epoch)
    bool m_epochKnown = false;
    bool m_madeInSession = false; // made while a session was active or restoring
};

} // namespace Latchkey
