#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/memorytokenstore.h>

#include "scriptedserver.h"
#include "testhelpers.h"

#include <QHttpMultiPart>
#include <QNetworkProxy>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTemporaryFile>
#include <QtTest>

#include <memory>
#include <vector>

using namespace Latchkey;
using namespace LatchkeyTest;

// An AuthorizedNetworkAccessManager's reply must be indistinguishable from Qt's own: each
// scenario runs once through a plain QNetworkAccessManager and once through an
// AuthorizedNetworkAccessManager holding a fresh token, and the two recordings must agree. The
// named tests below pin the defects that once made them differ, and the replay paths (401,
// refresh, replay) a plain manager never takes.

namespace {

const QByteArray smallBody = R"({"hello":"world"})";
const QByteArray multipartBoundary = "latchkey-fidelity-boundary";

QHttpServerResponse redirect(int status, const QByteArray &location)
{
    QHttpServerResponse response { QHttpServerResponse::StatusCode(status) };
    if (!location.isNull())
        response.setHeader(QByteArrayLiteral("Location"), location);
    return response;
}

QByteArray randomBytes(int size)
{
    QByteArray bytes(size, Qt::Uninitialized);
    for (char &c : bytes)
        c = char(QRandomGenerator::global()->bounded(256));
    return bytes;
}

QHttpMultiPart *makeMultipart(QObject *parent)
{
    auto *multiPart = new QHttpMultiPart(QHttpMultiPart::FormDataType, parent);
    multiPart->setBoundary(multipartBoundary); // the same bytes in every run
    QHttpPart text;
    text.setHeader(
        QNetworkRequest::ContentDispositionHeader, QByteArrayLiteral("form-data; name=\"note\""));
    text.setBody(QByteArrayLiteral("a note"));
    multiPart->append(text);
    QHttpPart data;
    data.setHeader(QNetworkRequest::ContentDispositionHeader,
        QByteArrayLiteral("form-data; name=\"file\"; filename=\"data.bin\""));
    data.setHeader(
        QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/octet-stream"));
    QByteArray payload(200 * 1024, Qt::Uninitialized);
    for (int i = 0; i < payload.size(); ++i)
        payload[i] = char(i * 7);
    data.setBody(payload);
    multiPart->append(data);
    return multiPart;
}

// One API origin of the tests: its login and refresh endpoints and what it accepts.
struct Origin
{
    enum class RefreshMode { Answer, Hold, Never };

    ScriptedServer server;
    QByteArray accepted = "A"; // the access token /api/guarded accepts
    RefreshMode refreshMode = RefreshMode::Answer;
    std::vector<std::unique_ptr<QHttpServerResponder>> heldRefreshes;
    int tokens = 0;

    void answerRefresh(QHttpServerResponder &responder)
    {
        accepted = "T" + QByteArray::number(++tokens);
        responder.write(
            R"({"access_token":")" + accepted + R"(","refresh_token":"R","expires_in":3600})",
            QByteArrayLiteral("application/json"));
    }
    void releaseRefreshes()
    {
        auto held = std::move(heldRefreshes);
        for (auto &responder : held)
            answerRefresh(*responder);
    }
    void reset()
    {
        server.forgetSeen();
        accepted = "A";
        refreshMode = RefreshMode::Answer;
        heldRefreshes.clear();
    }
};

struct Scenario
{
    QString path; // on the API server
    QByteArray verb = "GET";
    enum class Body { None, Bytes, BigBytes, Multipart } body = Body::None;
    int requestPolicy = -1; // RedirectPolicyAttribute on the request; -1: not set
    int managerPolicy = -1; // QNetworkAccessManager::setRedirectPolicy; -1: not called
    int maxRedirects = -1;
    int requestTimeout = 0; // QNetworkRequest::setTransferTimeout
    int managerTimeout = 0; // QNetworkAccessManager::setTransferTimeout
    bool managerAutoDelete = false;
    int requestAutoDelete = -1; // AutoDeleteReplyOnFinishAttribute; -1: not set
    QString abortIn; // the signal whose first emission makes the slot call abort()
    bool closeInstead = false; // ... or close()
    bool allowRedirect = false; // UserVerified: redirectAllowed() from the redirected slot
    enum class Ignore { None, All, List } ignore = Ignore::None;
    bool tls = false;
    bool untrusted = false; // TLS: the request's configuration does not trust the server
    bool progressIsTimed = false; // the closing progress depends on when the abort came
};

Scenario scenario(
    const QString &path, const QByteArray &verb = "GET", Scenario::Body body = Scenario::Body::None)
{
    Scenario s;
    s.path = path;
    s.verb = verb;
    s.body = body;
    return s;
}

// What the caller could observe of one reply.
struct Trace
{
    QStringList events;
    int readyReads = 0;
    std::pair<qint64, qint64> lastDownload { -1, -1 };
    std::pair<qint64, qint64> lastUpload { -1, -1 };
    qint64 maxUpload = -1;
    // at finished()
    bool finished = false;
    QNetworkReply::NetworkError error = QNetworkReply::NoError;
    QString errorString;
    QMap<int, QVariant> attributes;
    QList<QNetworkReply::RawHeaderPair> headers;
    QByteArray body;
    QUrl url;
    int operation = 0;
    bool open = false;
    bool running = false;
    QVariant requestAutoDelete;
    QVariant requestPolicy;
    int requestTimeout = 0;
    bool deleted = false;
    QString className;
};

// Up to finished (Qt 6.4 may still emit downloadProgress after finished when aborted in
// readyRead); progress is compared as Qt's last word only (the closing downloadProgress/
// uploadProgress after the last metaDataChanged/readyRead), and runs of readyRead or of one
// progress signal as one: how many arrive while the bytes flow depends on how the kernel cut
// them and on Qt's progress throttle.
QStringList normalized(QStringList events)
{
    const qsizetype end = events.indexOf(QLatin1String("finished"));
    if (end >= 0)
        events.resize(end + 1);
    qsizetype lastData = -1;
    for (qsizetype i = 0; i < events.size(); ++i) {
        if (events[i] == QLatin1String("metaDataChanged")
            || events[i] == QLatin1String("readyRead")) {
            lastData = i;
        }
    }
    QStringList out;
    for (qsizetype i = 0; i < events.size(); ++i) {
        const QString &e = events[i];
        const bool progress
            = e == QLatin1String("downloadProgress") || e == QLatin1String("uploadProgress");
        if (progress && i < lastData)
            continue;
        if ((progress || e == QLatin1String("readyRead")) && !out.isEmpty() && out.last() == e)
            continue;
        out << e;
    }
    return out;
}

void configure(QNetworkAccessManager *nam, const Scenario &s)
{
    if (s.managerPolicy >= 0)
        nam->setRedirectPolicy(QNetworkRequest::RedirectPolicy(s.managerPolicy));
    if (s.managerTimeout)
        nam->setTransferTimeout(s.managerTimeout);
    nam->setAutoDeleteReplies(s.managerAutoDelete);
}

} // namespace

Q_DECLARE_METATYPE(Scenario)

class TestFidelity : public QObject
{
    Q_OBJECT

    Origin m_api;
    Origin m_tls;
    ScriptedServer m_other; // another origin
    std::unique_ptr<AuthClient> m_client;
    std::unique_ptr<AuthClient> m_tlsClient;
    QTemporaryDir m_dir;
    QSslCertificate m_certificate;
    QSslConfiguration m_untrusting; // the system's trust only: the test server is a stranger
    bool m_tlsReady = false;
    QByteArray m_bigBody;

    void addRoutes(Origin &origin)
    {
        ScriptedServer &s = origin.server;
        s.on(QStringLiteral("/api/auth/login"), [](const QHttpServerRequest &) {
            return ScriptedServer::json(
                R"({"access_token":"A","refresh_token":"R","expires_in":3600})");
        });
        s.onDeferred(QStringLiteral("/api/auth/refresh"),
            [&origin](const QHttpServerRequest &, QHttpServerResponder &&responder) {
                if (origin.refreshMode == Origin::RefreshMode::Answer)
                    origin.answerRefresh(responder);
                else
                    origin.heldRefreshes.push_back(
                        std::make_unique<QHttpServerResponder>(std::move(responder)));
            });
        s.on(QStringLiteral("/api/small"), [](const QHttpServerRequest &) {
            QHttpServerResponse response = ScriptedServer::json(smallBody);
            response.setHeader(QByteArrayLiteral("X-Fidelity"), QByteArrayLiteral("1"));
            return response;
        });
        s.on(QStringLiteral("/api/ping"),
            [](const QHttpServerRequest &) { return ScriptedServer::json("{}"); });
        s.on(QStringLiteral("/api/big"), [this](const QHttpServerRequest &) {
            return QHttpServerResponse(QByteArrayLiteral("application/octet-stream"), m_bigBody);
        });
        s.on(QStringLiteral("/api/missing"), [](const QHttpServerRequest &) {
            return QHttpServerResponse(QByteArrayLiteral("text/plain"),
                QByteArrayLiteral("no such thing"), QHttpServerResponse::StatusCode::NotFound);
        });
        s.on(QStringLiteral("/api/echo"), [](const QHttpServerRequest &request) {
            return QHttpServerResponse(
                QByteArrayLiteral("application/octet-stream"), request.body());
        });
        s.onDeferred(QStringLiteral("/api/never"),
            [this](const QHttpServerRequest &, QHttpServerResponder &&responder) {
                m_neverAnswered.push_back(
                    std::make_unique<QHttpServerResponder>(std::move(responder)));
            });
        const QByteArray base = s.baseUrl().toEncoded();
        const QByteArray other = m_other.url(QStringLiteral("/landing")).toEncoded();
        s.on(QStringLiteral("/api/found-same"),
            [base](const QHttpServerRequest &) { return redirect(302, base + "/api/small"); });
        s.on(QStringLiteral("/api/found-relative"),
            [](const QHttpServerRequest &) { return redirect(302, "/api/small"); });
        s.on(QStringLiteral("/api/found-other"),
            [other](const QHttpServerRequest &) { return redirect(302, other); });
        s.on(QStringLiteral("/api/see-other"),
            [base](const QHttpServerRequest &) { return redirect(303, base + "/api/small"); });
        s.on(QStringLiteral("/api/temporary"),
            [base](const QHttpServerRequest &) { return redirect(307, base + "/api/echo"); });
        s.on(QStringLiteral("/api/nowhere"),
            [](const QHttpServerRequest &) { return redirect(302, QByteArray()); });
        s.on(QStringLiteral("/api/to-ftp"),
            [](const QHttpServerRequest &) { return redirect(302, "ftp://127.0.0.1/file"); });
        s.on(QStringLiteral("/api/loop"),
            [](const QHttpServerRequest &) { return redirect(302, "/api/loop"); });
        const QByteArray plain = m_other.url(QStringLiteral("/landing")).toEncoded();
        s.on(QStringLiteral("/api/downgrade"),
            [plain](const QHttpServerRequest &) { return redirect(302, plain); });
        // 401 unless the token is the one the origin accepts now; echoes the body otherwise.
        s.on(QStringLiteral("/api/guarded"), [&origin](const QHttpServerRequest &request) {
            if (request.value(QByteArrayLiteral("Authorization")) != "Bearer " + origin.accepted)
                return ScriptedServer::json(R"({"message":"token expired"})", 401);
            return QHttpServerResponse(
                QByteArrayLiteral("application/octet-stream"), request.body());
        });
        // The same, closing the connection after a 401: the replay needs a new one.
        s.on(QStringLiteral("/api/guarded-close"), [&origin](const QHttpServerRequest &r) {
            if (r.value(QByteArrayLiteral("Authorization")) != "Bearer " + origin.accepted) {
                QHttpServerResponse response
                    = ScriptedServer::json(R"({"message":"token expired"})", 401);
                response.setHeader(QByteArrayLiteral("Connection"), QByteArrayLiteral("close"));
                return response;
            }
            return ScriptedServer::json(smallBody);
        });
    }

    std::vector<std::unique_ptr<QHttpServerResponder>> m_neverAnswered;

    std::unique_ptr<AuthClient> signedInClient(Origin &origin)
    {
        auto client = std::make_unique<AuthClient>(
            ServerProfile::builtin(QStringLiteral("latchkey")), origin.server.baseUrl());
        client->setTokenStore(new MemoryTokenStore);
        const AuthError error = await(client->signIn(guest, guestPassword));
        if (error.isError()) {
            qWarning() << error.toString();
            return nullptr;
        }
        return client;
    }

    // Sends \a s through \a nam and records what the caller sees until finished (and, for an
    // auto-deleted reply, until it is gone).
    Trace run(QNetworkAccessManager *nam, const Scenario &s)
    {
        Trace trace;
        const Origin &origin = s.tls ? m_tls : m_api;
        QNetworkRequest request(origin.server.url(s.path));
        if (s.requestPolicy >= 0)
            request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, s.requestPolicy);
        if (s.maxRedirects >= 0)
            request.setMaximumRedirectsAllowed(s.maxRedirects);
        if (s.requestTimeout)
            request.setTransferTimeout(s.requestTimeout);
        if (s.requestAutoDelete >= 0) {
            request.setAttribute(
                QNetworkRequest::AutoDeleteReplyOnFinishAttribute, bool(s.requestAutoDelete));
        }
        if (s.untrusted)
            request.setSslConfiguration(m_untrusting);
        if (s.body != Scenario::Body::None && s.body != Scenario::Body::Multipart) {
            request.setHeader(
                QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/octet-stream"));
        }

        QNetworkReply *reply = nullptr;
        QHttpMultiPart *multiPart = nullptr;
        const QByteArray bytes = s.body == Scenario::Body::BigBytes
            ? QByteArray(4 * 1024 * 1024, 'b')
            : QByteArray(64 * 1024, 'x');
        if (s.body == Scenario::Body::Multipart) {
            multiPart = makeMultipart(nullptr);
            reply = s.verb == "PUT" ? nam->put(request, multiPart) : nam->post(request, multiPart);
            multiPart->setParent(reply);
        } else if (s.body != Scenario::Body::None) {
            reply = s.verb == "PUT" ? nam->put(request, bytes) : nam->post(request, bytes);
        } else {
            reply = nam->get(request);
        }
        trace.className = QString::fromLatin1(reply->metaObject()->className());
        QPointer<QNetworkReply> alive(reply);
        QObject guard;
        bool aborted = false;
        auto event = [&](const QString &name) {
            trace.events << name;
            if (!aborted && s.abortIn == name) {
                aborted = true;
                if (s.closeInstead)
                    reply->close();
                else
                    reply->abort();
            }
        };
        auto snapshot = [&] {
            trace.finished = true;
            trace.error = reply->error();
            trace.errorString = reply->errorString();
            for (int a = 0; a <= QNetworkRequest::Http2CleartextAllowedAttribute; ++a) {
                const QVariant value = reply->attribute(QNetworkRequest::Attribute(a));
                if (value.isValid())
                    trace.attributes.insert(a, value);
            }
            for (const auto &header : reply->rawHeaderPairs()) {
                if (header.first.compare("Date", Qt::CaseInsensitive) != 0)
                    trace.headers << header;
            }
            if (reply->isOpen())
                trace.body += reply->readAll();
            trace.url = reply->url();
            trace.operation = reply->operation();
            trace.open = reply->isOpen();
            trace.running = reply->isRunning();
            trace.requestAutoDelete
                = reply->request().attribute(QNetworkRequest::AutoDeleteReplyOnFinishAttribute);
            trace.requestPolicy
                = reply->request().attribute(QNetworkRequest::RedirectPolicyAttribute);
            trace.requestTimeout = reply->request().transferTimeout();
        };
        connect(reply, &QNetworkReply::metaDataChanged, &guard,
            [&] { event(QStringLiteral("metaDataChanged")); });
        connect(reply, &QNetworkReply::readyRead, &guard, [&] {
            ++trace.readyReads;
            event(QStringLiteral("readyRead"));
            if (reply->isOpen())
                trace.body += reply->readAll();
        });
        connect(reply, &QNetworkReply::downloadProgress, &guard, [&](qint64 r, qint64 t) {
            trace.lastDownload = { r, t };
            event(QStringLiteral("downloadProgress"));
        });
        connect(reply, &QNetworkReply::uploadProgress, &guard, [&](qint64 sent, qint64 t) {
            trace.lastUpload = { sent, t };
            trace.maxUpload = qMax(trace.maxUpload, sent);
            event(QStringLiteral("uploadProgress"));
        });
        connect(reply, &QNetworkReply::redirected, &guard, [&](const QUrl &url) {
            event(QStringLiteral("redirected ") + url.path());
            if (s.allowRedirect)
                Q_EMIT reply->redirectAllowed();
        });
        connect(reply, &QNetworkReply::errorOccurred, &guard, [&](QNetworkReply::NetworkError e) {
            event(QStringLiteral("errorOccurred ") + QString::number(e));
        });
        connect(reply, &QNetworkReply::sslErrors, &guard, [&](const QList<QSslError> &errors) {
            event(QStringLiteral("sslErrors ") + QString::number(errors.size()));
            if (s.ignore == Scenario::Ignore::All)
                reply->ignoreSslErrors();
            else if (s.ignore == Scenario::Ignore::List)
                reply->ignoreSslErrors(errors);
        });
        connect(
            reply, &QNetworkReply::encrypted, &guard, [&] { event(QStringLiteral("encrypted")); });
        connect(reply, &QIODevice::aboutToClose, &guard,
            [&] { event(QStringLiteral("aboutToClose")); });
        connect(reply, &QNetworkReply::readChannelFinished, &guard,
            [&] { event(QStringLiteral("readChannelFinished")); });
        connect(reply, &QNetworkReply::finished, &guard, [&] {
            snapshot();
            event(QStringLiteral("finished"));
        });
        // The manager's own signals must name the reply the caller holds.
        connect(nam, &QNetworkAccessManager::finished, &guard, [&](QNetworkReply *r) {
            trace.events << (r == alive ? QStringLiteral("manager finished")
                                        : QStringLiteral("manager finished (another reply)"));
        });
        connect(nam, &QNetworkAccessManager::encrypted, &guard, [&](QNetworkReply *r) {
            trace.events << (r == alive ? QStringLiteral("manager encrypted")
                                        : QStringLiteral("manager encrypted (another reply)"));
        });
        connect(nam, &QNetworkAccessManager::sslErrors, &guard,
            [&](QNetworkReply *r, const QList<QSslError> &) {
                trace.events << (r == alive ? QStringLiteral("manager sslErrors")
                                            : QStringLiteral("manager sslErrors (another)"));
            });

        if (!reply->isFinished())
            (void)QTest::qWaitFor([&] { return trace.finished; }, 20000);
        QCoreApplication::processEvents(); // what a finished reply still says at once
        if (s.managerAutoDelete || s.requestAutoDelete == 1) {
            trace.deleted = QTest::qWaitFor([&] { return alive.isNull(); }, 5000);
        } else {
            trace.deleted = alive.isNull();
            delete alive.data();
        }
        return trace;
    }

    void compare(const Trace &qt, const Trace &ours, const Scenario &s)
    {
        QVERIFY2(qt.finished, "Qt's own reply did not finish");
        QVERIFY2(ours.finished, "the authorized reply did not finish");
        QCOMPARE(ours.className, QStringLiteral("Latchkey::RetryingReply"));
        if (normalized(ours.events) != normalized(qt.events)) {
            qWarning().noquote() << "Qt:  " << qt.events.join(QLatin1String(", "));
            qWarning().noquote() << "ours:" << ours.events.join(QLatin1String(", "));
        }
        QCOMPARE(normalized(ours.events), normalized(qt.events));
        QCOMPARE(ours.events.last(), QStringLiteral("finished")); // nothing after it
        QCOMPARE(ours.error, qt.error);
        QCOMPARE(ours.errorString, qt.errorString);
        // The zero-copy download buffer is the attempt's own memory: equal in kind, not in
        // address.
        QCOMPARE(ours.attributes.keys(), qt.attributes.keys());
        for (auto it = qt.attributes.cbegin(); it != qt.attributes.cend(); ++it) {
            if (it.key() != QNetworkRequest::DownloadBufferAttribute)
                QCOMPARE(ours.attributes.value(it.key()), it.value());
        }
        QCOMPARE(ours.headers, qt.headers);
        if (s.progressIsTimed) // how much arrived before the abort depends on timing
            QVERIFY(m_bigBody.startsWith(ours.body) || ours.body == qt.body);
        else
            QCOMPARE(ours.body, qt.body);
        QCOMPARE(ours.url, qt.url);
        QCOMPARE(ours.operation, qt.operation);
        QCOMPARE(ours.open, qt.open);
        QCOMPARE(ours.running, qt.running);
        QCOMPARE(ours.requestAutoDelete, qt.requestAutoDelete);
        QCOMPARE(ours.requestPolicy, qt.requestPolicy);
        QCOMPARE(ours.requestTimeout, qt.requestTimeout);
        QCOMPARE(ours.deleted, qt.deleted);
        QCOMPARE(ours.maxUpload, qt.maxUpload);
        if (!s.progressIsTimed) {
            QCOMPARE(ours.lastDownload, qt.lastDownload);
            QCOMPARE(ours.lastUpload, qt.lastUpload);
        }
    }

    // Two round trips of another request through \a nam: whatever \a nam had queued before
    // has reached the server by then.
    bool roundTrips(QNetworkAccessManager *nam, const Origin &origin)
    {
        for (int i = 0; i < 2; ++i) {
            QNetworkReply *probe
                = nam->get(QNetworkRequest(origin.server.url(QStringLiteral("/api/ping"))));
            const bool done = awaitAll({ probe }, 10000);
            delete probe;
            if (!done)
                return false;
        }
        return true;
    }

    int m_replaysLogged = 0;
    static TestFidelity *s_self;
    static QtMessageHandler s_previousHandler;
    static void countReplays(QtMsgType type, const QMessageLogContext &context, const QString &m)
    {
        if (s_self && m.contains(QLatin1String("refresh and replay")))
            ++s_self->m_replaysLogged;
        if (s_previousHandler)
            s_previousHandler(type, context, m);
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_bigBody = QByteArray(10 * 1024 * 1024, 'z');
        QVERIFY(m_other.listen());
        m_other.on(QStringLiteral("/landing"), [](const QHttpServerRequest &) {
            return ScriptedServer::json(R"({"where":"other"})");
        });
        QVERIFY(m_api.server.listen());
        addRoutes(m_api);

        // TLS: a self-signed certificate made now; the process trusts it by default (so the
        // sign-in works), a request that sets m_untrusting does not.
        QVERIFY(m_dir.isValid());
        const QString cert = m_dir.filePath(QStringLiteral("cert.pem"));
        const QString key = m_dir.filePath(QStringLiteral("key.pem"));
        QProcess openssl;
        openssl.start(QStringLiteral("openssl"),
            { QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
                QStringLiteral("rsa:2048"), QStringLiteral("-nodes"), QStringLiteral("-keyout"),
                key, QStringLiteral("-out"), cert, QStringLiteral("-days"), QStringLiteral("2"),
                QStringLiteral("-subj"), QStringLiteral("/CN=127.0.0.1"), QStringLiteral("-addext"),
                QStringLiteral("subjectAltName=IP:127.0.0.1") });
        if (openssl.waitForFinished(30000) && openssl.exitCode() == 0) {
            QFile certFile(cert);
            QFile keyFile(key);
            QVERIFY(certFile.open(QIODevice::ReadOnly) && keyFile.open(QIODevice::ReadOnly));
            m_certificate = QSslCertificate(&certFile, QSsl::Pem);
            const QSslKey privateKey(&keyFile, QSsl::Rsa, QSsl::Pem);
            QVERIFY(!m_certificate.isNull() && !privateKey.isNull());
            m_untrusting = QSslConfiguration::defaultConfiguration();
            QSslConfiguration trusting = m_untrusting;
            trusting.addCaCertificate(m_certificate);
            QSslConfiguration::setDefaultConfiguration(trusting);
            m_tls.server.useTls(m_certificate, privateKey);
            QVERIFY(m_tls.server.listen());
            addRoutes(m_tls);
            m_tlsReady = true;
        } else {
            qWarning() << "openssl unavailable: TLS scenarios are skipped"
                       << openssl.readAllStandardError();
        }
        s_self = this;
        s_previousHandler = qInstallMessageHandler(countReplays);
    }

    void init()
    {
        m_api.reset();
        m_tls.reset();
        m_client = signedInClient(m_api);
        QVERIFY(m_client);
    }

    void cleanup()
    {
        m_client.reset();
        m_tlsClient.reset();
        m_api.reset();
        m_tls.reset();
        m_neverAnswered.clear();
    }

    void cleanupTestCase()
    {
        qInstallMessageHandler(s_previousHandler);
        s_self = nullptr;
    }

    void qtAndAuthorizedRepliesAgree_data()
    {
        using B = Scenario::Body;
        QTest::addColumn<Scenario>("scenario");
        auto add = [](const char *name, Scenario s) { QTest::newRow(name) << s; };
        const int noLessSafe = QNetworkRequest::NoLessSafeRedirectPolicy;
        const int sameOrigin = QNetworkRequest::SameOriginRedirectPolicy;
        const int userVerified = QNetworkRequest::UserVerifiedRedirectPolicy;
        const int manual = QNetworkRequest::ManualRedirectPolicy;

        add("get", scenario(QStringLiteral("/api/small")));
        add("streamed 10 MB", scenario(QStringLiteral("/api/big")));
        add("404", scenario(QStringLiteral("/api/missing")));
        add("post bytes", scenario(QStringLiteral("/api/echo"), "POST", B::Bytes));
        add("put bytes", scenario(QStringLiteral("/api/echo"), "PUT", B::Bytes));
        add("post multipart", scenario(QStringLiteral("/api/echo"), "POST", B::Multipart));
        {
            Scenario s = scenario(QStringLiteral("/api/small"));
            s.managerAutoDelete = true;
            add("auto-delete by the manager", s);
            s.requestAutoDelete = 0;
            add("auto-delete refused by the request", s);
            s.managerAutoDelete = false;
            s.requestAutoDelete = 1;
            add("auto-delete asked by the request", s);
        }
        auto redirectRow
            = [&](const char *name, const char *path, int requestPolicy, int managerPolicy = -1) {
                  Scenario s = scenario(QString::fromLatin1(path));
                  s.requestPolicy = requestPolicy;
                  s.managerPolicy = managerPolicy;
                  add(name, s);
              };
        redirectRow("redirect, default policy, same origin", "/api/found-same", -1);
        redirectRow("redirect, relative location", "/api/found-relative", -1);
        redirectRow("redirect, NoLessSafe, other origin", "/api/found-other", noLessSafe);
        redirectRow("redirect, SameOrigin, same origin", "/api/found-same", sameOrigin);
        redirectRow("redirect, SameOrigin, other origin", "/api/found-other", sameOrigin);
        redirectRow("redirect, manager's SameOrigin", "/api/found-other", -1, sameOrigin);
        redirectRow("redirect, Manual", "/api/found-same", manual);
        redirectRow("redirect, manager's Manual", "/api/found-same", -1, manual);
        redirectRow("redirect without Location", "/api/nowhere", -1);
        redirectRow("redirect to ftp", "/api/to-ftp", -1);
        {
            Scenario s = scenario(QStringLiteral("/api/found-same"));
            s.requestPolicy = userVerified;
            s.allowRedirect = true;
            add("redirect, UserVerified, allowed", s);
            s.allowRedirect = false;
            s.abortIn = QStringLiteral("redirected /api/small");
            add("redirect, UserVerified, refused by abort()", s);
            Scenario loop = scenario(QStringLiteral("/api/loop"));
            loop.maxRedirects = 3;
            add("too many redirects", loop);
            Scenario none = scenario(QStringLiteral("/api/found-same"));
            none.maxRedirects = 0;
            add("no redirect allowed", none);
            Scenario seeOther = scenario(QStringLiteral("/api/see-other"), "POST", B::Bytes);
            add("303 after POST", seeOther);
            Scenario temporary = scenario(QStringLiteral("/api/temporary"), "POST", B::Bytes);
            add("307 keeps POST and body", temporary);
            Scenario putFound = scenario(QStringLiteral("/api/found-same"), "PUT", B::Bytes);
            add("302 after PUT", putFound);
        }
        auto abortRow
            = [&](const char *name, const char *path, const char *signal, B body = B::None) {
                  Scenario s
                      = scenario(QString::fromLatin1(path), body == B::None ? "GET" : "POST", body);
                  s.abortIn = QString::fromLatin1(signal);
                  s.progressIsTimed = true;
                  add(name, s);
              };
        abortRow("abort in metaDataChanged", "/api/small", "metaDataChanged");
        abortRow("abort in readyRead", "/api/big", "readyRead");
        abortRow("abort in downloadProgress", "/api/big", "downloadProgress");
        abortRow("abort in uploadProgress", "/api/echo", "uploadProgress", B::BigBytes);
        abortRow("abort in metaDataChanged after upload", "/api/echo", "metaDataChanged", B::Bytes);
        abortRow("abort in errorOccurred", "/api/missing", "errorOccurred 203");
        abortRow("abort in readChannelFinished", "/api/small", "readChannelFinished");
        abortRow("abort in finished", "/api/small", "finished");
        {
            Scenario s = scenario(QStringLiteral("/api/small"));
            s.closeInstead = true;
            s.progressIsTimed = true;
            s.abortIn = QStringLiteral("metaDataChanged");
            add("close in metaDataChanged", s);
            s.abortIn = QStringLiteral("finished");
            add("close in finished", s);
        }
        // Qt 6.4 still sends the next hop after this abort() and then emits metaDataChanged
        // after finished; the caller's view up to finished is what is compared
        // (abortInRedirectedSendsNoNextHop checks the next hop).
        abortRow("abort in redirected", "/api/found-same", "redirected /api/small");
        {
            Scenario s = scenario(QStringLiteral("/api/never"));
            s.requestTimeout = 300;
            add("transfer timeout of the request", s);
            Scenario m = scenario(QStringLiteral("/api/never"));
            m.managerTimeout = 300;
            add("transfer timeout of the manager", m);
            Scenario p = scenario(QStringLiteral("/api/never"), "POST", B::Bytes);
            p.requestTimeout = 300;
            add("transfer timeout of a POST", p);
        }
        {
            Scenario s = scenario(QStringLiteral("/api/small"));
            s.tls = true;
            add("tls", s);
            s.untrusted = true;
            add("tls errors", s);
            s.ignore = Scenario::Ignore::All;
            add("tls errors, ignoreSslErrors()", s);
            s.ignore = Scenario::Ignore::List;
            add("tls errors, ignoreSslErrors(list)", s);
            s.ignore = Scenario::Ignore::None;
            s.abortIn = QStringLiteral("sslErrors 1");
            s.progressIsTimed = true;
            add("abort in sslErrors", s);
            s.untrusted = false;
            s.abortIn = QStringLiteral("encrypted");
            add("abort in encrypted", s);
            Scenario downgrade = scenario(QStringLiteral("/api/downgrade"));
            downgrade.tls = true;
            add("redirect https to http, NoLessSafe", downgrade);
            downgrade.requestPolicy = userVerified;
            downgrade.allowRedirect = true;
            add("redirect https to http, UserVerified", downgrade);
        }
    }

    void qtAndAuthorizedRepliesAgree()
    {
        QFETCH(Scenario, scenario);
        if (scenario.tls) {
            if (!m_tlsReady)
                QSKIP("no openssl to make a certificate");
            m_tlsClient = signedInClient(m_tls);
            QVERIFY(m_tlsClient);
        }
        AuthClient *client = scenario.tls ? m_tlsClient.get() : m_client.get();
        const Origin &origin = scenario.tls ? m_tls : m_api;

        QNetworkAccessManager plain;
        configure(&plain, scenario);
        const Trace qt = run(&plain, scenario);

        AuthorizedNetworkAccessManager authorized(client);
        configure(&authorized, scenario);
        const qsizetype seenBefore = origin.server.seen().size();
        const Trace ours = run(&authorized, scenario);
        // It went through the authorized path: what reached the API carried the bearer.
        const QList<ScriptedServer::Seen> seen = origin.server.seen();
        if (seen.size() > seenBefore) {
            const bool bearer = std::any_of(seen.begin() + seenBefore, seen.end(),
                [](const ScriptedServer::Seen &x) { return x.authorization == "Bearer A"; });
            QVERIFY(bearer);
        }

        compare(qt, ours, scenario);
        if (scenario.path == QLatin1String("/api/big") && scenario.abortIn.isEmpty()) {
            // Streamed, not delivered at the end.
            QVERIFY2(qt.readyReads > 1, qPrintable(QString::number(qt.readyReads)));
            QVERIFY2(ours.readyReads > 1, qPrintable(QString::number(ours.readyReads)));
            QCOMPARE(ours.body.size(), m_bigBody.size());
        }
    }

    void replayedReplyLooksLikeASingleAnswer()
    {
        // A request that meets a 401, a refresh and a replay reads, to the caller, like one
        // answered at once: same signals, same progress, same ending.
        using B = Scenario::Body;
        for (const B body : { B::None, B::Bytes, B::Multipart }) {
            const Scenario direct
                = scenario(QStringLiteral("/api/echo"), body == B::None ? "GET" : "POST", body);
            QNetworkAccessManager plain;
            const Trace qt = run(&plain, direct);

            m_api.reset();
            m_api.accepted = "revoked";
            Scenario replayed = direct;
            replayed.path = QStringLiteral("/api/guarded");
            AuthorizedNetworkAccessManager authorized(m_client.get());
            Trace ours = run(&authorized, replayed);
            QCOMPARE(m_api.server.count(QStringLiteral("/api/guarded")), 2);
            QCOMPARE(m_api.server.count(QStringLiteral("/api/auth/refresh")), 1);
            QCOMPARE(ours.url.path(), QStringLiteral("/api/guarded"));
            ours.url = qt.url; // the one difference by design: the path asked for
            compare(qt, ours, direct);
            if (QTest::currentTestFailed())
                return;
        }
    }

    void autoDeleteRepliesDeletesAuthorizedReplies()
    {
        AuthorizedNetworkAccessManager nam(m_client.get());
        nam.setAutoDeleteReplies(true);
        QPointer<QNetworkReply> reply
            = nam.get(QNetworkRequest(m_api.server.url(QStringLiteral("/api/small"))));
        QSignalSpy finished(reply.data(), &QNetworkReply::finished);
        QVERIFY(finished.wait(10000));
        QTRY_VERIFY_WITH_TIMEOUT(reply.isNull(), 5000);
        QCOMPARE(m_api.server.seen().last().authorization, QByteArray("Bearer A"));
    }

    void multipartBodyIsReplayedWhole()
    {
        m_api.accepted = "revoked"; // the first attempt meets a 401, the replay succeeds
        QNetworkRequest request(m_api.server.url(QStringLiteral("/api/guarded")));
        QHttpMultiPart *multiPart = makeMultipart(nullptr);
        QNetworkReply *reply = m_client->networkAccessManager()->post(request, multiPart);
        multiPart->setParent(reply);
        QVERIFY2(awaitAll({ reply }, 10000), "the replay never completed (its body was short)");
        QCOMPARE(reply->error(), QNetworkReply::NoError);
        QList<QByteArray> bodies;
        for (const ScriptedServer::Seen &seen : m_api.server.seen()) {
            if (seen.path == QLatin1String("/api/guarded"))
                bodies << seen.body;
        }
        QCOMPARE(bodies.size(), 2);
        QVERIFY(bodies.at(0).size() > 200 * 1024);
        QCOMPARE(bodies.at(1).size(), bodies.at(0).size());
        QVERIFY(bodies.at(1) == bodies.at(0));
        QVERIFY(reply->readAll() == bodies.at(0));
        delete reply;
    }

    void ignoreSslErrorsWithoutArgumentsIsForwarded()
    {
        if (!m_tlsReady)
            QSKIP("no openssl to make a certificate");
        m_tlsClient = signedInClient(m_tls);
        QVERIFY(m_tlsClient);
        AuthorizedNetworkAccessManager nam(m_tlsClient.get());

        // From the sslErrors slot, as most applications do.
        QNetworkRequest request(m_tls.server.url(QStringLiteral("/api/small")));
        request.setSslConfiguration(m_untrusting);
        QNetworkReply *reply = nam.get(request);
        connect(reply, &QNetworkReply::sslErrors, reply, [reply] { reply->ignoreSslErrors(); });
        QVERIFY(awaitAll({ reply }, 10000));
        QCOMPARE(reply->error(), QNetworkReply::NoError);
        QCOMPARE(reply->readAll(), smallBody);
        delete reply;

        // Before the request goes out, and kept for the replay after a 401 (the server closes
        // the connection with its 401, so the replay meets the certificate again).
        m_tls.accepted = "revoked";
        QNetworkRequest guarded(m_tls.server.url(QStringLiteral("/api/guarded-close")));
        guarded.setSslConfiguration(m_untrusting);
        nam.clearConnectionCache();
        reply = nam.get(guarded);
        reply->ignoreSslErrors();
        int handshakes = 0;
        connect(reply, &QNetworkReply::encrypted, reply, [&handshakes] { ++handshakes; });
        QVERIFY(awaitAll({ reply }, 10000));
        QCOMPARE(reply->error(), QNetworkReply::NoError);
        QCOMPARE(reply->readAll(), smallBody);
        QCOMPARE(m_tls.server.count(QStringLiteral("/api/guarded-close")), 2);
        QCOMPARE(handshakes, 2);
        delete reply;
    }

    void userVerifiedRedirectWaitsForRedirectAllowed()
    {
        auto *nam = m_client->networkAccessManager();
        QNetworkRequest request(m_api.server.url(QStringLiteral("/api/found-same")));
        request.setAttribute(
            QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::UserVerifiedRedirectPolicy);
        QNetworkReply *reply = nam->get(request);
        QSignalSpy redirected(reply, &QNetworkReply::redirected);
        QVERIFY(redirected.wait(10000));
        QCOMPARE(
            redirected.first().first().toUrl(), m_api.server.url(QStringLiteral("/api/small")));

        QVERIFY(roundTrips(nam, m_api));
        QCOMPARE(m_api.server.count(QStringLiteral("/api/small")), 0);
        QVERIFY2(!reply->isFinished(), "followed without waiting for redirectAllowed()");

        Q_EMIT reply->redirectAllowed();
        QVERIFY(awaitAll({ reply }, 10000));
        QCOMPARE(reply->error(), QNetworkReply::NoError);
        QCOMPARE(reply->readAll(), smallBody);
        QCOMPARE(m_api.server.count(QStringLiteral("/api/small")), 1);
        QCOMPARE(m_api.server.seen().last().authorization, QByteArray("Bearer A"));
        delete reply;
    }

    void abortInRedirectedSendsNoNextHop()
    {
        auto *nam = m_client->networkAccessManager();
        for (const int policy : { int(QNetworkRequest::NoLessSafeRedirectPolicy),
                 int(QNetworkRequest::SameOriginRedirectPolicy),
                 int(QNetworkRequest::UserVerifiedRedirectPolicy) }) {
            QNetworkRequest request(m_api.server.url(QStringLiteral("/api/found-same")));
            request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, policy);
            QNetworkReply *reply = nam->get(request);
            connect(reply, &QNetworkReply::redirected, reply, [reply] {
                reply->abort();
                Q_EMIT reply->redirectAllowed(); // too late: must change nothing
            });
            QVERIFY(awaitAll({ reply }, 10000));
            QCOMPARE(reply->error(), QNetworkReply::OperationCanceledError);
            QVERIFY(roundTrips(nam, m_api));
            QCOMPARE(m_api.server.count(QStringLiteral("/api/small")), 0);
            delete reply;
        }
    }

    void defaultPortIsTheSameOrigin()
    {
        // http://api.latchkey.test/ and http://api.latchkey.test:80/ are one origin (RFC 6454).
        // No port 80 here: an HTTP proxy (the scripted server) stands for that origin.
        ScriptedServer origin;
        origin.on(QStringLiteral("/api/auth/login"), [](const QHttpServerRequest &) {
            return ScriptedServer::json(
                R"({"access_token":"P","refresh_token":"R","expires_in":3600})");
        });
        origin.on(QStringLiteral("/api/hop"), [](const QHttpServerRequest &) {
            return redirect(302, "http://api.latchkey.test:80/api/landing");
        });
        origin.on(QStringLiteral("/api/landing"),
            [](const QHttpServerRequest &) { return ScriptedServer::json(R"({"landed":1})"); });
        QVERIFY(origin.listen());
        const QNetworkProxy previous = QNetworkProxy::applicationProxy();
        QNetworkProxy::setApplicationProxy(QNetworkProxy(
            QNetworkProxy::HttpProxy, QStringLiteral("127.0.0.1"), origin.baseUrl().port()));
        auto restore = qScopeGuard([&] { QNetworkProxy::setApplicationProxy(previous); });

        AuthClient client(ServerProfile::builtin(QStringLiteral("latchkey")),
            QUrl(QStringLiteral("http://api.latchkey.test")));
        client.setAllowInsecureHttp(true);
        client.setTokenStore(new MemoryTokenStore);
        QVERIFY(!await(client.signIn(guest, guestPassword)).isError());

        QNetworkRequest request(QUrl(QStringLiteral("http://api.latchkey.test/api/hop")));
        request.setAttribute(
            QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::SameOriginRedirectPolicy);
        QNetworkReply *reply = client.networkAccessManager()->get(request);
        QVERIFY(awaitAll({ reply }, 10000));
        QCOMPARE(reply->error(), QNetworkReply::NoError);
        QCOMPARE(reply->readAll(), QByteArray(R"({"landed":1})"));
        QCOMPARE(origin.seen().last().path, QStringLiteral("/api/landing"));
        QCOMPARE(origin.seen().last().authorization, QByteArray("Bearer P"));
        delete reply;
    }

    void transferTimeoutBoundsTheWaitForARefresh()
    {
        // A refused token and a refresh endpoint that never answers (the refresh call itself
        // would give up after 30 s): the caller's transfer timeout ends the wait, the way it
        // ends Qt's own reply that waits for bytes.
        m_api.accepted = "revoked";
        m_api.refreshMode = Origin::RefreshMode::Never;
        QNetworkRequest request(m_api.server.url(QStringLiteral("/api/guarded")));
        request.setTransferTimeout(300);
        QNetworkReply *reply = m_client->networkAccessManager()->get(request);
        AuthorizedNetworkAccessManager managerTimeout(m_client.get());
        managerTimeout.setTransferTimeout(300);
        QNetworkReply *byManager
            = managerTimeout.get(QNetworkRequest(m_api.server.url(QStringLiteral("/api/guarded"))));
        QVERIFY2(awaitAll({ reply, byManager }, 10000), "still waiting for the refresh");
        QCOMPARE(m_api.server.count(QStringLiteral("/api/auth/refresh")), 1);

        QNetworkAccessManager plain;
        QNetworkRequest never(m_api.server.url(QStringLiteral("/api/never")));
        never.setTransferTimeout(300);
        QNetworkReply *qt = plain.get(never);
        QVERIFY(awaitAll({ qt }, 10000));
        for (QNetworkReply *r : { reply, byManager }) {
            QCOMPARE(r->error(), qt->error());
            QCOMPARE(r->errorString(), qt->errorString());
            QCOMPARE(r->isOpen(), qt->isOpen());
        }
        delete qt;
        delete reply;
        delete byManager;
    }

    void uploadProgressNeverGoesBackOnAReplay()
    {
        m_api.accepted = "revoked";
        const QByteArray body = randomBytes(1024 * 1024);
        QNetworkRequest request(m_api.server.url(QStringLiteral("/api/guarded")));
        request.setHeader(
            QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/octet-stream"));
        QNetworkReply *reply = m_client->networkAccessManager()->post(request, body);
        QList<qint64> sent;
        bool answered = false;
        connect(reply, &QNetworkReply::metaDataChanged, reply, [&] { answered = true; });
        connect(reply, &QNetworkReply::uploadProgress, reply, [&](qint64 bytes, qint64) {
            if (!answered) // Qt's closing uploadProgress(0, 0) comes after the answer
                sent << bytes;
        });
        QVERIFY(awaitAll({ reply }, 10000));
        QCOMPARE(reply->error(), QNetworkReply::NoError);
        QCOMPARE(m_api.server.count(QStringLiteral("/api/guarded")), 2);
        QVERIFY(!sent.isEmpty());
        for (qsizetype i = 1; i < sent.size(); ++i)
            QVERIFY2(sent[i] >= sent[i - 1],
                qPrintable(QStringLiteral("%1 after %2").arg(sent[i]).arg(sent[i - 1])));
        QCOMPARE(sent.last(), qint64(body.size()));
        QVERIFY(reply->readAll() == body);
        delete reply;
    }

    void fileBodyIsReplayedByteForByte()
    {
        // Any random-access device, not only the QBuffer of post(QByteArray).
        m_api.accepted = "revoked";
        const QByteArray content = randomBytes(300 * 1024);
        QTemporaryFile file;
        QVERIFY(file.open());
        QCOMPARE(file.write(content), qint64(content.size()));
        QVERIFY(file.seek(0));
        QNetworkRequest request(m_api.server.url(QStringLiteral("/api/guarded")));
        request.setHeader(
            QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/octet-stream"));
        QNetworkReply *reply = m_client->networkAccessManager()->post(request, &file);
        QVERIFY(awaitAll({ reply }, 10000));
        QCOMPARE(reply->error(), QNetworkReply::NoError);
        QVERIFY(reply->readAll() == content);
        int attempts = 0;
        for (const ScriptedServer::Seen &seen : m_api.server.seen()) {
            if (seen.path == QLatin1String("/api/guarded")) {
                ++attempts;
                QVERIFY(seen.body == content);
            }
        }
        QCOMPARE(attempts, 2);
        delete reply;
    }

    void requestsMadeDuringTheRefreshWaitWithoutSendingTheRefusedToken()
    {
        // The refresh is already on the wire after a 401: requests made meanwhile do not send
        // the token the server just refused (each would collect a 401 of its own); they wait
        // for that refresh, no second one, and go out once with the new token.
        m_api.accepted = "revoked";
        m_api.refreshMode = Origin::RefreshMode::Hold;
        auto *nam = m_client->networkAccessManager();
        const QUrl url = m_api.server.url(QStringLiteral("/api/guarded"));
        QList<QNetworkReply *> replies { nam->get(QNetworkRequest(url)) };
        QTRY_COMPARE_WITH_TIMEOUT(
            m_api.server.count(QStringLiteral("/api/auth/refresh")), 1, 10000);
        for (int i = 1; i <= 4; ++i)
            replies << nam->get(QNetworkRequest(url));
        // A round trip to the same server (they never go out here; before, they did at once).
        QNetworkAccessManager plain;
        std::unique_ptr<QNetworkReply> probe(
            plain.get(QNetworkRequest(m_api.server.url(QStringLiteral("/api/small")))));
        QVERIFY(awaitAll({ probe.get() }, 10000));
        QCOMPARE(m_api.server.count(QStringLiteral("/api/guarded")), 1);
        QCOMPARE(m_api.server.count(QStringLiteral("/api/auth/refresh")), 1);
        m_api.releaseRefreshes();
        QVERIFY(awaitAll(replies, 10000));
        for (QNetworkReply *reply : replies) {
            QCOMPARE(reply->error(), QNetworkReply::NoError);
            QCOMPARE(httpStatus(reply), 200);
        }
        QCOMPARE(m_api.server.count(QStringLiteral("/api/auth/refresh")), 1);
        QCOMPARE(m_api.server.count(QStringLiteral("/api/guarded")), 6);
        qDeleteAll(replies);
    }
};

TestFidelity *TestFidelity::s_self = nullptr;
QtMessageHandler TestFidelity::s_previousHandler = nullptr;

QTEST_GUILESS_MAIN(TestFidelity)
#include "tst_fidelity.moc"
