#include "retryingreply_p.h"

#include "logging_p.h"

#include <QSslConfiguration>

namespace Latchkey {

namespace {

// Beyond the last attribute Qt defines today (Http2CleartextAllowedAttribute = 27 in 6.4),
// with room for those later versions add.
constexpr int lastQtAttribute = 64;
static_assert(QNetworkRequest::Http2CleartextAllowedAttribute < lastQtAttribute);

bool isHttps(const QUrl &url)
{
    return url.scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0;
}

bool isRedirectStatus(int status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
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
    QNetworkRequest::RedirectPolicy managerPolicy, QObject *parent)
    : QNetworkReply(parent)
    , m_session(std::move(session))
    , m_create(std::move(create))
    , m_original(request)
    , m_op(op)
    , m_body(outgoingData)
    , m_currentUrl(request.url())
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
    // Cheap: a request without a configuration of its own shares the default's data.
    m_clientTls = request.sslConfiguration() == QSslConfiguration::defaultConfiguration();
    start();
}

RetryingReply::~RetryingReply()
{
    stopWatchingUnsent();
    dropInner();
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
    dropInner(DropMode::Delete);
    // Its one replay: should the next attempt meet a 401 too, the caller sees it (invariant 5
    // counts what may have reached the server, and a withdrawn GET may have).
    m_replayed = true;
    waitForRefresh(generation, RefreshReason::Unauthorized);
}

void RetryingReply::start()
{
    const SessionCore::Snapshot snap = m_session->snapshot();
    if (!snap.active || !m_session->authorizes(m_currentUrl))
        send(QByteArray(), 0);
    else if (snap.mustRefresh)
        waitForRefresh(snap.generation, RefreshReason::Freshness);
    else
        send(snap.accessToken, snap.generation);
}

bool RetryingReply::rewindBody()
{
    if (!m_body)
        return true;
    if (m_body->isSequential())
        return false;
    return m_body->seek(m_bodyStart);
}

void RetryingReply::send(const QByteArray &accessToken, quint64 generation)
{
    QNetworkRequest request = m_original;
    request.setUrl(m_currentUrl);
    const bool authorized = m_session->authorizes(m_currentUrl);
    m_sentToken = !accessToken.isEmpty() && authorized;
    if (m_sentToken) {
        request.setRawHeader(m_session->profile.authorizationHeader(),
            m_session->profile.authorizationScheme() + ' ' + accessToken);
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
    m_inner = m_create(m_op, request, m_body);
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
            m_requestSent = true;
            stopWatchingUnsent();
        });
    }
    connect(inner, &QNetworkReply::readyRead, this, [this] {
        if (m_disposition == Disposition::Forward)
            Q_EMIT readyRead();
    });
    connect(inner, &QNetworkReply::downloadProgress, this, [this](qint64 received, qint64 total) {
        if (m_disposition == Disposition::Forward)
            Q_EMIT downloadProgress(received, total);
    });
    connect(inner, &QNetworkReply::uploadProgress, this, &QNetworkReply::uploadProgress);
    connect(inner, &QNetworkReply::finished, this, &RetryingReply::onInnerFinished);
    // Only TLS emits these; a connection costs as much as a header lookup, so plain http
    // (loopback, or allowed by the app) skips them.
    if (isHttps(m_currentUrl)) {
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
    m_session->whenRefreshed(
        seenGeneration, reason, this, [this](const SessionCore::Outcome &outcome) {
            if (m_done)
                return;
            if (outcome.ok)
                send(outcome.accessToken, outcome.generation);
            else
                fail(outcome.error);
        });
}

void RetryingReply::onMetaData()
{
    if (!m_inner || m_disposition != Disposition::Undecided)
        return;
    m_requestSent = true; // an answer: it went out
    stopWatchingUnsent();
    const int status = m_inner->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status == 401 && m_sentToken)
        m_session->reportRejected(m_sentGeneration);
    if (status == 401 && m_sentToken && !m_replayed) {
        if (m_body && m_body->isSequential()) {
            qCWarning(lcNet) << "401 for" << m_currentUrl.toDisplayString()
                             << "not replayed: its body device is sequential";
        } else {
            m_disposition = Disposition::Retry; // wait for the end of this answer, then refresh
            return;
        }
    }
    if (isRedirectStatus(status) && m_redirectPolicy != QNetworkRequest::ManualRedirectPolicy
        && m_inner->attribute(QNetworkRequest::RedirectionTargetAttribute).isValid()) {
        m_disposition = Disposition::Redirect;
        return;
    }
    m_disposition = Disposition::Forward;
    commitMetaData();
    Q_EMIT metaDataChanged();
}

void RetryingReply::onInnerFinished()
{
    if (m_done || !m_inner)
        return;
    switch (m_disposition) {
    case Disposition::Retry:
        qCInfo(lcNet) << "401 for" << m_currentUrl.toDisplayString() << "- refresh and replay";
        dropInner();
        m_replayed = true;
        waitForRefresh(m_sentGeneration, RefreshReason::Unauthorized);
        return;
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
    if (m_inner->error() != QNetworkReply::NoError) {
        setError(m_inner->error(), m_inner->errorString());
        Q_EMIT errorOccurred(m_inner->error());
    }
    finishOnce();
}

void RetryingReply::followRedirect()
{
    const int status = m_inner->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QUrl target = m_currentUrl.resolved(
        m_inner->attribute(QNetworkRequest::RedirectionTargetAttribute).toUrl());
    if (m_redirectsLeft <= 0) {
        commitMetaData();
        dropInner();
        setError(QNetworkReply::TooManyRedirectsError, QStringLiteral("Too many redirects"));
        Q_EMIT errorOccurred(QNetworkReply::TooManyRedirectsError);
        finishOnce();
        return;
    }
    const bool downgrade = m_currentUrl.scheme() == QLatin1String("https")
        && target.scheme() != QLatin1String("https");
    const bool crossOrigin = !(target.scheme() == m_currentUrl.scheme()
        && target.host() == m_currentUrl.host() && target.port() == m_currentUrl.port());
    const bool unsupported
        = target.scheme() != QLatin1String("http") && target.scheme() != QLatin1String("https");
    if (unsupported || (downgrade && m_redirectPolicy != QNetworkRequest::ManualRedirectPolicy)
        || (crossOrigin && m_redirectPolicy == QNetworkRequest::SameOriginRedirectPolicy)) {
        commitMetaData();
        dropInner();
        setError(QNetworkReply::InsecureRedirectError,
            QStringLiteral("Redirect to %1 refused").arg(target.toDisplayString()));
        Q_EMIT errorOccurred(QNetworkReply::InsecureRedirectError);
        finishOnce();
        return;
    }
    --m_redirectsLeft;
    // As browsers and Qt do: 303, and 301/302 after a POST, continue as a GET without a body.
    if (status == 303
        || ((status == 301 || status == 302) && m_op == QNetworkAccessManager::PostOperation)) {
        if (m_op != QNetworkAccessManager::HeadOperation) {
            m_op = QNetworkAccessManager::GetOperation;
            m_body = nullptr;
            m_original.setHeader(QNetworkRequest::ContentTypeHeader, QVariant());
            m_original.setHeader(QNetworkRequest::ContentLengthHeader, QVariant());
            m_original.setAttribute(QNetworkRequest::CustomVerbAttribute, QVariant());
            setOperation(m_op);
        }
    }
    qCDebug(lcNet) << "redirect" << m_currentUrl.toDisplayString() << "->"
                   << target.toDisplayString();
    dropInner();
    m_currentUrl = target;
    setUrl(target);
    Q_EMIT redirected(target);
    start();
}

void RetryingReply::commitMetaData()
{
    if (!m_inner)
        return;
    // Qt's own attributes are numbered densely from 0 (Qt 6.4 ends at 27) and nothing lives
    // between them and User (1000): asking for each of the 1,000 slots cost about 75,000
    // instructions a request (callgrind), more than the rest of the proxy together.
    for (int a = 0; a < lastQtAttribute; ++a) {
        const auto attribute = QNetworkRequest::Attribute(a);
        const QVariant value = m_inner->attribute(attribute);
        if (value.isValid())
            setAttribute(attribute, value);
    }
    for (const RawHeaderPair &header : m_inner->rawHeaderPairs())
        setRawHeader(header.first, header.second);
    setUrl(m_inner->url());
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
    m_done = true;
    setFinished(true);
    Q_EMIT finished();
}

void RetryingReply::dropInner(DropMode mode)
{
    stopWatchingUnsent();
    if (!m_inner)
        return;
    QNetworkReply *inner = m_inner;
    m_inner = nullptr;
    inner->disconnect(this);
    if (mode == DropMode::Abort && !inner->isFinished())
        inner->abort();
    inner->deleteLater();
}

void RetryingReply::abort()
{
    if (m_done)
        return;
    dropInner();
    setError(QNetworkReply::OperationCanceledError, QStringLiteral("Operation canceled"));
    Q_EMIT errorOccurred(QNetworkReply::OperationCanceledError);
    finishOnce();
}

void RetryingReply::close()
{
    if (!m_done)
        abort();
    QNetworkReply::close();
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
