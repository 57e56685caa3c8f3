#include "retryingreply_p.h"

#include "logging_p.h"
#include "serverprofile_p.h"

#include <QCoreApplication>
#include <QSslConfiguration>
#include <QTimerEvent>
#include <QVersionNumber>

namespace Latchkey {

namespace {

// Beyond the last attribute Qt defines today (Http2CleartextAllowedAttribute = 27 in 6.4),
// with room for those later versions add.
constexpr int lastQtAttribute = 64;
static_assert(QNetworkRequest::Http2CleartextAllowedAttribute < lastQtAttribute);

// How many of Qt's attributes commitMetaData() copies: those of the Qt this was built with
// (Qt 6.4: 28) when the same minor version runs, else up to lastQtAttribute (a newer Qt may
// number more, which an application built against it may read).
int qtAttributeCount()
{
#if QT_VERSION < QT_VERSION_CHECK(6, 5, 0)
    constexpr int built = QNetworkRequest::Http2CleartextAllowedAttribute + 1;
#else
    constexpr int built = lastQtAttribute;
#endif
    static const int count = [] {
        const QVersionNumber running = QVersionNumber::fromString(QLatin1String(qVersion()));
        return running.majorVersion() == QT_VERSION_MAJOR
                && running.minorVersion() == QT_VERSION_MINOR
            ? built
            : lastQtAttribute;
    }();
    return count;
}

// How many signals of inner replies this thread is delivering to RetryingReply slots right now.
// Thread-wide, not per reply: a slot may end with its reply deleted (by the application, in a
// slot of a signal the reply re-emits), and must not touch it then.
thread_local int innerSignalDepth = 0;

struct InInnerSignal
{
    InInnerSignal() { ++innerSignalDepth; }
    ~InInnerSignal() { --innerSignalDepth; }
    InInnerSignal(const InInnerSignal &) = delete;
    InInnerSignal &operator=(const InInnerSignal &) = delete;
};

bool isHttps(const QUrl &url)
{
    return url.scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0;
}

// The statuses Qt's HTTP layer follows (QHttpNetworkReply::isHttpRedirect).
bool isRedirectStatus(int status)
{
    return status == 301 || status == 302 || status == 303 || status == 305 || status == 307
        || status == 308;
}

int defaultPort(const QString &scheme)
{
    return scheme.compare(QLatin1String("https"), Qt::CaseInsensitive) == 0 ? 443 : 80;
}

// RFC 6454: scheme, host and port, a missing port meaning the scheme's default one.
bool sameOrigin(const QUrl &a, const QUrl &b)
{
    return a.scheme().compare(b.scheme(), Qt::CaseInsensitive) == 0
        && a.host().compare(b.host(), Qt::CaseInsensitive) == 0
        && a.port(defaultPort(a.scheme())) == b.port(defaultPort(b.scheme()));
}

QNetworkReply::NetworkError networkErrorFor(const AuthError &error)
{
    switch (error.kind()) {
    case AuthError::Kind::SessionExpired:
    case AuthError::Kind::NotSignedIn:
    case AuthError::Kind::InvalidCredentials:
        return QNetworkReply::AuthenticationRequiredError;
    case AuthError::Kind::Network:
        return error.networkError() != QNetworkReply::NoError
            ? error.networkError()
            : QNetworkReply::TemporaryNetworkFailureError;
    case AuthError::Kind::Server:
    case AuthError::Kind::RateLimited:
        return QNetworkReply::ServiceUnavailableError;
    case AuthError::Kind::Cancelled:
        return QNetworkReply::OperationCanceledError;
    default:
        return QNetworkReply::ProtocolFailure;
    }
}

} // namespace

RetryingReply::RetryingReply(std::shared_ptr<SessionCore> session, CreateFunction create,
    QNetworkAccessManager::Operation op, const QNetworkRequest &request, QIODevice *outgoingData,
    QNetworkRequest::RedirectPolicy managerPolicy, std::shared_ptr<RequestGate> gate,
    QObject *parent)
    : QNetworkReply(parent)
    , m_session(std::move(session))
    , m_create(std::move(create))
    , m_original(request)
    , m_op(op)
    , m_body(outgoingData)
    , m_currentUrl(request.url())
    , m_hadBody(outgoingData != nullptr)
    , m_gate(request.attribute(QNetworkRequest::SynchronousRequestAttribute).toBool()
              ? nullptr
              : std::move(gate))
{
    setRequest(request);
    setOperation(op);
    setUrl(request.url());
    open(QIODevice::ReadOnly | QIODevice::Unbuffered);
    if (outgoingData && !outgoingData->isSequential())
        m_bodyStart = outgoingData->pos();
    const QVariant policy = request.attribute(QNetworkRequest::RedirectPolicyAttribute);
    m_redirectPolicy
        = policy.isValid() ? QNetworkRequest::RedirectPolicy(policy.toInt()) : managerPolicy;
    m_redirectsLeft = request.maximumRedirectsAllowed();
    m_transferTimeout = request.transferTimeout();
    // Only https can take the client's TLS configuration (an authorized request never leaves
    // its origin, scheme included), and plain http does not pay for the comparison.
    m_clientTls = isHttps(request.url())
        && request.sslConfiguration() == QSslConfiguration::defaultConfiguration();
    if (lcTiming().isDebugEnabled())
        m_clock.start();
    start();
}

void RetryingReply::span(const char *what, int status) const
{
    if (!m_clock.isValid())
        return;
    if (status)
        qCDebug(lcTiming).noquote() << m_currentUrl.path() << what << status << "at"
                                    << m_clock.nsecsElapsed() / 1000 << "us";
    else
        qCDebug(lcTiming).noquote()
            << m_currentUrl.path() << what << "at" << m_clock.nsecsElapsed() / 1000 << "us";
}

RetryingReply::~RetryingReply()
{
    leaveQueue();
    stopWatchingUnsent();
    dropInner(DropMode::Destroy);
}

void RetryingReply::releaseSlot()
{
    if (m_holdsSlot) {
        m_holdsSlot = false;
        m_gate->release();
    }
}

void RetryingReply::leaveQueue()
{
    if (m_queued) {
        m_queued = false;
        m_gate->remove(this);
    }
}

void RetryingReply::resume()
{
    m_queued = false;
    m_holdsSlot = true;
    if (m_done) {
        releaseSlot();
        return;
    }
    // Made in a session that has ended meanwhile (signed out, expired, replaced): it fails as
    // that session's waiting requests did, and never goes out in the next one.
    AuthError ended;
    if (m_madeInSession && m_session->endedSince(m_epoch, &ended)) {
        if (ended.isError())
            fail(ended);
        else
            send(QByteArray(), 0); // a restore found nothing: as its waiters went out
        return;
    }
    start();
}

void RetryingReply::stopWatchingUnsent()
{
    if (m_watchingUnsent) {
        m_watchingUnsent = false;
        m_session->unregisterUnsent(this);
    }
}

void RetryingReply::holdBack(quint64 generation)
{
    m_watchingUnsent = false; // the session dropped the entry when it called us
    if (m_done || !m_inner || m_requestSent || m_disposition != Disposition::Undecided
        || !m_sentToken || m_sentGeneration != generation) {
        return;
    }
    qCDebug(lcNet) << "hold back" << m_currentUrl.toDisplayString()
                   << "until the refresh: its token was refused";
    // Deleted, not aborted: its answer may already be on the way in the network thread, and an
    // abort() racing it makes Qt warn "this method must only be called once". Deleting a
    // running reply cancels it the same way, silently.
    dropInner(DropMode::Delete, SlotMode::Keep);
    // Its one replay: should the next attempt meet a 401 too, the caller sees it (invariant 5
    // counts what may have reached the server, and a withdrawn GET may have).
    m_replayed = true;
    waitForRefresh(generation, RefreshReason::Unauthorized);
}

void RetryingReply::start()
{
    const SessionCore::Snapshot snap = m_session->snapshot();
    if (!m_epochKnown) {
        m_epochKnown = true;
        m_epoch = snap.epoch;
        m_madeInSession = snap.active;
    }
    if (!snap.active || !m_session->authorizes(m_currentUrl))
        send(QByteArray(), 0);
    else if (snap.mustRefresh) {
        // After a 401 to this token, a request waits as one held back does, its one replay
        // spent (should the new token meet a 401 too, the caller sees it).
        if (snap.refused)
            m_replayed = true;
        if (m_gate)
            m_gate->warmUp(m_currentUrl);
        // A refused token asks for a refresh even after one failed (as its 401 would have):
        // the next request tries again; a merely stale one fails fast while offline.
        waitForRefresh(
            snap.generation, snap.refused ? RefreshReason::Unauthorized : RefreshReason::Freshness);
    } else {
        send(snap.authorization, snap.generation);
    }
}

bool RetryingReply::rewindBody()
{
    if (!m_body)
        return true;
    if (m_body->isSequential())
        return false;
    // As Qt's own upload path does (QNonContiguousByteDeviceIoDeviceImpl::reset): reset() when
    // the body started at 0, since some devices keep a read position of their own that only
    // reset() rewinds (QHttpMultiPart's device: seek(0) leaves it at the end, and the replay
    // then sends nothing against the full Content-Length).
    return m_bodyStart == 0 ? m_body->reset() : m_body->seek(m_bodyStart);
}

void RetryingReply::send(const QByteArray &authorization, quint64 generation)
{
    if (m_gate && !m_holdsSlot) {
        if (!m_gate->tryAcquire(m_original)) {
            // Qt's queue for the origin is full: wait here, without a token yet. The transfer
            // timeout bounds the wait, as it bounds a wait in Qt's queue.
            m_queued = true;
            m_gate->enqueue(this, m_original);
            span("waits for its turn (RequestGate)");
            if (m_transferTimeout > 0 && !m_transferTimer.isActive())
                m_transferTimer.start(m_transferTimeout, this);
            return;
        }
        m_holdsSlot = true;
    }
    m_transferTimer.stop();
    QNetworkRequest request = m_original;
    request.setUrl(m_currentUrl);
    const bool authorized = m_session->authorizes(m_currentUrl);
    m_sentToken = !authorization.isEmpty() && authorized;
    if (m_sentToken) {
        request.setRawHeader(
            ServerProfilePrivate::of(m_session->profile).authorizationHeader, authorization);
        m_sentGeneration = generation;
    } else if (authorized) {
        const auto [header, key] = m_session->apiKey();
        if (!key.isEmpty())
            request.setRawHeader(header, key);
    }
    if (m_clientTls && authorized && isHttps(m_currentUrl)) {
        const QSslConfiguration tls = m_session->sslConfiguration();
        if (!tls.isNull())
            request.setSslConfiguration(tls);
    }
    // Redirects are followed here, not by Qt, so the header never crosses to another origin.
    request.setAttribute(
        QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    if (m_attempts++ > 0 && !rewindBody()) {
        fail(AuthError(AuthError::Kind::Protocol,
            QStringLiteral("the request body cannot be sent again (the device is "
                           "sequential and was already read)")));
        return;
    }
    m_disposition = Disposition::Undecided;
    m_requestSent = false;
    m_innerErrorForwarded = false;
    m_received = 0;
    m_readFromInner = 0;
    m_inner = m_create(m_op, request, m_body);
    span(m_attempts > 1 ? "sent again" : "sent");
    if (m_ignoreAllSslErrors)
        m_inner->ignoreSslErrors();
    if (!m_ignoredSslErrors.isEmpty())
        m_inner->ignoreSslErrors(m_ignoredSslErrors);
    if (m_readBufferSize)
        m_inner->setReadBufferSize(m_readBufferSize);
    QNetworkReply *inner = m_inner;
    connect(inner, &QNetworkReply::metaDataChanged, this, &RetryingReply::onMetaData);
    // Only safe methods are withdrawn before they go out: requestSent() reaches this thread a
    // little after the bytes left, and a GET sent twice does no harm.
    if (m_sentToken && !m_body
        && (m_op == QNetworkAccessManager::GetOperation
            || m_op == QNetworkAccessManager::HeadOperation)) {
        m_watchingUnsent = true;
        m_session->registerUnsent(this, generation, [this](quint64 g) { holdBack(g); });
        connect(inner, &QNetworkReply::requestSent, this, [this] {
            const InInnerSignal inSignal;
            m_requestSent = true;
            stopWatchingUnsent();
        });
    }
    connect(inner, &QNetworkReply::readyRead, this, &RetryingReply::onInnerReadyRead);
    connect(inner, &QNetworkReply::downloadProgress, this, &RetryingReply::onInnerDownloadProgress);
    if (m_hadBody) {
        connect(inner, &QNetworkReply::uploadProgress, this, &RetryingReply::onInnerUploadProgress);
    }
    connect(inner, &QNetworkReply::finished, this, &RetryingReply::onInnerFinished);
    // Only TLS emits these; a connection costs as much as a header lookup, so plain http
    // (loopback, or allowed by the app) skips them. The manager connected its own encrypted,
    // sslErrors and preSharedKeyAuthenticationRequired to this reply (postProcess), so
    // re-emitting them here is also what makes the manager's signals name this reply.
    if (isHttps(m_currentUrl)) {
        // Qt's https reply says so from the start, before any metadata.
        setAttribute(QNetworkRequest::ConnectionEncryptedAttribute,
            inner->attribute(QNetworkRequest::ConnectionEncryptedAttribute));
        connect(inner, &QNetworkReply::encrypted, this, &QNetworkReply::encrypted);
        connect(inner, &QNetworkReply::sslErrors, this, &QNetworkReply::sslErrors);
        connect(inner, &QNetworkReply::preSharedKeyAuthenticationRequired, this,
            &QNetworkReply::preSharedKeyAuthenticationRequired);
    }
    qCDebug(lcNet) << "send" << m_currentUrl.toDisplayString()
                   << (m_sentToken ? "with bearer" : "without bearer")
                   << (m_replayed ? "(replay)" : "");
}

void RetryingReply::waitForRefresh(quint64 seenGeneration, RefreshReason reason)
{
    // Qt's transfer timeout aborts a reply that moves no bytes for that long; waiting for a
    // refresh moves none, so the caller's timeout bounds the wait too (each attempt has its own).
    if (m_transferTimeout > 0)
        m_transferTimer.start(m_transferTimeout, this);
    span("waits for the refresh");
    m_session->whenRefreshed(
        seenGeneration, reason, this, [this](const SessionCore::Outcome &outcome) {
            if (m_done)
                return;
            span(outcome.ok ? "refresh answered" : "refresh failed");
            if (outcome.ok)
                send(outcome.authorization, outcome.generation);
            else
                fail(outcome.error);
        });
    // Nothing of this reply is in Qt's queue while it waits; given back only now, so that the
    // replies the gate lets out next join this refresh rather than start one of their own.
    releaseSlot();
}

void RetryingReply::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_transferTimer.timerId()) {
        QNetworkReply::timerEvent(event);
        return;
    }
    m_transferTimer.stop();
    qCInfo(lcNet) << "request to" << m_currentUrl.toDisplayString()
                  << "timed out waiting for a refresh";
    // Ends as Qt 6.4's own reply ends when its transfer timer fires: abort(), so
    // OperationCanceledError "Operation canceled" (fidelity.transferTimeoutBoundsTheWait...).
    abort();
}

void RetryingReply::onMetaData()
{
    const InInnerSignal inSignal;
    if (!m_inner || m_disposition != Disposition::Undecided)
        return;
    m_requestSent = true; // an answer: it went out
    stopWatchingUnsent();
    const int status = m_inner->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    span("answered", status);
    // A 401 to a replay (with a token fresh from the refresh) says more about the endpoint
    // than about the token: it marks nothing refused, or every other request would pay a
    // refresh for it.
    if (status == 401 && m_sentToken && !m_replayed)
        m_session->reportRejected(m_sentGeneration);
    if (status == 401 && m_sentToken && !m_replayed) {
        if (m_body && m_body->isSequential()) {
            qCWarning(lcNet) << "401 for" << m_currentUrl.toDisplayString()
                             << "not replayed: its body device is sequential";
        } else {
            // Replayed now: the rest of this answer is neither waited for nor kept (Qt's HTTP
            // layer holds back a 401's body until it ends). Deleted, not aborted (see
            // holdBack); with it go its read of the request body and its upload progress.
            qCInfo(lcNet) << "401 for" << m_currentUrl.toDisplayString() << "- refresh and replay";
            dropInner(DropMode::Delete, SlotMode::Keep);
            m_replayed = true;
            waitForRefresh(m_sentGeneration, RefreshReason::Unauthorized);
            return;
        }
    }
    if (isRedirectStatus(status) && m_redirectPolicy != QNetworkRequest::ManualRedirectPolicy) {
        // Qt shows the redirect response's metadata before following it (or refusing to).
        m_disposition = Disposition::Redirect;
        commitMetaData();
        Q_EMIT metaDataChanged();
        return;
    }
    m_disposition = Disposition::Forward;
    commitMetaData();
    Q_EMIT metaDataChanged();
}

void RetryingReply::onInnerReadyRead()
{
    const InInnerSignal inSignal;
    if (m_disposition == Disposition::Forward) {
        Q_EMIT readyRead();
    } else if (m_inner && m_disposition == Disposition::Redirect) {
        // The body of a redirect being followed: not the caller's, dropped as it arrives.
        m_inner->skip(m_inner->bytesAvailable());
    }
}

void RetryingReply::onInnerDownloadProgress(qint64 received, qint64 total)
{
    const InInnerSignal inSignal;
    if (!m_inner)
        return;
    if (m_inner->isFinished()) {
        // Its last word (QNetworkReplyHttpImpl marks itself finished, then reports progress,
        // then finished()): an error it had is announced before it, as Qt does.
        if (m_disposition == Disposition::Undecided) {
            m_disposition = Disposition::Forward; // no answer at all (connection refused, …)
            commitMetaData();
        }
        if (m_disposition != Disposition::Forward)
            return;
        if (!m_inner->isOpen() && isOpen()) {
            // It aborted itself (its transfer timeout): Qt's reply closes as it does so.
            QNetworkReply::close();
        }
        forwardInnerError();
        if (m_done)
            return;
        m_finalProgressSent = true;
    } else if (m_disposition != Disposition::Forward) {
        return;
    }
    m_received = received;
    Q_EMIT downloadProgress(received, total);
}

void RetryingReply::onInnerUploadProgress(qint64 sent, qint64 total)
{
    const InInnerSignal inSignal;
    if (!m_inner)
        return;
    if (m_inner->isFinished()) {
        // Qt's closing uploadProgress(0, 0) of the answer the caller gets.
        if (m_disposition != Disposition::Forward)
            return;
    } else {
        // A replay uploads the body again: progress the caller has seen is not repeated, so
        // it never goes back.
        if (sent <= m_uploadHighWater)
            return;
        m_uploadHighWater = sent;
    }
    Q_EMIT uploadProgress(sent, total);
}

void RetryingReply::forwardInnerError()
{
    if (m_innerErrorForwarded || !m_inner || m_inner->error() == QNetworkReply::NoError)
        return;
    m_innerErrorForwarded = true;
    const QNetworkReply::NetworkError code = m_inner->error();
    setError(code, m_inner->errorString());
    Q_EMIT errorOccurred(code);
}

void RetryingReply::onInnerFinished()
{
    const InInnerSignal inSignal;
    if (m_done || !m_inner)
        return;
    // Its connection is free for the next request (its data stays readable here).
    if (m_holdsSlot && !m_gate->http2Seen()
        && m_inner->attribute(QNetworkRequest::Http2WasUsedAttribute).toBool())
        m_gate->sawHttp2();
    releaseSlot();
    switch (m_disposition) {
    case Disposition::Redirect:
        followRedirect();
        return;
    case Disposition::Undecided:
        m_disposition = Disposition::Forward;
        commitMetaData();
        break;
    case Disposition::Forward:
        break;
    }
    forwardInnerError();
    finishOnce();
}

void RetryingReply::followRedirect()
{
    // The checks and errors of Qt's own redirect handling, in its order
    // (QHttpNetworkConnectionPrivate::parseRedirectResponse, then
    // QNetworkReplyHttpImplPrivate::onRedirected).
    if (m_inner->error() != QNetworkReply::NoError) {
        m_disposition = Disposition::Forward;
        forwardInnerError();
        finishOnce();
        return;
    }
    const int status = m_inner->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QUrl location = m_inner->attribute(QNetworkRequest::RedirectionTargetAttribute).toUrl();
    if (!location.isValid()) {
        refuseRedirect(QNetworkReply::ProtocolUnknownError,
            QCoreApplication::translate("QHttp", "Unknown protocol specified"));
        return;
    }
    if (m_redirectsLeft <= 0) {
        refuseRedirect(QNetworkReply::TooManyRedirectsError,
            QCoreApplication::translate("QHttp", "Too many redirects"));
        return;
    }
    const QUrl target = m_currentUrl.resolved(location);
    const QString scheme = target.scheme();
    if (scheme != QLatin1String("http") && scheme != QLatin1String("https")) {
        refuseRedirect(QNetworkReply::ProtocolUnknownError,
            QCoreApplication::translate("QHttp", "Unknown protocol specified"));
        return;
    }
    if (m_redirectPolicy == QNetworkRequest::SameOriginRedirectPolicy
        && !sameOrigin(m_currentUrl, target)) {
        refuseRedirect(QNetworkReply::InsecureRedirectError,
            QCoreApplication::translate("QHttp", "Insecure redirect"));
        return;
    }
    const bool downgrade
        = m_currentUrl.scheme() == QLatin1String("https") && scheme == QLatin1String("http");
    m_currentUrl = target;
    setUrl(target);
    if (downgrade && m_redirectPolicy == QNetworkRequest::NoLessSafeRedirectPolicy) {
        refuseRedirect(QNetworkReply::InsecureRedirectError,
            QCoreApplication::translate("QHttp", "Insecure redirect"));
        return;
    }
    --m_redirectsLeft;
    // As Qt does: 307 and 308 keep the method and body; anything else continues as a GET
    // without a body (HEAD stays HEAD).
    if (status != 307 && status != 308 && m_op != QNetworkAccessManager::HeadOperation
        && m_op != QNetworkAccessManager::GetOperation) {
        m_op = QNetworkAccessManager::GetOperation;
        m_body = nullptr;
        m_original.setHeader(QNetworkRequest::ContentTypeHeader, QVariant());
        m_original.setHeader(QNetworkRequest::ContentLengthHeader, QVariant());
        m_original.setAttribute(QNetworkRequest::CustomVerbAttribute, QVariant());
        setOperation(m_op);
    }
    qCDebug(lcNet) << "redirect to" << target.toDisplayString();
    dropInner();
    if (m_redirectPolicy == QNetworkRequest::UserVerifiedRedirectPolicy) {
        // The next hop waits for the application's redirectAllowed() (or its abort()).
        m_awaitingRedirectAllowed = true;
        if (!m_watchingRedirectAllowed) {
            m_watchingRedirectAllowed = true;
            connect(this, &QNetworkReply::redirectAllowed, this, &RetryingReply::onRedirectAllowed);
        }
        Q_EMIT redirected(target);
        return;
    }
    clearHeaders(); // Qt drops the redirect response's headers as it follows it
    Q_EMIT redirected(target);
    if (m_done)
        return; // aborted in a slot: no next hop
    start();
}

void RetryingReply::onRedirectAllowed()
{
    if (!m_awaitingRedirectAllowed || m_done)
        return;
    m_awaitingRedirectAllowed = false;
    clearHeaders();
    start();
}

void RetryingReply::refuseRedirect(QNetworkReply::NetworkError code, const QString &message)
{
    dropInner();
    setError(code, message);
    Q_EMIT errorOccurred(code);
    finishOnce();
}

void RetryingReply::commitMetaData()
{
    if (!m_inner)
        return;
    // Qt's own attributes are numbered densely from 0 (Qt 6.4 ends at 27) and nothing lives
    // between them and User (1000): asking for each of the 1,000 slots cost about 75,000
    // instructions a request (callgrind), more than the rest of the proxy together.
    // Asking for the 36 slots Qt 6.4 leaves empty below 64 cost ≈ 2.5 k more.
    const int count = qtAttributeCount();
    for (int a = 0; a < count; ++a) {
        const auto attribute = QNetworkRequest::Attribute(a);
        // Qt tells the target only when it leaves redirects to the caller.
        if (attribute == QNetworkRequest::RedirectionTargetAttribute
            && m_redirectPolicy != QNetworkRequest::ManualRedirectPolicy) {
            continue;
        }
        const QVariant value = m_inner->attribute(attribute);
        if (value.isValid())
            setAttribute(attribute, value);
    }
    for (const RawHeaderPair &header : m_inner->rawHeaderPairs())
        setRawHeader(header.first, header.second);
    setUrl(m_inner->url());
}

void RetryingReply::clearHeaders()
{
    // A null value removes a header (raw and known alike).
    const QList<QByteArray> names = rawHeaderList();
    for (const QByteArray &name : names)
        setRawHeader(name, QByteArray());
}

void RetryingReply::fail(const AuthError &error)
{
    if (m_done)
        return;
    qCInfo(lcNet) << "request to" << m_currentUrl.toDisplayString()
                  << "failed:" << error.toString();
    setProperty(authErrorProperty, QVariant::fromValue(error));
    const QNetworkReply::NetworkError code = networkErrorFor(error);
    setError(code, error.message());
    Q_EMIT errorOccurred(code);
    finishOnce();
}

void RetryingReply::finishOnce()
{
    if (m_done)
        return;
    span("finished");
    m_done = true;
    m_transferTimer.stop();
    leaveQueue();
    releaseSlot();
    setFinished(true);
    // What QNetworkReplyHttpImplPrivate::finished() says last, unless the forwarded attempt
    // already said it.
    if (!m_finalProgressSent) {
        m_finalProgressSent = true;
        const QVariant length = header(QNetworkRequest::ContentLengthHeader);
        const qint64 total = length.isValid() ? length.toLongLong() : -1;
        Q_EMIT downloadProgress(m_received, total == -1 ? m_received : total);
        if (m_body)
            Q_EMIT uploadProgress(0, 0);
    }
    Q_EMIT readChannelFinished();
    Q_EMIT finished();
}

void RetryingReply::dropInner(DropMode mode, SlotMode slot)
{
    stopWatchingUnsent();
    if (slot == SlotMode::Release)
        releaseSlot();
    if (!m_inner)
        return;
    QNetworkReply *inner = m_inner;
    m_inner = nullptr;
    if (mode == DropMode::Destroy && inner->isFinished() && innerSignalDepth == 0 && m_gate
        && !m_gate->isClosed()) {
        // It says nothing more, and no signal of it (of any inner reply) is being delivered
        // in this thread, so none of its code is on the stack: deleted at once, its
        // connections with it, rather than disconnected and posted for deletion (≈ 3 k
        // instructions a GET, callgrind). Not while the manager is being destroyed:
        // ~QNetworkAccessManager deletes every reply child from a list it took before, this
        // one included. (No gate: a synchronous request; nothing tells, so deleteLater.)
        delete inner;
        return;
    }
    inner->disconnect(this);
    if (mode != DropMode::Delete && !inner->isFinished())
        inner->abort();
    inner->deleteLater();
}

void RetryingReply::abort()
{
    if (m_done)
        return;
    if (m_inner && m_disposition == Disposition::Forward)
        m_received = qMax(m_received, m_readFromInner + m_inner->bytesAvailable());
    // In QNetworkReplyHttpImpl::abort()'s order: the device closes (aboutToClose), the error,
    // then the end.
    QNetworkReply::close();
    dropInner();
    // Qt keeps the first error of a reply: abort() in an errorOccurred slot changes nothing.
    if (error() == QNetworkReply::NoError) {
        const QNetworkReply::NetworkError code = QNetworkReply::OperationCanceledError;
        setError(code, QCoreApplication::translate("QNetworkReply", "Operation canceled"));
        Q_EMIT errorOccurred(code);
    }
    finishOnce();
}

void RetryingReply::close()
{
    // QNetworkReplyHttpImpl::close(): a finished reply stays open and readable.
    if (!m_done)
        abort();
}

qint64 RetryingReply::bytesAvailable() const
{
    qint64 available = QNetworkReply::bytesAvailable();
    if (m_inner && m_disposition == Disposition::Forward)
        available += m_inner->bytesAvailable();
    return available;
}

qint64 RetryingReply::readData(char *data, qint64 maxSize)
{
    if (!m_inner || m_disposition != Disposition::Forward)
        return m_done ? -1 : 0;
    const qint64 n = m_inner->read(data, maxSize);
    if (n > 0)
        m_readFromInner += n;
    if (n == 0 && m_done)
        return -1;
    return n;
}

void RetryingReply::setReadBufferSize(qint64 size)
{
    m_readBufferSize = size;
    QNetworkReply::setReadBufferSize(size);
    if (m_inner)
        m_inner->setReadBufferSize(size);
}

void RetryingReply::ignoreSslErrors()
{
    // A virtual of its own in QNetworkReply, not a call of ignoreSslErrorsImplementation():
    // without this override it did nothing. The application's decision, for the attempt in
    // flight and every later one (replay, redirect hops), as Qt keeps it for the reply.
    m_ignoreAllSslErrors = true;
    if (m_inner)
        m_inner->ignoreSslErrors();
}

void RetryingReply::ignoreSslErrorsImplementation(const QList<QSslError> &errors)
{
    // Only the errors the application named, on the attempt in flight and on later ones.
    m_ignoredSslErrors = errors;
    if (m_inner)
        m_inner->ignoreSslErrors(errors);
}

void RetryingReply::sslConfigurationImplementation(QSslConfiguration &configuration) const
{
    if (m_inner)
        configuration = m_inner->sslConfiguration();
}

void RetryingReply::setSslConfigurationImplementation(const QSslConfiguration &configuration)
{
    m_clientTls = false; // the application's own, from now on
    m_original.setSslConfiguration(configuration);
    if (m_inner)
        m_inner->setSslConfiguration(configuration);
}

} // namespace Latchkey
