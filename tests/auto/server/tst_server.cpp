// Integration tests of latchkey-server's native dialect: the server runs in-process (AuthServer
// on a free port, in-memory SQLite, cheap PBKDF2) and is spoken to over real HTTP.
#include "authserver.h"
#include "authservice.h"
#include "metrics.h"
#include "ratelimiter.h"

#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMessageAuthenticationCode>
#include <QNetworkAccessManager>
#include <QNetworkCookieJar>
#include <QNetworkReply>
#include <QSet>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryFile>
#include <QTest>
#include <QUrlQuery>

#include <memory>

namespace {

using Headers = QList<QPair<QByteArray, QByteArray>>;

// A jar that neither stores nor sends cookies: each test sets the Cookie header itself.
class NoCookieJar : public QNetworkCookieJar
{
public:
    using QNetworkCookieJar::QNetworkCookieJar;
    bool setCookiesFromUrl(const QList<QNetworkCookie> &, const QUrl &) override { return false; }
    QList<QNetworkCookie> cookiesForUrl(const QUrl &) const override { return {}; }
};

struct Response
{
    int status = 0;
    QByteArray body;
    Headers headers;

    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
    QString message() const { return json().value(QLatin1String("message")).toString(); }
    QByteArray header(const QByteArray &name) const
    {
        for (const auto &h : headers) {
            if (h.first.compare(name, Qt::CaseInsensitive) == 0)
                return h.second;
        }
        return {};
    }
};

struct Tokens
{
    QString access;
    QString refresh;
};

QByteArray json(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

// "refresh_token=<token>;", how the Set-Cookie of a grant starts.
QByteArray cookiePrefix(const QString &token)
{
    return QByteArrayLiteral("refresh_token=") + token.toLatin1() + ';';
}

QByteArray b64UrlDecode(const QByteArray &text)
{
    return QByteArray::fromBase64(text, QByteArray::Base64UrlEncoding);
}

QByteArray b64Url(const QByteArray &data)
{
    return data.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

// The value at an RFC 6901 JSON Pointer ("" = the whole document).
QJsonValue at(const QJsonObject &root, const QString &pointer)
{
    QJsonValue value = root;
    const QStringList parts = pointer.split(QLatin1Char('/'));
    for (qsizetype i = 1; i < parts.size(); ++i) {
        QString key = parts[i];
        key.replace(QLatin1String("~1"), QLatin1String("/"))
            .replace(QLatin1String("~0"), QLatin1String("~"));
        if (value.isObject())
            value = value.toObject().value(key);
        else if (value.isArray())
            value = value.toArray().at(key.toInt());
        else
            return QJsonValue(QJsonValue::Undefined);
    }
    return value;
}

// How one dialect speaks, from a client's point of view: enough for the shared tests.
struct Wire
{
    QString dialect;
    QString loginPath;
    QString accessPointer; // in the login and refresh answers
    QString refreshPointer; // in the body; empty when the refresh token is a cookie
    QByteArray refreshCookie; // cookie name; empty when it travels in bodies
    QString refreshPath;
    QString logoutPath;
    int logoutStatus = 204;
    QString registerPath; // JSON {email, password} plus registerExtra
    QJsonObject registerExtra;
    QString requirementsPointer;
    QString changePasswordPath;
    QByteArray changePasswordVerb = "POST";
    QString currentField, newField;
    QStringList messagePointers; // of error answers: the first one present
    int lockedStatus = 423;
    QString lockedUntilPointer; // empty: the dialect has none
    QString retryAfterPointer;
    QString protectedGet, echo;
    QString usersPointer; // roles or role claim
};

Wire wireFor(const QString &dialect)
{
    Wire w;
    w.dialect = dialect;
    if (dialect == QLatin1String("latchkey")) {
        w.loginPath = QStringLiteral("/api/auth/login");
        w.accessPointer = QStringLiteral("/access_token");
        w.refreshPointer = QStringLiteral("/refresh_token");
        w.refreshPath = QStringLiteral("/api/auth/refresh");
        w.logoutPath = QStringLiteral("/api/auth/logout");
        w.registerPath = QStringLiteral("/api/auth/register");
        w.requirementsPointer = QStringLiteral("/requirements");
        w.changePasswordPath = QStringLiteral("/api/user/change-password");
        w.currentField = QStringLiteral("current_password");
        w.newField = QStringLiteral("new_password");
        w.messagePointers = { QStringLiteral("/message") };
        w.lockedUntilPointer = QStringLiteral("/locked_until");
        w.retryAfterPointer = QStringLiteral("/retry_after");
        w.protectedGet = QStringLiteral("/api/bookings");
        w.echo = QStringLiteral("/api/echo");
    } else if (dialect == QLatin1String("innhotel")) {
        w.loginPath = QStringLiteral("/api/auth/login");
        w.accessPointer = QStringLiteral("/accessToken");
        w.refreshCookie = QByteArrayLiteral("refreshToken");
        w.refreshPath = QStringLiteral("/api/auth/refresh");
        w.logoutPath = QStringLiteral("/api/auth/logout");
        w.logoutStatus = 200;
        w.registerPath = QStringLiteral("/api/auth/register");
        w.requirementsPointer = QStringLiteral("/errors/Password");
        w.changePasswordPath = QStringLiteral("/api/auth/change-password");
        w.currentField = QStringLiteral("currentPassword");
        w.newField = QStringLiteral("newPassword");
        w.messagePointers = { QStringLiteral("/message"), QStringLiteral("/title") };
        w.lockedUntilPointer = QStringLiteral("/lockedUntil");
        w.retryAfterPointer = QStringLiteral("/retryAfter");
        w.protectedGet = QStringLiteral("/api/reservations");
        w.echo = QStringLiteral("/api/echo");
    } else if (dialect == QLatin1String("schedule-manager")) {
        w.loginPath = QStringLiteral("/api/auth/login");
        w.accessPointer = QStringLiteral("/access_token");
        w.refreshCookie = QByteArrayLiteral("refresh_token");
        w.refreshPath = QStringLiteral("/api/auth/refresh");
        w.logoutPath = QStringLiteral("/api/auth/logout");
        w.logoutStatus = 200;
        w.registerPath = QStringLiteral("/api/auth/register");
        w.requirementsPointer = QStringLiteral("/requirements");
        w.changePasswordPath = QStringLiteral("/api/auth/change-password");
        w.currentField = QStringLiteral("current_password");
        w.newField = QStringLiteral("new_password");
        w.messagePointers
            = { QStringLiteral("/detail"), QStringLiteral("/message"), QStringLiteral("/error") };
        w.lockedUntilPointer = QStringLiteral("/locked_until");
        w.retryAfterPointer = QStringLiteral("/retry_after");
        w.protectedGet = QStringLiteral("/api/employees");
        w.echo = QStringLiteral("/api/echo");
    } else if (dialect == QLatin1String("hotel-reviews")) {
        w.loginPath = QStringLiteral("/api/v1/auth/login");
        w.accessPointer = QStringLiteral("/data/access_token");
        w.refreshPointer = QStringLiteral("/data/refresh_token");
        w.refreshPath = QStringLiteral("/api/v1/auth/refresh");
        w.logoutPath = QStringLiteral("/api/v1/auth/logout");
        w.logoutStatus = 200;
        w.registerPath = QStringLiteral("/api/v1/auth/register");
        w.registerExtra = { { QStringLiteral("username"), QStringLiteral("new_user") } };
        w.requirementsPointer = QStringLiteral("/data/requirements");
        w.changePasswordPath = QStringLiteral("/api/v1/user/change-password");
        w.currentField = QStringLiteral("old_password");
        w.newField = QStringLiteral("new_password");
        w.messagePointers = { QStringLiteral("/message") };
        w.lockedUntilPointer = QStringLiteral("/data/locked_until");
        w.retryAfterPointer = QStringLiteral("/data/retry_after");
        w.protectedGet = QStringLiteral("/api/v1/bookings");
        w.echo = QStringLiteral("/api/v1/echo");
    }
    return w;
}

QString messageOf(const Wire &wire, const QJsonObject &body)
{
    for (const QString &pointer : wire.messagePointers) {
        const QJsonValue value = at(body, pointer);
        if (value.isString() && !value.toString().isEmpty())
            return value.toString();
    }
    return {};
}

const QString guestEmail = QStringLiteral("guest@latchkey.test");
const QString guestPassword = QStringLiteral("Guest-2026!");
const QString managerEmail = QStringLiteral("manager@latchkey.test");
const QString managerPassword = QStringLiteral("Manager-2026!");
const QByteArray unauthorizedBody
    = QByteArrayLiteral("{\"message\":\"Unauthorized: authentication is required.\"}");

} // namespace

class tst_Server : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void health();
    void loginReturnsTokensAndCookie();
    void loginIsCaseInsensitiveOnEmail();
    void badPasswordAndUnknownEmailLookAlike();
    void loginRejectsMalformedInput_data();
    void loginRejectsMalformedInput();
    void registerCreatesGuest();
    void registerRejectsTakenEmail();
    void registerEnforcesPasswordPolicy_data();
    void registerEnforcesPasswordPolicy();
    void registerRejectsMissingFields();
    void refreshRotates();
    void reuseOfRotatedTokenRevokesFamily();
    void refreshFromCookie();
    void refreshWithoutToken();
    void logoutRevokesFamily();
    void logoutIsIdempotentAndNeedsSomeCredential();
    void protectedRouteWithoutToken();
    void protectedRouteWithInvalidToken_data();
    void protectedRouteWithInvalidToken();
    void adminIsManagerOnly();
    void profileReadAndUpdate();
    void avatarIsAPerUserPng();
    void bookingsListAndCreate();
    void bookingValidation();
    void echoReturnsBodyByteForByte();
    void jwtClaimsAndSignature();
    void expireAccessTokensHook();
    void failRefreshHook();
    void revokeSessionsHook();
    void latencyHookDoesNotBlockOtherRequests();
    void hooksAreOffByDefault();
    void metricsCountersMove();
    void lockoutAfterRepeatedFailures();
    void oversizedBodyIs413();
    void unknownPathIs404Json();
    void garbageOnTheSocketDoesNotCrash();

    // Every dialect, one _data() row each.
    void dialectLogin_data() { dialectRows(); }
    void dialectLogin();
    void dialectRefreshRotates_data() { dialectRows(); }
    void dialectRefreshRotates();
    void dialectReuseRevokesFamily_data() { dialectRows(); }
    void dialectReuseRevokesFamily();
    void dialectLogoutRevokes_data() { dialectRows(); }
    void dialectLogoutRevokes();
    void dialectProtectedRoutes_data() { dialectRows(); }
    void dialectProtectedRoutes();
    void dialectLockout_data() { dialectRows(); }
    void dialectLockout();
    void dialectRateLimit_data() { dialectRows(); }
    void dialectRateLimit();
    void dialectPasswordPolicy_data() { dialectRows(); }
    void dialectPasswordPolicy();
    void dialectChangePassword_data() { dialectRows(); }
    void dialectChangePassword();
    void dialectOAuth2Grants_data() { dialectRows(); }
    void dialectOAuth2Grants();

    void profileDrivesTheServer_data();
    void profileDrivesTheServer();
    void innhotelWireFormat();
    void scheduleManagerWireFormat();
    void scheduleManagerRateLimitHeaders();
    void hotelReviewsWireFormat();
    void hotelReviewsAdmin();
    void hotelReviewsApiKeys();

    void lockoutCountsOnlyFailuresWithinTheWindow();
    void lockoutExpires();
    void rateLimiterIsPerKeyAndSliding();
    void oauth2Errors();
    void oauth2ClientIds();
    void oauth2Revoke();
    void oauth2LockoutAndRateLimit();
    void oauth2DialectHasNoNativeAuthRoutes();

private:
    bool startServer(const ServerConfig &config);
    ServerConfig testConfig() const;
    Response send(const QByteArray &verb, const QString &path, const QByteArray &body = {},
        const Headers &headers = {});
    Response post(const QString &path, const QJsonObject &body, const Headers &headers = {})
    {
        return send("POST", path, json(body), headers);
    }
    Response get(const QString &path, const QString &accessToken = {});
    Response login(const QString &email, const QString &password);
    Tokens signIn(const QString &email = guestEmail, const QString &password = guestPassword);
    Response refreshWith(const QString &refreshToken);
    double metric(const QByteArray &series);

    void dialectRows();
    // Restarts the server speaking the dialect of the current row (QFETCH "wire").
    bool startDialect(const Wire &wire, ServerConfig config);
    Response loginWith(const Wire &wire, const QString &email, const QString &password);
    Tokens tokensOf(const Wire &wire, const Response &grant);
    Response refreshWire(const Wire &wire, const QString &refreshToken);
    Response logoutWire(const Wire &wire, const Tokens &tokens);
    Response form(const QString &path, const QByteArray &body, const Headers &headers = {})
    {
        Headers all { { "Content-Type", "application/x-www-form-urlencoded" } };
        all += headers;
        return send("POST", path, body, all);
    }
    void useTestClock();

    std::unique_ptr<AuthServer> m_server;
    std::unique_ptr<QNetworkAccessManager> m_nam;
    QUrl m_base;
    qint64 m_now = 0; // the server's lockout/rate-limit clock after useTestClock()
};

Q_DECLARE_METATYPE(Wire)

ServerConfig tst_Server::testConfig() const
{
    ServerConfig config;
    config.port = 0;
    config.databasePath = QStringLiteral(":memory:");
    config.pbkdf2Iterations = 1000;
    config.seedDemo = true;
    config.testHooks = true;
    return config;
}

bool tst_Server::startServer(const ServerConfig &config)
{
    m_server = std::make_unique<AuthServer>(config);
    QString error;
    if (!m_server->start(&error)) {
        qWarning() << "server did not start:" << error;
        return false;
    }
    m_base = m_server->baseUrl();
    return true;
}

void tst_Server::init()
{
    m_nam = std::make_unique<QNetworkAccessManager>();
    m_nam->setCookieJar(new NoCookieJar(m_nam.get()));
    QVERIFY(startServer(testConfig()));
}

void tst_Server::cleanup()
{
    m_nam.reset();
    m_server.reset();
}

Response tst_Server::send(
    const QByteArray &verb, const QString &path, const QByteArray &body, const Headers &headers)
{
    QNetworkRequest request(m_base.resolved(QUrl(path)));
    if (!body.isEmpty())
        request.setRawHeader("Content-Type", "application/json");
    for (const auto &h : headers)
        request.setRawHeader(h.first, h.second);
    QNetworkReply *reply = m_nam->sendCustomRequest(request, verb, body);
    QSignalSpy finished(reply, &QNetworkReply::finished);
    Response response;
    if (!reply->isFinished() && !finished.wait(20000)) {
        qWarning() << "no answer for" << verb << path;
        reply->abort();
    }
    response.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    response.body = reply->readAll();
    response.headers = reply->rawHeaderPairs();
    reply->deleteLater();
    return response;
}

Response tst_Server::get(const QString &path, const QString &accessToken)
{
    Headers headers;
    if (!accessToken.isEmpty())
        headers.append({ "Authorization", "Bearer " + accessToken.toLatin1() });
    return send("GET", path, {}, headers);
}

Response tst_Server::login(const QString &email, const QString &password)
{
    return post(QStringLiteral("/api/auth/login"),
        { { QStringLiteral("email"), email }, { QStringLiteral("password"), password } });
}

Tokens tst_Server::signIn(const QString &email, const QString &password)
{
    const QJsonObject body = login(email, password).json();
    return { body.value(QLatin1String("access_token")).toString(),
        body.value(QLatin1String("refresh_token")).toString() };
}

Response tst_Server::refreshWith(const QString &refreshToken)
{
    return post(
        QStringLiteral("/api/auth/refresh"), { { QStringLiteral("refresh_token"), refreshToken } });
}

double tst_Server::metric(const QByteArray &series)
{
    const Response response = get(QStringLiteral("/metrics"));
    const QByteArray prefix = series + ' ';
    for (const QByteArray &line : response.body.split('\n')) {
        if (line.startsWith(prefix))
            return line.mid(prefix.size()).trimmed().toDouble();
    }
    return -1;
}

void tst_Server::health()
{
    const Response r = get(QStringLiteral("/health"));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().value(QLatin1String("status")).toString(), QStringLiteral("ok"));
}

void tst_Server::loginReturnsTokensAndCookie()
{
    const Response r = login(guestEmail, guestPassword);
    QCOMPARE(r.status, 200);
    const QJsonObject body = r.json();
    const QString refresh = body.value(QLatin1String("refresh_token")).toString();
    QVERIFY(!body.value(QLatin1String("access_token")).toString().isEmpty());
    QCOMPARE(body.value(QLatin1String("token_type")).toString(), QStringLiteral("Bearer"));
    QVERIFY(body.value(QLatin1String("expires_in")).isDouble());
    QCOMPARE(body.value(QLatin1String("expires_in")).toInt(), 900);
    QCOMPARE(refresh.size(), 43); // 256 bits, base64url without padding

    const QJsonObject user = body.value(QLatin1String("user")).toObject();
    QVERIFY(user.value(QLatin1String("id")).toInt() > 0);
    QCOMPARE(user.value(QLatin1String("email")).toString(), guestEmail);
    QCOMPARE(user.value(QLatin1String("firstName")).toString(), QStringLiteral("Grace"));
    QCOMPARE(user.value(QLatin1String("lastName")).toString(), QStringLiteral("Guest"));
    QCOMPARE(user.value(QLatin1String("roles")).toArray(), QJsonArray { QStringLiteral("guest") });

    const QByteArray cookie = r.header("Set-Cookie");
    QVERIFY2(cookie.startsWith(cookiePrefix(refresh)), cookie.constData());
    const QByteArrayList attributes = cookie.split(';');
    QByteArrayList trimmed;
    for (const QByteArray &a : attributes)
        trimmed << a.trimmed();
    QVERIFY(trimmed.contains("HttpOnly"));
    QVERIFY(trimmed.contains("SameSite=Strict"));
    QVERIFY(trimmed.contains("Path=/api/auth"));
    QVERIFY(trimmed.contains("Max-Age=2592000"));
}

void tst_Server::loginIsCaseInsensitiveOnEmail()
{
    QCOMPARE(login(QStringLiteral("GUEST@Latchkey.Test"), guestPassword).status, 200);
}

void tst_Server::badPasswordAndUnknownEmailLookAlike()
{
    const Response wrongPassword = login(guestEmail, QStringLiteral("Wrong-2026!"));
    const Response unknownEmail = login(QStringLiteral("nobody@latchkey.test"), guestPassword);
    QCOMPARE(wrongPassword.status, 401);
    QCOMPARE(unknownEmail.status, 401);
    // Both count down to a lockout (the default threshold: 5), alike.
    QCOMPARE(wrongPassword.body,
        QByteArrayLiteral("{\"attempts_left\":4,\"message\":\"Invalid Credentials\"}"));
    QCOMPARE(unknownEmail.body, wrongPassword.body);
    QVERIFY(wrongPassword.header("Set-Cookie").isEmpty());
    const Response again = login(guestEmail, QStringLiteral("Wrong-2026!"));
    QCOMPARE(again.body,
        QByteArrayLiteral("{\"attempts_left\":3,\"message\":\"Invalid Credentials\"}"));
    QCOMPARE(login(QStringLiteral("NOBODY@latchkey.test"), guestPassword).body, again.body);
}

void tst_Server::loginRejectsMalformedInput_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("not json") << QByteArrayLiteral("{\"email\": ");
    QTest::newRow("array") << QByteArrayLiteral("[1,2]");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("no password") << QByteArrayLiteral("{\"email\":\"guest@latchkey.test\"}");
    QTest::newRow("number email") << QByteArrayLiteral("{\"email\":5,\"password\":\"x\"}");
    QTest::newRow("binary") << QByteArray("\x00\xff\xfe{", 4);
}

void tst_Server::loginRejectsMalformedInput()
{
    QFETCH(QByteArray, body);
    const Response r = send("POST", QStringLiteral("/api/auth/login"), body,
        { { "Content-Type", "application/json" } });
    QCOMPARE(r.status, 400);
    QVERIFY(!r.message().isEmpty());
    QCOMPARE(get(QStringLiteral("/health")).status, 200); // still alive
}

void tst_Server::registerCreatesGuest()
{
    const Response r = post(QStringLiteral("/api/auth/register"),
        { { QStringLiteral("email"), QStringLiteral("ann@example.com") },
            { QStringLiteral("password"), QStringLiteral("Zebra-Lamp-42") },
            { QStringLiteral("firstName"), QStringLiteral("Ann") },
            { QStringLiteral("lastName"), QStringLiteral("Lee") } });
    QCOMPARE(r.status, 201);
    const QJsonObject user = r.json().value(QLatin1String("user")).toObject();
    QVERIFY(user.value(QLatin1String("id")).toInt() > 0);
    QCOMPARE(user.value(QLatin1String("email")).toString(), QStringLiteral("ann@example.com"));
    QCOMPARE(user.value(QLatin1String("firstName")).toString(), QStringLiteral("Ann"));
    QCOMPARE(user.value(QLatin1String("lastName")).toString(), QStringLiteral("Lee"));
    QCOMPARE(user.value(QLatin1String("roles")).toArray(), QJsonArray { QStringLiteral("guest") });
    QVERIFY(!user.contains(QLatin1String("password")));
    QCOMPARE(login(QStringLiteral("ann@example.com"), QStringLiteral("Zebra-Lamp-42")).status, 200);
}

void tst_Server::registerRejectsTakenEmail()
{
    const Response r = post(QStringLiteral("/api/auth/register"),
        { { QStringLiteral("email"), QStringLiteral("Guest@Latchkey.test") },
            { QStringLiteral("password"), QStringLiteral("Zebra-Lamp-42") },
            { QStringLiteral("firstName"), QStringLiteral("G") },
            { QStringLiteral("lastName"), QStringLiteral("G") } });
    QCOMPARE(r.status, 409);
    QCOMPARE(r.json(),
        QJsonObject({ { QStringLiteral("message"), QStringLiteral("Email already registered") } }));
}

void tst_Server::registerEnforcesPasswordPolicy_data()
{
    QTest::addColumn<QString>("password");
    QTest::addColumn<QStringList>("requirements");
    const QString length = QStringLiteral("Must be at least 8 characters long");
    const QString upper = QStringLiteral("Must contain uppercase letters");
    const QString lower = QStringLiteral("Must contain lowercase letters");
    const QString digits = QStringLiteral("Must contain numbers");
    const QString special = QStringLiteral("Must contain special characters");
    const QString common = QStringLiteral("Must not be a common password");
    QTest::newRow("short") << QStringLiteral("Ab1!") << QStringList { length };
    QTest::newRow("lowercase only")
        << QStringLiteral("abcdefghij") << QStringList { upper, digits, special };
    QTest::newRow("no special") << QStringLiteral("Abcdefgh12") << QStringList { special };
    QTest::newRow("no lower") << QStringLiteral("ABCDEFGH1!") << QStringList { lower };
    QTest::newRow("common") << QStringLiteral("Password1!") << QStringList { common };
    QTest::newRow("common lowercase")
        << QStringLiteral("password") << QStringList { upper, digits, special, common };
}

void tst_Server::registerEnforcesPasswordPolicy()
{
    QFETCH(QString, password);
    QFETCH(QStringList, requirements);
    const Response r = post(QStringLiteral("/api/auth/register"),
        { { QStringLiteral("email"), QStringLiteral("weak@example.com") },
            { QStringLiteral("password"), password },
            { QStringLiteral("firstName"), QStringLiteral("W") },
            { QStringLiteral("lastName"), QStringLiteral("K") } });
    QCOMPARE(r.status, 400);
    const QJsonObject body = r.json();
    QCOMPARE(body.value(QLatin1String("error")).toString(),
        QStringLiteral("Password does not meet requirements"));
    QCOMPARE(body.value(QLatin1String("message")).toString(),
        QStringLiteral("Password does not meet requirements"));
    QStringList got;
    const QJsonArray list = body.value(QLatin1String("requirements")).toArray();
    for (const QJsonValue &v : list)
        got << v.toString();
    QCOMPARE(got, requirements);
    QCOMPARE(login(QStringLiteral("weak@example.com"), password).status, 401); // not created
}

void tst_Server::registerRejectsMissingFields()
{
    const Response r = post(QStringLiteral("/api/auth/register"),
        { { QStringLiteral("email"), QStringLiteral("x@example.com") },
            { QStringLiteral("firstName"), QStringLiteral("X") } });
    QCOMPARE(r.status, 400);
    QVERIFY(!r.message().isEmpty());
    const Response bad = post(QStringLiteral("/api/auth/register"),
        { { QStringLiteral("email"), QStringLiteral("not-an-email") },
            { QStringLiteral("password"), QStringLiteral("Zebra-Lamp-42") },
            { QStringLiteral("firstName"), QStringLiteral("A") },
            { QStringLiteral("lastName"), QStringLiteral("B") } });
    QCOMPARE(bad.status, 400);
    const Response number = post(QStringLiteral("/api/auth/register"),
        { { QStringLiteral("email"), QStringLiteral("n@example.com") },
            { QStringLiteral("password"), QStringLiteral("Zebra-Lamp-42") },
            { QStringLiteral("firstName"), 5 } });
    QCOMPARE(number.status, 400);
    // Names are optional: what the SDK's registerAccount(identity, password) sends.
    const Response minimal = post(QStringLiteral("/api/auth/register"),
        { { QStringLiteral("email"), QStringLiteral("m@example.com") },
            { QStringLiteral("password"), QStringLiteral("Zebra-Lamp-42") } });
    QCOMPARE(minimal.status, 201);
    QCOMPARE(
        minimal.json().value(QLatin1String("user")).toObject().value(QLatin1String("firstName")),
        QJsonValue(QString()));
}

void tst_Server::refreshRotates()
{
    const Tokens first = signIn();
    const Response r = refreshWith(first.refresh);
    QCOMPARE(r.status, 200);
    const QJsonObject body = r.json();
    const QString second = body.value(QLatin1String("refresh_token")).toString();
    QVERIFY(!second.isEmpty());
    QVERIFY(second != first.refresh);
    QVERIFY(!body.value(QLatin1String("access_token")).toString().isEmpty());
    QCOMPARE(body.value(QLatin1String("token_type")).toString(), QStringLiteral("Bearer"));
    QCOMPARE(body.value(QLatin1String("user")).toObject().value(QLatin1String("email")).toString(),
        guestEmail);
    QVERIFY(r.header("Set-Cookie").startsWith(cookiePrefix(second)));
    QCOMPARE(get(QStringLiteral("/api/ping"), body.value(QLatin1String("access_token")).toString())
                 .status,
        200);

    const Response again = refreshWith(first.refresh);
    QCOMPARE(again.status, 401);
    QCOMPARE(again.message(), QStringLiteral("Invalid or expired refresh token."));
}

void tst_Server::reuseOfRotatedTokenRevokesFamily()
{
    const Tokens other = signIn(); // a second session (family) of the same user
    const Tokens first = signIn();
    const Response rotated = refreshWith(first.refresh);
    QCOMPARE(rotated.status, 200);
    const QString newest = rotated.json().value(QLatin1String("refresh_token")).toString();

    // An attacker (or a confused client) presents the rotated token again...
    QCOMPARE(refreshWith(first.refresh).status, 401);
    QCOMPARE(metric("latchkey_refresh_total{result=\"reused\"}"), 1.0);
    // ...so the newest token of that family stops working too.
    const Response newestAfter = refreshWith(newest);
    QCOMPARE(newestAfter.status, 401);
    QCOMPARE(newestAfter.message(), QStringLiteral("Invalid or expired refresh token."));
    // The other family is untouched.
    QCOMPARE(refreshWith(other.refresh).status, 200);
}

void tst_Server::refreshFromCookie()
{
    const Tokens tokens = signIn();
    const Response r = send("POST", QStringLiteral("/api/auth/refresh"), {},
        { { "Cookie", "theme=dark; refresh_token=" + tokens.refresh.toLatin1() } });
    QCOMPARE(r.status, 200);
    const QString next = r.json().value(QLatin1String("refresh_token")).toString();
    QVERIFY(!next.isEmpty() && next != tokens.refresh);
    QVERIFY(r.header("Set-Cookie").startsWith(cookiePrefix(next)));
    QCOMPARE(refreshWith(tokens.refresh).status, 401);
}

void tst_Server::refreshWithoutToken()
{
    const Response r = send("POST", QStringLiteral("/api/auth/refresh"));
    QCOMPARE(r.status, 401);
    QCOMPARE(r.message(), QStringLiteral("Refresh token is required."));
    QCOMPARE(metric("latchkey_refresh_total{result=\"missing\"}"), 1.0);
    const Response unknown = refreshWith(QStringLiteral("not-a-token"));
    QCOMPARE(unknown.status, 401);
    QCOMPARE(unknown.message(), QStringLiteral("Invalid or expired refresh token."));
    QCOMPARE(metric("latchkey_refresh_total{result=\"invalid\"}"), 1.0);
}

void tst_Server::logoutRevokesFamily()
{
    const Tokens tokens = signIn();
    const Response rotated = refreshWith(tokens.refresh);
    const QString newest = rotated.json().value(QLatin1String("refresh_token")).toString();
    const Response r = send("POST", QStringLiteral("/api/auth/logout"), {},
        { { "Cookie", "refresh_token=" + newest.toLatin1() } });
    QCOMPARE(r.status, 204);
    QVERIFY(r.body.isEmpty());
    const QByteArray cookie = r.header("Set-Cookie");
    QVERIFY2(
        cookie.startsWith("refresh_token=;") && cookie.contains("Max-Age=0"), cookie.constData());
    QCOMPARE(refreshWith(newest).status, 401);
}

void tst_Server::logoutIsIdempotentAndNeedsSomeCredential()
{
    const Tokens tokens = signIn();
    const QJsonObject body { { QStringLiteral("refresh_token"), tokens.refresh } };
    QCOMPARE(post(QStringLiteral("/api/auth/logout"), body).status, 204);
    QCOMPARE(post(QStringLiteral("/api/auth/logout"), body).status, 204);
    QCOMPARE(post(QStringLiteral("/api/auth/logout"),
                 { { QStringLiteral("refresh_token"), QStringLiteral("unknown") } })
                 .status,
        204);
    // Bearer only (the SDK may have lost the refresh token): accepted.
    QCOMPARE(send("POST", QStringLiteral("/api/auth/logout"), {},
                 { { "Authorization", "Bearer " + tokens.access.toLatin1() } })
                 .status,
        204);
    // Nothing at all: 401.
    const Response none = send("POST", QStringLiteral("/api/auth/logout"));
    QCOMPARE(none.status, 401);
    QCOMPARE(none.header("WWW-Authenticate"), QByteArrayLiteral("Bearer realm=\"latchkey\""));
}

void tst_Server::protectedRouteWithoutToken()
{
    const Response r = get(QStringLiteral("/api/user/profile"));
    QCOMPARE(r.status, 401);
    QCOMPARE(r.body, unauthorizedBody);
    QCOMPARE(r.header("WWW-Authenticate"), QByteArrayLiteral("Bearer realm=\"latchkey\""));
    const Response basic = send(
        "GET", QStringLiteral("/api/ping"), {}, { { "Authorization", "Basic Z3Vlc3Q6eA==" } });
    QCOMPARE(basic.status, 401);
    QCOMPARE(basic.header("WWW-Authenticate"), QByteArrayLiteral("Bearer realm=\"latchkey\""));
}

void tst_Server::protectedRouteWithInvalidToken_data()
{
    QTest::addColumn<QString>("kind");
    QTest::newRow("garbage") << QStringLiteral("garbage");
    QTest::newRow("bad signature") << QStringLiteral("signature");
    QTest::newRow("tampered claims") << QStringLiteral("claims");
    QTest::newRow("alg none") << QStringLiteral("none");
    QTest::newRow("other key") << QStringLiteral("key");
}

void tst_Server::protectedRouteWithInvalidToken()
{
    QFETCH(QString, kind);
    const QByteArray valid = signIn().access.toLatin1();
    QCOMPARE(get(QStringLiteral("/api/ping"), QString::fromLatin1(valid)).status, 200);
    const QByteArrayList parts = valid.split('.');
    QCOMPARE(parts.size(), 3);
    QJsonObject claims = QJsonDocument::fromJson(b64UrlDecode(parts[1])).object();
    claims.insert(QStringLiteral("roles"), QJsonArray { QStringLiteral("manager") });
    const QByteArray forgedClaims = b64Url(json(claims));
    QByteArray token;
    if (kind == QLatin1String("garbage")) {
        token = "not.a.jwt";
    } else if (kind == QLatin1String("signature")) {
        QByteArray sig = b64UrlDecode(parts[2]);
        sig[0] = char(sig[0] ^ 1);
        token = parts[0] + '.' + parts[1] + '.' + b64Url(sig);
    } else if (kind == QLatin1String("claims")) {
        token = parts[0] + '.' + forgedClaims + '.' + parts[2];
    } else if (kind == QLatin1String("none")) {
        token = b64Url("{\"alg\":\"none\",\"typ\":\"JWT\"}") + '.' + forgedClaims + '.';
    } else {
        const QByteArray input = parts[0] + '.' + forgedClaims;
        token = input + '.'
            + b64Url(QMessageAuthenticationCode::hash(
                input, QByteArrayLiteral("guessed-secret"), QCryptographicHash::Sha256));
    }
    const Response r = get(QStringLiteral("/api/ping"), QString::fromLatin1(token));
    QCOMPARE(r.status, 401);
    QCOMPARE(r.body, unauthorizedBody);
    const QByteArray challenge = r.header("WWW-Authenticate");
    QVERIFY2(challenge.startsWith("Bearer realm=\"latchkey\", error=\"invalid_token\", "
                                  "error_description=\""),
        challenge.constData());
}

void tst_Server::adminIsManagerOnly()
{
    const Response guest = get(QStringLiteral("/api/admin/users"), signIn().access);
    QCOMPARE(guest.status, 403);
    QCOMPARE(guest.message(), QStringLiteral("Forbidden: insufficient permissions."));
    const Response manager
        = get(QStringLiteral("/api/admin/users"), signIn(managerEmail, managerPassword).access);
    QCOMPARE(manager.status, 200);
    const QJsonArray users = manager.json().value(QLatin1String("users")).toArray();
    QCOMPARE(users.size(), 3); // guest, manager, bot
    QCOMPARE(users.at(1).toObject().value(QLatin1String("roles")).toArray(),
        QJsonArray { QStringLiteral("manager") });
}

void tst_Server::avatarIsAPerUserPng()
{
    const QString path = QStringLiteral("/api/user/avatar");
    QCOMPARE(get(path).status, 401);

    const Response guest = get(path, signIn().access);
    QCOMPARE(guest.status, 200);
    QCOMPARE(guest.header("Content-Type"), QByteArrayLiteral("image/png"));
    QVERIFY(guest.body.startsWith("\x89PNG\r\n\x1a\n"));
    const QImage image = QImage::fromData(guest.body, "PNG");
    QVERIFY(!image.isNull());
    QCOMPARE(image.size(), QSize(192, 192)); // 5 cells of 32 px and half a cell of margin
    // A 5×5 identicon: two colours (background and cells), mirrored left to right.
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x) {
            colours.insert(image.pixel(x, y));
            QCOMPARE(image.pixel(x, y), image.pixel(image.width() - 1 - x, y));
        }
    }
    QCOMPARE(colours.size(), 2);

    // The same user always gets the same picture; another user another one.
    QCOMPARE(get(path, signIn().access).body, guest.body);
    const Response manager = get(path, signIn(managerEmail, managerPassword).access);
    QCOMPARE(manager.status, 200);
    QVERIFY(manager.body != guest.body);
}

void tst_Server::profileReadAndUpdate()
{
    const Tokens tokens = signIn();
    const Response r = get(QStringLiteral("/api/user/profile"), tokens.access);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().value(QLatin1String("user")).toObject().value(QLatin1String("email")),
        QJsonValue(guestEmail));
    const Headers auth { { "Authorization", "Bearer " + tokens.access.toLatin1() } };
    const Response put = send("PUT", QStringLiteral("/api/user/profile"),
        json({ { QStringLiteral("firstName"), QStringLiteral("Gloria") } }), auth);
    QCOMPARE(put.status, 200);
    const QJsonObject user = put.json().value(QLatin1String("user")).toObject();
    QCOMPARE(user.value(QLatin1String("firstName")).toString(), QStringLiteral("Gloria"));
    QCOMPARE(user.value(QLatin1String("lastName")).toString(), QStringLiteral("Guest"));
    QCOMPARE(get(QStringLiteral("/api/user/profile"), tokens.access)
                 .json()
                 .value(QLatin1String("user"))
                 .toObject()
                 .value(QLatin1String("firstName"))
                 .toString(),
        QStringLiteral("Gloria"));
    QCOMPARE(send("PUT", QStringLiteral("/api/user/profile"),
                 json({ { QStringLiteral("lastName"), 42 } }), auth)
                 .status,
        400);
}

void tst_Server::bookingsListAndCreate()
{
    const Tokens guest = signIn();
    const Response list = get(QStringLiteral("/api/bookings"), guest.access);
    QCOMPARE(list.status, 200);
    const QJsonArray before = list.json().value(QLatin1String("bookings")).toArray();
    QCOMPARE(before.size(), 2);
    const QJsonObject first = before.first().toObject();
    for (const char *key : { "id", "hotel", "checkIn", "checkOut", "guests" })
        QVERIFY2(first.contains(QLatin1String(key)), key);

    const QJsonObject booking { { QStringLiteral("hotel"), QStringLiteral("Lakeside") },
        { QStringLiteral("checkIn"), QStringLiteral("2026-08-01") },
        { QStringLiteral("checkOut"), QStringLiteral("2026-08-03") },
        { QStringLiteral("guests"), 2 } };
    const Response created = post(QStringLiteral("/api/bookings"), booking,
        { { "Authorization", "Bearer " + guest.access.toLatin1() } });
    QCOMPARE(created.status, 201);
    const QJsonObject b = created.json().value(QLatin1String("booking")).toObject();
    QCOMPARE(b.value(QLatin1String("hotel")).toString(), QStringLiteral("Lakeside"));
    QCOMPARE(b.value(QLatin1String("checkOut")).toString(), QStringLiteral("2026-08-03"));
    QCOMPARE(b.value(QLatin1String("guests")).toInt(), 2);
    QCOMPARE(get(QStringLiteral("/api/bookings"), guest.access)
                 .json()
                 .value(QLatin1String("bookings"))
                 .toArray()
                 .size(),
        3);
    // Per user: the manager's list does not contain it.
    const Response manager
        = get(QStringLiteral("/api/bookings"), signIn(managerEmail, managerPassword).access);
    QCOMPARE(manager.json().value(QLatin1String("bookings")).toArray().size(), 3);
    const QJsonArray managerBookings = manager.json().value(QLatin1String("bookings")).toArray();
    for (const QJsonValue &v : managerBookings)
        QVERIFY(v.toObject().value(QLatin1String("hotel")).toString() != QLatin1String("Lakeside"));
}

void tst_Server::bookingValidation()
{
    const Headers auth { { "Authorization", "Bearer " + signIn().access.toLatin1() } };
    const QJsonObject good { { QStringLiteral("hotel"), QStringLiteral("Lakeside") },
        { QStringLiteral("checkIn"), QStringLiteral("2026-08-01") },
        { QStringLiteral("checkOut"), QStringLiteral("2026-08-03") },
        { QStringLiteral("guests"), 2 } };
    const struct
    {
        const char *field;
        QJsonValue value;
    } bad[] = { { "hotel", QString() }, { "hotel", 5 }, { "checkIn", QStringLiteral("yesterday") },
        { "checkOut", QStringLiteral("2026-07-01") }, { "guests", 0 }, { "guests", 2.5 },
        { "guests", QStringLiteral("2") } };
    for (const auto &row : bad) {
        QJsonObject body = good;
        body.insert(QLatin1String(row.field), row.value);
        const Response r = post(QStringLiteral("/api/bookings"), body, auth);
        QVERIFY2(r.status == 400, row.field);
        QVERIFY(!r.message().isEmpty());
    }
    QCOMPARE(send("POST", QStringLiteral("/api/bookings"), "{oops", auth).status, 400);
    QCOMPARE(post(QStringLiteral("/api/bookings"), good, auth).status, 201);
}

void tst_Server::echoReturnsBodyByteForByte()
{
    QByteArray payload;
    for (int i = 0; i < 70000; ++i)
        payload.append(char(i * 31 % 256));
    const Response r = send("POST", QStringLiteral("/api/echo"), payload,
        { { "Authorization", "Bearer " + signIn().access.toLatin1() },
            { "Content-Type", "application/x-latchkey-test" } });
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("Content-Type"), QByteArrayLiteral("application/x-latchkey-test"));
    QCOMPARE(r.body.size(), payload.size());
    QVERIFY(r.body == payload);
    QCOMPARE(send("POST", QStringLiteral("/api/echo"), payload).status, 401);
}

void tst_Server::jwtClaimsAndSignature()
{
    // A server with a known secret, so the test can check the signature itself.
    QTemporaryFile secretFile;
    QVERIFY(secretFile.open());
    const QByteArray secret = QByteArrayLiteral("0123456789abcdef0123456789abcdef-test-secret");
    secretFile.write(secret + '\n');
    secretFile.close();
    ServerConfig config = testConfig();
    config.jwtSecretFile = secretFile.fileName();
    config.accessTtlSeconds = 120;
    m_server.reset();
    QVERIFY(startServer(config));

    const Tokens manager = signIn(managerEmail, managerPassword);
    const QByteArrayList parts = manager.access.toLatin1().split('.');
    QCOMPARE(parts.size(), 3);
    const QJsonObject header = QJsonDocument::fromJson(b64UrlDecode(parts[0])).object();
    QCOMPARE(header.value(QLatin1String("alg")).toString(), QStringLiteral("HS256"));
    const QByteArray expected = QMessageAuthenticationCode::hash(
        parts[0] + '.' + parts[1], secret, QCryptographicHash::Sha256);
    QCOMPARE(b64UrlDecode(parts[2]), expected);

    const QJsonObject claims = QJsonDocument::fromJson(b64UrlDecode(parts[1])).object();
    QVERIFY(claims.value(QLatin1String("sub")).isString());
    QCOMPARE(claims.value(QLatin1String("sub")).toString(), QStringLiteral("2"));
    QCOMPARE(claims.value(QLatin1String("email")).toString(), managerEmail);
    QCOMPARE(
        claims.value(QLatin1String("roles")).toArray(), QJsonArray { QStringLiteral("manager") });
    QStringList permissions;
    const QJsonArray permissionArray = claims.value(QLatin1String("permissions")).toArray();
    for (const QJsonValue &v : permissionArray)
        permissions << v.toString();
    QCOMPARE(permissions,
        QStringList({ QStringLiteral("bookings:read"), QStringLiteral("bookings:write"),
            QStringLiteral("profile:read"), QStringLiteral("profile:write"),
            QStringLiteral("users:read"), QStringLiteral("bookings:read_all") }));
    const qint64 iat = qint64(claims.value(QLatin1String("iat")).toDouble());
    const qint64 exp = qint64(claims.value(QLatin1String("exp")).toDouble());
    QVERIFY(iat > 1600000000);
    QCOMPARE(exp - iat, 120);
    QVERIFY(claims.value(QLatin1String("jti")).toString().size() >= 16);
    QVERIFY(signIn(managerEmail, managerPassword).access != manager.access); // jti differs

    // Tokens the test signs itself with the secret: accepted with alg HS256, rejected with any
    // other alg even though the HMAC-SHA256 signature is right.
    const auto signWith = [&](const QByteArray &alg) -> QByteArray {
        const QByteArray input
            = b64Url("{\"alg\":\"" + alg + "\",\"typ\":\"JWT\"}") + '.' + parts[1];
        return input + '.'
            + b64Url(QMessageAuthenticationCode::hash(input, secret, QCryptographicHash::Sha256));
    };
    QCOMPARE(get(QStringLiteral("/api/ping"), QString::fromLatin1(signWith("HS256"))).status, 200);
    const Response otherAlg
        = get(QStringLiteral("/api/ping"), QString::fromLatin1(signWith("HS384")));
    QCOMPARE(otherAlg.status, 401);
    QVERIFY2(otherAlg.header("WWW-Authenticate").contains("HS256"),
        otherAlg.header("WWW-Authenticate").constData());

    const QJsonArray guestPermissions
        = QJsonDocument::fromJson(b64UrlDecode(signIn().access.toLatin1().split('.')[1]))
              .object()
              .value(QLatin1String("permissions"))
              .toArray();
    QCOMPARE(guestPermissions.size(), 4);
}

void tst_Server::expireAccessTokensHook()
{
    const Tokens guest = signIn();
    const Tokens manager = signIn(managerEmail, managerPassword);
    QCOMPARE(post(QStringLiteral("/test/expire-access-tokens"),
                 { { QStringLiteral("email"), guestEmail } })
                 .status,
        204);
    const Response expired = get(QStringLiteral("/api/ping"), guest.access);
    QCOMPARE(expired.status, 401);
    QVERIFY2(expired.header("WWW-Authenticate").contains("error=\"invalid_token\""),
        expired.header("WWW-Authenticate").constData());
    QCOMPARE(get(QStringLiteral("/api/ping"), manager.access).status, 200);

    // Tokens issued afterwards work, within the same second as the cutoff.
    const Response refreshed = refreshWith(guest.refresh);
    QCOMPARE(refreshed.status, 200);
    const QString fresh = refreshed.json().value(QLatin1String("access_token")).toString();
    QCOMPARE(get(QStringLiteral("/api/ping"), fresh).status, 200);

    // Without an email: everyone's tokens issued so far.
    QCOMPARE(send("POST", QStringLiteral("/test/expire-access-tokens")).status, 204);
    QCOMPARE(get(QStringLiteral("/api/ping"), manager.access).status, 401);
    QCOMPARE(get(QStringLiteral("/api/ping"), fresh).status, 401);
    QCOMPARE(
        get(QStringLiteral("/api/ping"), signIn(managerEmail, managerPassword).access).status, 200);
}

void tst_Server::failRefreshHook()
{
    const Tokens tokens = signIn();
    QCOMPARE(post(QStringLiteral("/test/fail-refresh"),
                 { { QStringLiteral("status"), 503 }, { QStringLiteral("count"), 2 } })
                 .status,
        204);
    for (int i = 0; i < 2; ++i) {
        const Response r = refreshWith(tokens.refresh);
        QCOMPARE(r.status, 503);
        QCOMPARE(r.message(), QStringLiteral("Injected failure"));
    }
    QCOMPARE(metric("latchkey_refresh_total{result=\"injected\"}"), 2.0);
    // Nothing was rotated: the same token still works once.
    QCOMPARE(refreshWith(tokens.refresh).status, 200);
    QCOMPARE(metric("latchkey_refresh_total{result=\"ok\"}"), 1.0);
    QCOMPARE(
        post(QStringLiteral("/test/fail-refresh"), { { QStringLiteral("status"), 200 } }).status,
        400);
}

void tst_Server::revokeSessionsHook()
{
    const Tokens one = signIn();
    const Tokens two = signIn();
    const Tokens manager = signIn(managerEmail, managerPassword);
    QCOMPARE(
        post(QStringLiteral("/test/revoke-sessions"), { { QStringLiteral("email"), guestEmail } })
            .status,
        204);
    QCOMPARE(refreshWith(one.refresh).status, 401);
    QCOMPARE(refreshWith(two.refresh).status, 401);
    QCOMPARE(refreshWith(manager.refresh).status, 200);
    QCOMPARE(post(QStringLiteral("/test/revoke-sessions"),
                 { { QStringLiteral("email"), QStringLiteral("nobody@x.test") } })
                 .status,
        404);
}

void tst_Server::latencyHookDoesNotBlockOtherRequests()
{
    const QString access = signIn().access;
    QCOMPARE(post(QStringLiteral("/test/latency"), { { QStringLiteral("ms"), 1500 } }).status, 204);

    QNetworkRequest slowRequest(m_base.resolved(QUrl(QStringLiteral("/api/ping"))));
    slowRequest.setRawHeader("Authorization", "Bearer " + access.toLatin1());
    QNetworkReply *slow = m_nam->get(slowRequest);
    QSignalSpy slowDone(slow, &QNetworkReply::finished);
    // While the delayed answer is pending, the exempt /health is served at once: the server's
    // event loop is not blocked by the delay.
    const Response health = get(QStringLiteral("/health"));
    QCOMPARE(health.status, 200);
    QCOMPARE(slowDone.count(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(slowDone.count(), 1, 20000);
    QCOMPARE(slow->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    QCOMPARE(slow->readAll(), QByteArrayLiteral("{\"ok\":true}"));
    slow->deleteLater();

    // A client that gives up while its answer is delayed does not hurt the server.
    const quint64 before = m_server->metrics().requests();
    QNetworkReply *abandoned = m_nam->get(slowRequest);
    QTRY_VERIFY(m_server->metrics().requests() > before); // the server holds it now
    abandoned->abort();
    abandoned->deleteLater();
    QCOMPARE(post(QStringLiteral("/test/latency"), { { QStringLiteral("ms"), 0 } }).status, 204);
    QCOMPARE(get(QStringLiteral("/api/ping"), access).status, 200);
}

void tst_Server::hooksAreOffByDefault()
{
    ServerConfig config = testConfig();
    config.testHooks = false;
    m_server.reset();
    QVERIFY(startServer(config));
    const Response r = post(QStringLiteral("/test/fail-refresh"), {});
    QCOMPARE(r.status, 404);
    QCOMPARE(r.message(), QStringLiteral("Not found."));
    QCOMPARE(post(QStringLiteral("/test/expire-access-tokens"), {}).status, 404);
    QCOMPARE(post(QStringLiteral("/test/latency"), { { QStringLiteral("ms"), 10 } }).status, 404);
    QCOMPARE(refreshWith(signIn().refresh).status, 200);
}

void tst_Server::metricsCountersMove()
{
    const Response text = get(QStringLiteral("/metrics"));
    QCOMPARE(text.status, 200);
    QVERIFY(text.header("Content-Type").startsWith("text/plain"));
    for (const char *series :
        { "latchkey_logins_total{result=\"ok\"} 0", "latchkey_logins_total{result=\"invalid\"} 0",
            "latchkey_logins_total{result=\"locked\"} 0",
            "latchkey_logins_total{result=\"rate_limited\"} 0",
            "latchkey_refresh_total{result=\"ok\"} 0",
            "latchkey_refresh_total{result=\"missing\"} 0",
            "latchkey_refresh_total{result=\"invalid\"} 0",
            "latchkey_refresh_total{result=\"reused\"} 0",
            "latchkey_refresh_total{result=\"injected\"} 0", "latchkey_unauthorized_total 0" }) {
        QVERIFY2(text.body.split('\n').contains(QByteArray(series)), series);
    }
    const double requests = metric("latchkey_requests_total");
    QVERIFY(requests >= 1);

    const Tokens tokens = signIn();
    login(guestEmail, QStringLiteral("nope-Nope-1"));
    refreshWith(tokens.refresh);
    get(QStringLiteral("/api/ping"));
    get(QStringLiteral("/api/ping"), QStringLiteral("x.y.z"));
    QCOMPARE(metric("latchkey_logins_total{result=\"ok\"}"), 1.0);
    QCOMPARE(metric("latchkey_logins_total{result=\"invalid\"}"), 1.0);
    QCOMPARE(metric("latchkey_refresh_total{result=\"ok\"}"), 1.0);
    QCOMPARE(metric("latchkey_unauthorized_total"), 2.0);
    // Since `requests` was read: 5 requests above, 4 metric reads, and this one.
    QCOMPARE(metric("latchkey_requests_total"), requests + 10);
}

void tst_Server::lockoutAfterRepeatedFailures()
{
    for (int i = 0; i < 5; ++i)
        QCOMPARE(login(guestEmail, QStringLiteral("Wrong-2026!")).status, 401);
    const Response locked = login(guestEmail, guestPassword); // even the right password
    QCOMPARE(locked.status, 423);
    const QJsonObject body = locked.json();
    QCOMPARE(body.value(QLatin1String("error")).toString(), QStringLiteral("Account is locked"));
    const QString until = body.value(QLatin1String("locked_until")).toString();
    QVERIFY(QDateTime::fromString(until, Qt::ISODate).isValid());
    QCOMPARE(body.value(QLatin1String("message")).toString(),
        QStringLiteral("Account locked until ") + until);
    QVERIFY(locked.header("Retry-After").toInt() > 0);
    QCOMPARE(metric("latchkey_logins_total{result=\"locked\"}"), 1.0);
    // Other accounts are not affected.
    QCOMPARE(login(managerEmail, managerPassword).status, 200);
}

void tst_Server::oversizedBodyIs413()
{
    const QByteArray big(AuthServer::MaxBodyBytes + 1, 'a');
    const Response r = send("POST", QStringLiteral("/api/auth/login"), big);
    QCOMPARE(r.status, 413);
    QVERIFY(!r.message().isEmpty());
    const QByteArray exact(AuthServer::MaxBodyBytes, ' ');
    QCOMPARE(send("POST", QStringLiteral("/api/auth/login"), exact).status, 400);
}

void tst_Server::unknownPathIs404Json()
{
    const Response r = get(QStringLiteral("/api/nothing-here"));
    QCOMPARE(r.status, 404);
    QCOMPARE(r.header("Content-Type"), QByteArrayLiteral("application/json"));
    QCOMPARE(r.message(), QStringLiteral("Not found."));
    const Response wrongMethod = get(QStringLiteral("/api/auth/login"));
    QCOMPARE(wrongMethod.status, 405);
    QCOMPARE(wrongMethod.header("Allow"), QByteArrayLiteral("POST"));
}

void tst_Server::garbageOnTheSocketDoesNotCrash()
{
    const QByteArray inputs[] = {
        QByteArrayLiteral("GARBAGE\r\n\r\n"),
        QByteArrayLiteral("POST /api/auth/login HTTP/1.1\r\nContent-Length: -5\r\n\r\n"),
        QByteArrayLiteral("GET /%%%%\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n"),
        QByteArray(5000, '\0'),
    };
    for (const QByteArray &input : inputs) {
        QTcpSocket socket;
        socket.connectToHost(m_base.host(), quint16(m_base.port()));
        QVERIFY(socket.waitForConnected(5000));
        socket.write(input);
        QVERIFY(socket.waitForBytesWritten(5000));
        socket.disconnectFromHost();
        // The server must still answer afterwards.
        QCOMPARE(get(QStringLiteral("/health")).status, 200);
    }
}

// ---- every dialect -------------------------------------------------------------------------

void tst_Server::dialectRows()
{
    QTest::addColumn<Wire>("wire");
    for (const char *name : { "latchkey", "innhotel", "hotel-reviews", "schedule-manager" })
        QTest::newRow(name) << wireFor(QLatin1String(name));
}

bool tst_Server::startDialect(const Wire &wire, ServerConfig config)
{
    config.dialect = wire.dialect;
    m_server.reset();
    return startServer(config);
}

void tst_Server::useTestClock()
{
    m_now = QDateTime::currentMSecsSinceEpoch();
    m_server->authService()->setClock([this] { return m_now; });
}

Response tst_Server::loginWith(const Wire &wire, const QString &email, const QString &password)
{
    return post(wire.loginPath,
        { { QStringLiteral("email"), email }, { QStringLiteral("password"), password } });
}

// Cookie value `name` from the Set-Cookie header(s) of a response; QNAM joins several with \n.
QByteArray setCookieValue(const Response &r, const QByteArray &name)
{
    const QByteArrayList cookies = r.header("Set-Cookie").split('\n');
    for (const QByteArray &cookie : cookies) {
        if (cookie.startsWith(QByteArray(name + '=')))
            return cookie.mid(name.size() + 1, cookie.indexOf(';') - name.size() - 1);
    }
    return {};
}

Tokens tst_Server::tokensOf(const Wire &wire, const Response &grant)
{
    Tokens tokens;
    tokens.access = at(grant.json(), wire.accessPointer).toString();
    tokens.refresh = wire.refreshCookie.isEmpty()
        ? at(grant.json(), wire.refreshPointer).toString()
        : QString::fromLatin1(setCookieValue(grant, wire.refreshCookie));
    return tokens;
}

Response tst_Server::refreshWire(const Wire &wire, const QString &refreshToken)
{
    if (!wire.refreshCookie.isEmpty()) {
        return send("POST", wire.refreshPath, {},
            { { "Cookie", wire.refreshCookie + '=' + refreshToken.toLatin1() } });
    }
    return post(wire.refreshPath, { { QStringLiteral("refresh_token"), refreshToken } });
}

Response tst_Server::logoutWire(const Wire &wire, const Tokens &tokens)
{
    Headers headers { { "Authorization", "Bearer " + tokens.access.toLatin1() } };
    if (!wire.refreshCookie.isEmpty()) {
        headers.append({ "Cookie", wire.refreshCookie + '=' + tokens.refresh.toLatin1() });
        return send("POST", wire.logoutPath, {}, headers);
    }
    return post(wire.logoutPath, { { QStringLiteral("refresh_token"), tokens.refresh } }, headers);
}

void tst_Server::dialectLogin()
{
    QFETCH(Wire, wire);
    QVERIFY(startDialect(wire, testConfig()));
    const Response r = loginWith(wire, guestEmail, guestPassword);
    QCOMPARE(r.status, 200);
    const Tokens tokens = tokensOf(wire, r);
    QCOMPARE(tokens.access.count(QLatin1Char('.')), 2); // a JWT
    QCOMPARE(tokens.refresh.size(), 43);
    if (!wire.refreshCookie.isEmpty()) {
        // Only in the cookie: the body never holds it.
        QVERIFY(!r.body.contains(tokens.refresh.toLatin1()));
        const QByteArray cookie = r.header("Set-Cookie").toLower();
        QVERIFY2(cookie.contains("httponly"), cookie.constData());
    }
    QCOMPARE(get(wire.protectedGet, tokens.access).status, 200);

    const Response bad = loginWith(wire, guestEmail, QStringLiteral("Wrong-2026!"));
    QCOMPARE(bad.status, 401);
    QVERIFY(!messageOf(wire, bad.json()).isEmpty());
    QCOMPARE(loginWith(wire, QStringLiteral("nobody@latchkey.test"), guestPassword).body, bad.body);
}

void tst_Server::dialectRefreshRotates()
{
    QFETCH(Wire, wire);
    QVERIFY(startDialect(wire, testConfig()));
    const Tokens first = tokensOf(wire, loginWith(wire, guestEmail, guestPassword));
    const Response r = refreshWire(wire, first.refresh);
    QCOMPARE(r.status, 200);
    const Tokens second = tokensOf(wire, r);
    QVERIFY(!second.refresh.isEmpty());
    QVERIFY(second.refresh != first.refresh);
    QCOMPARE(get(wire.protectedGet, second.access).status, 200);
    QCOMPARE(refreshWire(wire, first.refresh).status, 401);
    const Response missing = send("POST", wire.refreshPath);
    QCOMPARE(missing.status, 401);
    QVERIFY(!messageOf(wire, missing.json()).isEmpty());
}

void tst_Server::dialectReuseRevokesFamily()
{
    QFETCH(Wire, wire);
    QVERIFY(startDialect(wire, testConfig()));
    const Tokens other = tokensOf(wire, loginWith(wire, guestEmail, guestPassword));
    const Tokens first = tokensOf(wire, loginWith(wire, guestEmail, guestPassword));
    const Tokens second = tokensOf(wire, refreshWire(wire, first.refresh));
    QVERIFY(!second.refresh.isEmpty());
    QCOMPARE(refreshWire(wire, first.refresh).status, 401); // reuse
    QCOMPARE(metric("latchkey_refresh_total{result=\"reused\"}"), 1.0);
    QCOMPARE(refreshWire(wire, second.refresh).status, 401); // the family is gone
    QCOMPARE(refreshWire(wire, other.refresh).status, 200); // another family is not
}

void tst_Server::dialectLogoutRevokes()
{
    QFETCH(Wire, wire);
    QVERIFY(startDialect(wire, testConfig()));
    const Tokens tokens = tokensOf(wire, loginWith(wire, guestEmail, guestPassword));
    const Response r = logoutWire(wire, tokens);
    QCOMPARE(r.status, wire.logoutStatus);
    if (!wire.refreshCookie.isEmpty()) {
        QVERIFY2(r.header("Set-Cookie").startsWith(QByteArray(wire.refreshCookie + '=')),
            r.header("Set-Cookie").constData());
        QVERIFY(setCookieValue(r, wire.refreshCookie).isEmpty());
    }
    QCOMPARE(refreshWire(wire, tokens.refresh).status, 401);
}

void tst_Server::dialectProtectedRoutes()
{
    QFETCH(Wire, wire);
    QVERIFY(startDialect(wire, testConfig()));
    const Response none = get(wire.protectedGet);
    QCOMPARE(none.status, 401);
    QVERIFY2(none.header("WWW-Authenticate").startsWith("Bearer"),
        none.header("WWW-Authenticate").constData());
    QVERIFY(!messageOf(wire, none.json()).isEmpty());
    const Response garbage = get(wire.protectedGet, QStringLiteral("x.y.z"));
    QCOMPARE(garbage.status, 401);
    QVERIFY(garbage.header("WWW-Authenticate").contains("error=\"invalid_token\""));
    QCOMPARE(metric("latchkey_unauthorized_total"), 2.0);

    const QString access = tokensOf(wire, loginWith(wire, guestEmail, guestPassword)).access;
    QCOMPARE(get(wire.protectedGet, access).status, 200);
    const QByteArray payload("\x00\x01{not json}\xff", 13);
    const Response echo = send("POST", wire.echo, payload,
        { { "Authorization", "Bearer " + access.toLatin1() },
            { "Content-Type", "application/x-latchkey-test" } });
    QCOMPARE(echo.status, 200);
    QCOMPARE(echo.body, payload);
    QCOMPARE(echo.header("Content-Type"), QByteArrayLiteral("application/x-latchkey-test"));
    QCOMPARE(send("POST", wire.echo, payload).status, 401);

    // The shared routes are there in every dialect.
    QCOMPARE(get(QStringLiteral("/health")).status, 200);
    QCOMPARE(post(QStringLiteral("/test/latency"), { { QStringLiteral("ms"), 0 } }).status, 204);
}

void tst_Server::dialectLockout()
{
    QFETCH(Wire, wire);
    QVERIFY(startDialect(wire, testConfig()));
    for (int i = 0; i < 5; ++i)
        QCOMPARE(loginWith(wire, guestEmail, QStringLiteral("Wrong-2026!")).status, 401);
    const Response locked = loginWith(wire, guestEmail, guestPassword);
    QCOMPARE(locked.status, wire.lockedStatus);
    QVERIFY(!messageOf(wire, locked.json()).isEmpty());
    if (!wire.lockedUntilPointer.isEmpty()) {
        const QDateTime until = QDateTime::fromString(
            at(locked.json(), wire.lockedUntilPointer).toString(), Qt::ISODate);
        QVERIFY2(until.isValid(), locked.body.constData());
        const qint64 ahead = QDateTime::currentDateTimeUtc().secsTo(until);
        QVERIFY2(ahead > 1700 && ahead <= 1800, QByteArray::number(ahead).constData());
    }
    QVERIFY(locked.header("Retry-After").toInt() > 0);
    QCOMPARE(metric("latchkey_logins_total{result=\"locked\"}"), 1.0);
    QCOMPARE(loginWith(wire, managerEmail, managerPassword).status, 200);
}

void tst_Server::dialectRateLimit()
{
    QFETCH(Wire, wire);
    ServerConfig config = testConfig();
    config.loginRateLimit = 3;
    config.loginRateWindowSeconds = 60;
    QVERIFY(startDialect(wire, config));
    useTestClock();
    QCOMPARE(loginWith(wire, guestEmail, guestPassword).status, 200);
    QCOMPARE(loginWith(wire, guestEmail, QStringLiteral("Wrong-2026!")).status, 401);
    m_now += 10000;
    QCOMPARE(loginWith(wire, managerEmail, managerPassword).status, 200);
    const Response limited = loginWith(wire, managerEmail, managerPassword);
    QCOMPARE(limited.status, 429);
    QCOMPARE(limited.header("Retry-After"), QByteArrayLiteral("50")); // the first attempt ages out
    QVERIFY(!messageOf(wire, limited.json()).isEmpty());
    if (!wire.retryAfterPointer.isEmpty())
        QCOMPARE(at(limited.json(), wire.retryAfterPointer).toInt(), 50);
    QCOMPARE(metric("latchkey_logins_total{result=\"rate_limited\"}"), 1.0);
    QCOMPARE(metric("latchkey_logins_total{result=\"ok\"}"), 2.0); // no password check was made
    m_now += 50000;
    QCOMPARE(loginWith(wire, managerEmail, managerPassword).status, 200);
}

void tst_Server::dialectPasswordPolicy()
{
    QFETCH(Wire, wire);
    QVERIFY(startDialect(wire, testConfig()));
    QJsonObject weak = wire.registerExtra;
    weak.insert(QStringLiteral("email"), QStringLiteral("new@example.com"));
    weak.insert(QStringLiteral("password"), QStringLiteral("abcdefghij"));
    const Response r = post(wire.registerPath, weak);
    QCOMPARE(r.status, 400);
    QVERIFY(!messageOf(wire, r.json()).isEmpty());
    QCOMPARE(at(r.json(), wire.requirementsPointer).toArray(),
        QJsonArray({ QStringLiteral("Must contain uppercase letters"),
            QStringLiteral("Must contain numbers"),
            QStringLiteral("Must contain special characters") }));
    QCOMPARE(
        loginWith(wire, QStringLiteral("new@example.com"), QStringLiteral("abcdefghij")).status,
        401);

    QJsonObject good = weak;
    good.insert(QStringLiteral("password"), QStringLiteral("Zebra-Lamp-42"));
    QCOMPARE(post(wire.registerPath, good).status, 201);
    QCOMPARE(post(wire.registerPath, good).status, 409);
    QCOMPARE(
        loginWith(wire, QStringLiteral("new@example.com"), QStringLiteral("Zebra-Lamp-42")).status,
        200);
}

void tst_Server::dialectChangePassword()
{
    QFETCH(Wire, wire);
    QVERIFY(startDialect(wire, testConfig()));
    const Tokens tokens = tokensOf(wire, loginWith(wire, guestEmail, guestPassword));
    const Headers auth { { "Authorization", "Bearer " + tokens.access.toLatin1() } };
    const auto change = [&](const QString &current, const QString &next, const Headers &h) {
        return send(wire.changePasswordVerb, wire.changePasswordPath,
            json({ { wire.currentField, current }, { wire.newField, next } }), h);
    };
    QCOMPARE(change(guestPassword, QStringLiteral("New-Pass-2027!"), {}).status, 401);
    const Response wrong
        = change(QStringLiteral("Wrong-2026!"), QStringLiteral("New-Pass-2027!"), auth);
    QCOMPARE(wrong.status, 400);
    QVERIFY(!messageOf(wire, wrong.json()).isEmpty());
    const Response weak = change(guestPassword, QStringLiteral("short"), auth);
    QCOMPARE(weak.status, 400);
    QVERIFY(at(weak.json(), wire.requirementsPointer)
                .toArray()
                .contains(QStringLiteral("Must be at least 8 characters long")));
    QCOMPARE(change(guestPassword, QStringLiteral("New-Pass-2027!"), auth).status, 200);
    QCOMPARE(loginWith(wire, guestEmail, guestPassword).status, 401);
    QCOMPARE(loginWith(wire, guestEmail, QStringLiteral("New-Pass-2027!")).status, 200);
}

void tst_Server::dialectOAuth2Grants()
{
    QFETCH(Wire, wire);
    QVERIFY(startDialect(wire, testConfig()));
    const Response r = form(QStringLiteral("/oauth/token"),
        "grant_type=password&username=guest%40latchkey.test&password=Guest-2026%21"
        "&client_id=latchkey-demo");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("Cache-Control"), QByteArrayLiteral("no-store"));
    QVERIFY(r.header("Content-Type").startsWith("application/json"));
    const QJsonObject grant = r.json();
    QCOMPARE(grant.value(QLatin1String("token_type")).toString(), QStringLiteral("Bearer"));
    QCOMPARE(grant.value(QLatin1String("expires_in")).toInt(), 900);
    const QString access = grant.value(QLatin1String("access_token")).toString();
    const QString refresh = grant.value(QLatin1String("refresh_token")).toString();
    QCOMPARE(refresh.size(), 43);
    QCOMPARE(get(wire.protectedGet, access).status, 200); // the dialect's routes accept it

    const Response refreshed = form(QStringLiteral("/oauth/token"),
        "grant_type=refresh_token&client_id=latchkey-demo&refresh_token=" + refresh.toLatin1());
    QCOMPARE(refreshed.status, 200);
    const QString next = refreshed.json().value(QLatin1String("refresh_token")).toString();
    QVERIFY(!next.isEmpty() && next != refresh);
    QCOMPARE(
        get(wire.protectedGet, refreshed.json().value(QLatin1String("access_token")).toString())
            .status,
        200);
    const Response reused = form(QStringLiteral("/oauth/token"),
        "grant_type=refresh_token&client_id=latchkey-demo&refresh_token=" + refresh.toLatin1());
    QCOMPARE(reused.status, 400);
    QCOMPARE(
        reused.json().value(QLatin1String("error")).toString(), QStringLiteral("invalid_grant"));
    // Reuse revoked the family: the newest token is dead too.
    QCOMPARE(
        form(QStringLiteral("/oauth/token"),
            "grant_type=refresh_token&client_id=latchkey-demo&refresh_token=" + next.toLatin1())
            .status,
        400);
}

QJsonObject claimsOf(const QString &jwt)
{
    return QJsonDocument::fromJson(b64UrlDecode(jwt.toLatin1().split('.').value(1))).object();
}

// ---- the SDK's built-in profiles against the dialects ----------------------------------------

void tst_Server::profileDrivesTheServer_data()
{
    QTest::addColumn<QString>("profile");
    QTest::addColumn<QString>("dialect");
    for (const char *name : { "latchkey", "innhotel", "hotel-reviews", "schedule-manager" })
        QTest::newRow(name) << QString::fromLatin1(name) << QString::fromLatin1(name);
    QTest::newRow("oauth2 on latchkey") << QStringLiteral("oauth2") << QStringLiteral("latchkey");
    QTest::newRow("oauth2 on oauth2") << QStringLiteral("oauth2") << QStringLiteral("oauth2");
}

// Speaks to the server only as the profile says (request encoding, fields, extra, where tokens
// travel, error pointers, endpoints), so a profile and its dialect cannot drift apart.
void tst_Server::profileDrivesTheServer()
{
    QFETCH(QString, profile);
    QFETCH(QString, dialect);
    QFile file(QStringLiteral(LATCHKEY_PROFILES_DIR "/%1.json").arg(profile));
    QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(file.fileName()));
    const QJsonObject p = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(p.value(QLatin1String("name")).toString(), profile);
    ServerConfig config = testConfig();
    config.dialect = dialect;
    m_server.reset();
    QVERIFY(startServer(config));

    const auto str = [&p](const QString &pointer) { return at(p, pointer).toString(); };
    // A request as the profile's endpoint describes it: fields + extra + the refresh token.
    const auto call = [&](const QString &key, QJsonObject fields, const Tokens &tokens) {
        const QJsonObject endpoint = p.value(key).toObject();
        const QJsonObject extra = endpoint.value(QLatin1String("extra")).toObject();
        for (auto it = extra.begin(); it != extra.end(); ++it)
            fields.insert(it.key(), it.value());
        Headers headers;
        const QJsonObject sendTo = endpoint.value(QLatin1String("send")).toObject();
        const QString in = sendTo.value(QLatin1String("in")).toString();
        const QString name = sendTo.value(QLatin1String("name")).toString();
        if (in == QLatin1String("body"))
            fields.insert(name, tokens.refresh);
        else if (in == QLatin1String("cookie"))
            headers.append({ "Cookie", name.toLatin1() + '=' + tokens.refresh.toLatin1() });
        // changePassword goes through the authorized manager like any request.
        if (endpoint.value(QLatin1String("bearer")).toBool() || in == QLatin1String("bearer")
            || key == QLatin1String("changePassword"))
            headers.append({ "Authorization", "Bearer " + tokens.access.toLatin1() });
        const QByteArray verb
            = endpoint.value(QLatin1String("method")).toString(QStringLiteral("POST")).toLatin1();
        const QString path = endpoint.value(QLatin1String("path")).toString();
        if (endpoint.value(QLatin1String("encoding")).toString() == QLatin1String("form")) {
            QUrlQuery query;
            for (auto it = fields.begin(); it != fields.end(); ++it)
                query.addQueryItem(
                    it.key(), QString::fromLatin1(QUrl::toPercentEncoding(it.value().toString())));
            headers.prepend({ "Content-Type", "application/x-www-form-urlencoded" });
            return send(verb, path, query.query(QUrl::FullyEncoded).toLatin1(), headers);
        }
        return send(verb, path, json(fields), headers);
    };
    const auto credentials = [&](const QString &key, const QString &email,
                                 const QString &password) {
        const QJsonObject names = at(p, QStringLiteral("/%1/fields").arg(key)).toObject();
        return QJsonObject {
            { names.value(QLatin1String("identity")).toString(QStringLiteral("email")), email },
            { names.value(QLatin1String("password")).toString(QStringLiteral("password")),
                password }
        };
    };
    const auto tokensFrom = [&](const Response &r, const Tokens &previous) {
        Tokens t;
        t.access = at(r.json(), str(QStringLiteral("/tokens/access"))).toString();
        if (str(QStringLiteral("/tokens/refresh/in")) == QLatin1String("cookie"))
            t.refresh = QString::fromLatin1(
                setCookieValue(r, str(QStringLiteral("/tokens/refresh/name")).toLatin1()));
        else
            t.refresh = at(r.json(), str(QStringLiteral("/tokens/refresh/pointer"))).toString();
        if (t.refresh.isEmpty())
            t.refresh = previous.refresh; // "a refresh response without a new refresh token keeps
                                          // the old one"
        return t;
    };
    const auto message = [&](const Response &r) {
        const QJsonArray pointers = at(p, QStringLiteral("/errors/message")).toArray();
        for (const QJsonValue &pointer : pointers) {
            const QJsonValue v = at(r.json(), pointer.toString());
            if (v.isString() && !v.toString().isEmpty())
                return v.toString();
        }
        return QString();
    };

    // Sign in.
    const Response login = call(QStringLiteral("login"),
        credentials(QStringLiteral("login"), guestEmail, guestPassword), {});
    QCOMPARE(login.status, 200);
    const Tokens first = tokensFrom(login, {});
    QVERIFY(!first.access.isEmpty());
    QCOMPARE(first.refresh.size(), 43);
    if (!str(QStringLiteral("/tokens/expiresIn")).isEmpty())
        QCOMPARE(at(login.json(), str(QStringLiteral("/tokens/expiresIn"))).toInt(), 900);
    if (!str(QStringLiteral("/tokens/user")).isEmpty())
        QVERIFY(at(login.json(), str(QStringLiteral("/tokens/user"))).isObject());
    const QJsonObject claims = claimsOf(first.access);
    const QString rolesPointer = str(QStringLiteral("/claims/roles"));
    const QJsonValue roles
        = at(claims, rolesPointer.isEmpty() ? QStringLiteral("/roles") : rolesPointer);
    QVERIFY2(roles.isString() || roles.isArray(), qPrintable(rolesPointer));

    // The test suite's endpoints.
    const QString protectedGet = str(QStringLiteral("/endpoints/protectedGet"));
    const QString echoPath = str(QStringLiteral("/endpoints/echo"));
    QCOMPARE(get(protectedGet, first.access).status, 200);
    QCOMPARE(get(protectedGet).status, 401);
    const Response echoed = send("POST", echoPath, "{\"a\":1}",
        { { "Authorization", "Bearer " + first.access.toLatin1() } });
    QCOMPARE(echoed.body, QByteArrayLiteral("{\"a\":1}"));
    if (p.contains(QLatin1String("me"))) {
        const QJsonValue me = p.value(QLatin1String("me"));
        const QString mePath
            = me.isObject() ? me.toObject().value(QLatin1String("path")).toString() : me.toString();
        const Response profileAnswer = get(mePath, first.access);
        QCOMPARE(profileAnswer.status, 200);
        if (me.isObject())
            QVERIFY(at(profileAnswer.json(), me.toObject().value(QLatin1String("user")).toString())
                        .isObject());
    }

    // Refresh rotates; sign-out revokes.
    const Response refreshed = call(QStringLiteral("refresh"), {}, first);
    QCOMPARE(refreshed.status, 200);
    const Tokens second = tokensFrom(refreshed, first);
    QVERIFY(!second.access.isEmpty());
    QVERIFY(second.refresh != first.refresh);
    QCOMPARE(get(protectedGet, second.access).status, 200);
    if (p.contains(QLatin1String("logout"))) {
        const Response out = call(QStringLiteral("logout"), {}, second);
        QVERIFY2(out.status >= 200 && out.status < 300, out.body.constData());
        const Response after = call(QStringLiteral("refresh"), {}, second);
        QVERIFY2(after.status == 401 || after.status == 400, after.body.constData());
        QVERIFY(!message(after).isEmpty());
    }

    // Errors through the profile's pointers.
    const Response bad = call(QStringLiteral("login"),
        credentials(QStringLiteral("login"), guestEmail, QStringLiteral("Wrong-2026!")), {});
    QVERIFY(bad.status == 401 || bad.status == 400);
    QVERIFY(!message(bad).isEmpty());
    for (int i = 0; i < 4; ++i)
        call(QStringLiteral("login"),
            credentials(QStringLiteral("login"), guestEmail, QStringLiteral("Wrong-2026!")), {});
    const Response locked = call(QStringLiteral("login"),
        credentials(QStringLiteral("login"), guestEmail, guestPassword), {});
    QVERIFY(QDateTime::fromString(
        at(locked.json(), str(QStringLiteral("/errors/lockedUntil"))).toString(), Qt::ISODate)
                .isValid());
    QVERIFY(!message(locked).isEmpty());
    if (p.contains(QLatin1String("register"))) {
        const Response weak = call(QStringLiteral("register"),
            credentials(QStringLiteral("register"), QStringLiteral("p@example.com"),
                QStringLiteral("weak")),
            {});
        QCOMPARE(weak.status, 400);
        QVERIFY(!message(weak).isEmpty());
        QVERIFY(at(weak.json(), str(QStringLiteral("/errors/requirements"))).toArray().size() >= 3);
        const Response created = call(QStringLiteral("register"),
            credentials(QStringLiteral("register"), QStringLiteral("p@example.com"),
                QStringLiteral("Zebra-Lamp-42")),
            {});
        QCOMPARE(created.status, 201);
    }
    if (p.contains(QLatin1String("changePassword"))) {
        const Tokens manager = tokensFrom(
            call(QStringLiteral("login"),
                credentials(QStringLiteral("login"), managerEmail, managerPassword), {}),
            {});
        const QJsonObject names = at(p, QStringLiteral("/changePassword/fields")).toObject();
        const Response changed = call(QStringLiteral("changePassword"),
            { { names.value(QLatin1String("current")).toString(), managerPassword },
                { names.value(QLatin1String("new")).toString(),
                    QStringLiteral("New-Pass-2027!") } },
            { manager.access, {} });
        QCOMPARE(changed.status, 200);
    }
    const QString apiKeyGet = str(QStringLiteral("/endpoints/apiKeyGet"));
    if (!apiKeyGet.isEmpty()) {
        const Response created = post(str(QStringLiteral("/endpoints/apiKeys")),
            { { QStringLiteral("name"), QStringLiteral("svc") } },
            { { "Authorization", "Bearer " + second.access.toLatin1() } });
        const QByteArray key
            = at(created.json(), QStringLiteral("/data/key")).toString().toLatin1();
        QCOMPARE(send("GET", apiKeyGet, {},
                     { { str(QStringLiteral("/apiKey/header")).toLatin1(), key } })
                     .status,
            200);
    }
}

// ---- dialect specifics ---------------------------------------------------------------------

void tst_Server::innhotelWireFormat()
{
    const Wire wire = wireFor(QStringLiteral("innhotel"));
    QVERIFY(startDialect(wire, testConfig()));
    const Response r = loginWith(wire, guestEmail, guestPassword);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().keys(),
        QStringList(
            { QStringLiteral("accessToken"), QStringLiteral("email"), QStringLiteral("roles") }));
    QCOMPARE(r.json().value(QLatin1String("email")).toString(), guestEmail);
    QCOMPARE(
        r.json().value(QLatin1String("roles")).toArray(), QJsonArray { QStringLiteral("User") });
    const QByteArray cookie = r.header("Set-Cookie");
    QVERIFY2(cookie.contains("; expires=") && cookie.contains("; path=/")
            && cookie.contains("; samesite=strict") && cookie.endsWith("; httponly"),
        cookie.constData());
    const QString access = tokensOf(wire, r).access;
    QCOMPARE(claimsOf(access).value(QLatin1String("role")).toString(), QStringLiteral("User"));
    QVERIFY(!claimsOf(access).contains(QLatin1String("permissions")));

    const Response none = get(QStringLiteral("/api/reservations"));
    QCOMPARE(none.json(),
        QJsonObject({ { QStringLiteral("status"), 401 },
            { QStringLiteral("message"),
                QStringLiteral("Unauthorized: authentication is required.") } }));
    const Response missing = send("POST", wire.refreshPath);
    QCOMPARE(missing.json().value(QLatin1String("message")).toString(),
        QStringLiteral("Refresh token is required."));
    QCOMPARE(loginWith(wire, guestEmail, QStringLiteral("x"))
                 .json()
                 .value(QLatin1String("message"))
                 .toString(),
        QStringLiteral("Invalid Credentials"));

    // Reservations are the guest's bookings.
    const Response list = get(QStringLiteral("/api/reservations"), access);
    QCOMPARE(list.json().value(QLatin1String("totalCount")).toInt(), 2);
    QCOMPARE(get(QStringLiteral("/api/employees"), access).status, 403);
    const QString admin = tokensOf(wire, loginWith(wire, managerEmail, managerPassword)).access;
    QCOMPARE(claimsOf(admin).value(QLatin1String("role")).toString(), QStringLiteral("Admin"));
    QCOMPARE(get(QStringLiteral("/api/employees"), admin)
                 .json()
                 .value(QLatin1String("totalCount"))
                 .toInt(),
        3);
    QCOMPARE(get(QStringLiteral("/api/auth/me"), access)
                 .json()
                 .value(QLatin1String("firstName"))
                 .toString(),
        QStringLiteral("Grace"));

    // Logout needs the bearer (and the cookie).
    const Tokens tokens = tokensOf(wire, loginWith(wire, guestEmail, guestPassword));
    QCOMPARE(send("POST", wire.logoutPath, {},
                 { { "Cookie", "refreshToken=" + tokens.refresh.toLatin1() } })
                 .status,
        401);
    QCOMPARE(send("POST", wire.logoutPath, {},
                 { { "Authorization", "Bearer " + tokens.access.toLatin1() } })
                 .status,
        400);
    const Response weak = post(QStringLiteral("/api/auth/register"),
        { { QStringLiteral("email"), QStringLiteral("a@b.test") },
            { QStringLiteral("password"), QStringLiteral("x") } });
    QCOMPARE(weak.header("Content-Type"), QByteArrayLiteral("application/problem+json"));
    QCOMPARE(weak.json().value(QLatin1String("title")).toString(),
        QStringLiteral("One or more validation errors occurred."));
}

void tst_Server::scheduleManagerWireFormat()
{
    const Wire wire = wireFor(QStringLiteral("schedule-manager"));
    QVERIFY(startDialect(wire, testConfig()));
    const Response r = loginWith(wire, managerEmail, managerPassword);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().keys(),
        QStringList({ QStringLiteral("access_token"), QStringLiteral("token_type"),
            QStringLiteral("user") }));
    QCOMPARE(r.json().value(QLatin1String("token_type")).toString(), QStringLiteral("bearer"));
    QCOMPARE(r.json().value(QLatin1String("user")).toObject(),
        QJsonObject({ { QStringLiteral("email"), managerEmail },
            { QStringLiteral("role"), QStringLiteral("manager") } }));
    const QJsonObject claims = claimsOf(tokensOf(wire, r).access);
    QCOMPARE(claims.value(QLatin1String("role")).toString(), QStringLiteral("manager"));
    const QJsonArray permissions = claims.value(QLatin1String("permissions")).toArray();
    QCOMPARE(permissions.size(), 17);
    QVERIFY(permissions.contains(QStringLiteral("schedule:optimize")));
    QVERIFY(permissions.contains(QStringLiteral("rules:delete")));
    const Tokens manager = tokensOf(wire, r);
    QCOMPARE(get(QStringLiteral("/api/employees"), manager.access)
                 .json()
                 .value(QLatin1String("total"))
                 .toInt(),
        3);

    const Tokens employee = tokensOf(wire, loginWith(wire, guestEmail, guestPassword));
    const QJsonObject employeeClaims = claimsOf(employee.access);
    QCOMPARE(employeeClaims.value(QLatin1String("role")).toString(), QStringLiteral("employee"));
    QCOMPARE(employeeClaims.value(QLatin1String("permissions")).toArray(),
        QJsonArray({ QStringLiteral("employees:read_own"), QStringLiteral("schedules:read_own"),
            QStringLiteral("notifications:read_own"),
            QStringLiteral("notifications:update_own") }));
    QCOMPARE(get(QStringLiteral("/api/employees"), employee.access)
                 .json()
                 .value(QLatin1String("total"))
                 .toInt(),
        1);

    const Response refreshed = refreshWire(wire, employee.refresh);
    QCOMPARE(refreshed.json().keys(),
        QStringList({ QStringLiteral("access_token"), QStringLiteral("message") }));
    QCOMPARE(refreshed.json().value(QLatin1String("message")).toString(),
        QStringLiteral("Token refreshed successfully"));

    QCOMPARE(get(QStringLiteral("/api/employees")).json().value(QLatin1String("detail")).toString(),
        QStringLiteral("Not authenticated"));
    QCOMPARE(post(QStringLiteral("/test/expire-access-tokens"), {}).status, 204);
    QCOMPARE(get(QStringLiteral("/api/employees"), manager.access)
                 .json()
                 .value(QLatin1String("detail"))
                 .toString(),
        QStringLiteral("Token has expired"));
    QCOMPARE(loginWith(wire, guestEmail, QStringLiteral("x")).json(),
        QJsonObject({ { QStringLiteral("detail"), QStringLiteral("Invalid credentials") } }));
    QCOMPARE(post(wire.loginPath, { { QStringLiteral("email"), guestEmail } }).status, 422);
    // The seed's logout: the bearer alone is enough.
    const Tokens again = tokensOf(wire, loginWith(wire, guestEmail, guestPassword));
    QCOMPARE(send("POST", wire.logoutPath, {},
                 { { "Authorization", "Bearer " + again.access.toLatin1() } })
                 .status,
        200);
    QCOMPARE(send("POST", wire.logoutPath).status, 401);
}

void tst_Server::scheduleManagerRateLimitHeaders()
{
    const Wire wire = wireFor(QStringLiteral("schedule-manager"));
    ServerConfig config = testConfig();
    config.loginRateLimit = 5;
    config.loginRateWindowSeconds = 300;
    QVERIFY(startDialect(wire, config));
    useTestClock();
    const qint64 reset = (m_now + 300000 + 999) / 1000;
    for (int i = 0; i < 5; ++i) {
        const Response r
            = loginWith(wire, guestEmail, i == 2 ? guestPassword : QStringLiteral("x"));
        QCOMPARE(r.header("X-RateLimit-Limit"), QByteArrayLiteral("5"));
        QCOMPARE(r.header("X-RateLimit-Remaining"), QByteArray::number(4 - i));
        QCOMPARE(r.header("X-RateLimit-Reset"), QByteArray::number(reset));
        m_now += 1000;
    }
    const Response limited = loginWith(wire, guestEmail, guestPassword);
    QCOMPARE(limited.status, 429);
    QCOMPARE(limited.header("X-RateLimit-Remaining"), QByteArrayLiteral("0"));
    QCOMPARE(limited.header("Retry-After"), QByteArrayLiteral("295"));
    QCOMPARE(limited.json(),
        QJsonObject({ { QStringLiteral("detail"),
                          QStringLiteral("Rate limit exceeded. Try again in 295 seconds.") },
            { QStringLiteral("retry_after"), 295 } }));
    // Off: no headers.
    config.loginRateLimit = 0;
    QVERIFY(startDialect(wire, config));
    QVERIFY(loginWith(wire, guestEmail, guestPassword).header("X-RateLimit-Limit").isEmpty());
}

void tst_Server::hotelReviewsWireFormat()
{
    const Wire wire = wireFor(QStringLiteral("hotel-reviews"));
    QVERIFY(startDialect(wire, testConfig()));
    const Response r = loginWith(wire, guestEmail, guestPassword);
    QCOMPARE(r.status, 200);
    QCOMPARE(
        r.json().value(QLatin1String("message")).toString(), QStringLiteral("login successful"));
    const QJsonObject data = r.json().value(QLatin1String("data")).toObject();
    QCOMPARE(data.value(QLatin1String("expires_in")).toInt(), 900);
    QCOMPARE(data.value(QLatin1String("user")).toObject(),
        QJsonObject(
            { { QStringLiteral("id"), 1 }, { QStringLiteral("username"), QStringLiteral("guest") },
                { QStringLiteral("email"), guestEmail },
                { QStringLiteral("first_name"), QStringLiteral("Grace") },
                { QStringLiteral("last_name"), QStringLiteral("Guest") },
                { QStringLiteral("roles"), QJsonArray { QStringLiteral("user") } } }));
    QVERIFY(r.header("Set-Cookie").isEmpty()); // bodies only
    const Tokens tokens = tokensOf(wire, r);
    const QJsonObject claims = claimsOf(tokens.access);
    QCOMPARE(claims.value(QLatin1String("roles")).toArray(), QJsonArray { QStringLiteral("user") });
    QVERIFY(claims.value(QLatin1String("permissions"))
                .toArray()
                .contains(QStringLiteral("reviews:read")));

    const Response refreshed = refreshWire(wire, tokens.refresh);
    QCOMPARE(refreshed.json().value(QLatin1String("message")).toString(),
        QStringLiteral("token refreshed successfully"));
    QCOMPARE(at(refreshed.json(), QStringLiteral("/data/expires_in")).toInt(), 900);
    const Tokens next = tokensOf(wire, refreshed);
    const Headers auth { { "Authorization", "Bearer " + next.access.toLatin1() } };

    // Profile read and update.
    const Response profile = get(QStringLiteral("/api/v1/user/profile"), next.access);
    QCOMPARE(at(profile.json(), QStringLiteral("/data/user/email")).toString(), guestEmail);
    const Response updated = send("PUT", QStringLiteral("/api/v1/user/profile"),
        json({ { QStringLiteral("first_name"), QStringLiteral("John") },
            { QStringLiteral("last_name"), QStringLiteral("Smith") } }),
        auth);
    QCOMPARE(updated.status, 200);
    QCOMPARE(at(updated.json(), QStringLiteral("/data/user/last_name")).toString(),
        QStringLiteral("Smith"));
    QCOMPARE(at(get(QStringLiteral("/api/v1/user/profile"), next.access).json(),
                 QStringLiteral("/data/user/first_name"))
                 .toString(),
        QStringLiteral("John"));

    // Register keeps the username; errors are {message, error}.
    const Response created = post(QStringLiteral("/api/v1/auth/register"),
        { { QStringLiteral("username"), QStringLiteral("john_doe") },
            { QStringLiteral("email"), QStringLiteral("john@example.com") },
            { QStringLiteral("password"), QStringLiteral("SecurePassword123!") },
            { QStringLiteral("first_name"), QStringLiteral("John") },
            { QStringLiteral("last_name"), QStringLiteral("Doe") } });
    QCOMPARE(created.status, 201);
    QCOMPARE(at(created.json(), QStringLiteral("/data/user/username")).toString(),
        QStringLiteral("john_doe"));
    const Response none = get(QStringLiteral("/api/v1/bookings"));
    QCOMPARE(none.json().value(QLatin1String("error")).toString(), QStringLiteral("unauthorized"));
    QCOMPARE(loginWith(wire, guestEmail, QStringLiteral("x")).json(),
        QJsonObject({ { QStringLiteral("message"), QStringLiteral("invalid credentials") },
            { QStringLiteral("error"), QStringLiteral("unauthorized") } }));
    // Logout with the bearer alone is accepted (nothing to revoke), and needs some credential.
    QCOMPARE(send("POST", wire.logoutPath, {}, auth).status, 200);
    QCOMPARE(send("POST", wire.logoutPath).status, 401);
}

void tst_Server::hotelReviewsAdmin()
{
    const Wire wire = wireFor(QStringLiteral("hotel-reviews"));
    QVERIFY(startDialect(wire, testConfig()));
    const QString user = tokensOf(wire, loginWith(wire, guestEmail, guestPassword)).access;
    const QString admin = tokensOf(wire, loginWith(wire, managerEmail, managerPassword)).access;
    QCOMPARE(claimsOf(admin).value(QLatin1String("roles")).toArray(),
        QJsonArray { QStringLiteral("admin") });
    const Response denied = get(QStringLiteral("/api/v1/admin/users"), user);
    QCOMPARE(denied.status, 403);
    QCOMPARE(denied.json().value(QLatin1String("error")).toString(), QStringLiteral("forbidden"));
    QCOMPARE(
        at(get(QStringLiteral("/api/v1/admin/users"), admin).json(), QStringLiteral("/data/total"))
            .toInt(),
        3);
    QCOMPARE(at(get(QStringLiteral("/api/v1/admin/users/1"), admin).json(),
                 QStringLiteral("/data/user/email"))
                 .toString(),
        guestEmail);
    QCOMPARE(get(QStringLiteral("/api/v1/admin/users/99"), admin).status, 404);
    QCOMPARE(get(QStringLiteral("/api/v1/admin/users/abc"), admin).status, 404);

    const Headers adminAuth { { "Authorization", "Bearer " + admin.toLatin1() } };
    QCOMPARE(post(QStringLiteral("/api/v1/admin/users/1/roles"),
                 { { QStringLiteral("role_id"), QStringLiteral("root") } }, adminAuth)
                 .status,
        400);
    const Response assigned = post(QStringLiteral("/api/v1/admin/users/1/roles"),
        { { QStringLiteral("role_id"), QStringLiteral("admin") } }, adminAuth);
    QCOMPARE(assigned.status, 200);
    QCOMPARE(at(assigned.json(), QStringLiteral("/data/user/roles")).toArray(),
        QJsonArray { QStringLiteral("admin") });
    // The next token of that user says so; the old one still carries the old claims.
    const QString promoted = tokensOf(wire, loginWith(wire, guestEmail, guestPassword)).access;
    QCOMPARE(claimsOf(promoted).value(QLatin1String("roles")).toArray(),
        QJsonArray { QStringLiteral("admin") });
    QCOMPARE(get(QStringLiteral("/api/v1/admin/users"), promoted).status, 200);
    QCOMPARE(
        get(QStringLiteral("/api/v1/admin/users"), user).status, 200); // roles come from the db
    QCOMPARE(send("DELETE", QStringLiteral("/api/v1/admin/users")).status, 405);
}

void tst_Server::hotelReviewsApiKeys()
{
    const Wire wire = wireFor(QStringLiteral("hotel-reviews"));
    QVERIFY(startDialect(wire, testConfig()));
    const QString access = tokensOf(wire, loginWith(wire, guestEmail, guestPassword)).access;
    const Headers auth { { "Authorization", "Bearer " + access.toLatin1() } };
    const QString status = QStringLiteral("/api/v1/service/status");

    const Response missing = get(status);
    QCOMPARE(missing.status, 401);
    QCOMPARE(missing.json().value(QLatin1String("message")).toString(),
        QStringLiteral("API key required"));
    QVERIFY(missing.header("WWW-Authenticate").startsWith("ApiKey"));
    QCOMPARE(get(status, access).status, 401); // a bearer is not an API key

    QCOMPARE(post(QStringLiteral("/api/v1/api-keys"),
                 { { QStringLiteral("name"), QStringLiteral("k") } })
                 .status,
        401);
    QCOMPARE(post(QStringLiteral("/api/v1/api-keys"),
                 { { QStringLiteral("scopes"), QJsonArray() } }, auth)
                 .status,
        400);
    QCOMPARE(post(QStringLiteral("/api/v1/api-keys"),
                 { { QStringLiteral("name"), QStringLiteral("k") },
                     { QStringLiteral("expires_at"), QStringLiteral("2001-01-01T00:00:00Z") } },
                 auth)
                 .status,
        400);
    const Response created = post(QStringLiteral("/api/v1/api-keys"),
        { { QStringLiteral("name"), QStringLiteral("My API Key") },
            { QStringLiteral("scopes"),
                QJsonArray { QStringLiteral("reviews.read"), QStringLiteral("hotels.read") } },
            { QStringLiteral("expires_at"), QStringLiteral("2099-12-31T23:59:59Z") } },
        auth);
    QCOMPARE(created.status, 201);
    const QString key = at(created.json(), QStringLiteral("/data/key")).toString();
    QVERIFY2(key.startsWith(QLatin1String("hr_")) && key.size() == 35, qPrintable(key));
    const QJsonObject record = at(created.json(), QStringLiteral("/data/api_key")).toObject();
    const int id = record.value(QLatin1String("id")).toInt();
    QCOMPARE(record.value(QLatin1String("key_prefix")).toString(), key.left(7));
    QCOMPARE(record.value(QLatin1String("expires_at")).toString(),
        QStringLiteral("2099-12-31T23:59:59Z"));
    QVERIFY(record.value(QLatin1String("last_used_at")).isNull());

    const Response served = send("GET", status, {}, { { "X-API-Key", key.toLatin1() } });
    QCOMPARE(served.status, 200);
    QCOMPARE(at(served.json(), QStringLiteral("/data/api_key/name")).toString(),
        QStringLiteral("My API Key"));
    QCOMPARE(at(served.json(), QStringLiteral("/data/api_key/user_id")).toInt(), 1);
    QCOMPARE(send("GET", status, {}, { { "X-API-Key", key.toLatin1() + 'x' } }).status, 401);

    // Listed without the key itself; the key is stored only as a hash.
    const Response list = get(QStringLiteral("/api/v1/api-keys"), access);
    const QJsonArray keys = at(list.json(), QStringLiteral("/data/api_keys")).toArray();
    QCOMPARE(keys.size(), 1);
    QVERIFY(!list.body.contains(key.toLatin1()));
    QVERIFY(!keys.at(0).toObject().value(QLatin1String("last_used_at")).isNull());
    const auto stored = m_server->authService()->database().apiKeysOfUser(1);
    QCOMPARE(stored.size(), 1);
    QVERIFY(stored.first().keyHash != key.toLatin1());
    QCOMPARE(stored.first().keyHash.size(), 64);

    // Another user cannot delete it; its owner can, and then it stops working.
    const QString other = tokensOf(wire, loginWith(wire, managerEmail, managerPassword)).access;
    const QString path = QStringLiteral("/api/v1/api-keys/%1").arg(id);
    QCOMPARE(send("DELETE", path, {}, { { "Authorization", "Bearer " + other.toLatin1() } }).status,
        404);
    QCOMPARE(send("DELETE", path, {}, auth).status, 200);
    QCOMPARE(send("DELETE", path, {}, auth).status, 404);
    QCOMPARE(send("GET", status, {}, { { "X-API-Key", key.toLatin1() } }).status, 401);
    QCOMPARE(
        at(get(QStringLiteral("/api/v1/api-keys"), access).json(), QStringLiteral("/data/api_keys"))
            .toArray()
            .size(),
        0);

    // An expired key is refused.
    useTestClock();
    const Response soon = post(QStringLiteral("/api/v1/api-keys"),
        { { QStringLiteral("name"), QStringLiteral("soon") },
            { QStringLiteral("expires_at"),
                QDateTime::fromMSecsSinceEpoch(m_now + 60000, Qt::UTC).toString(Qt::ISODate) } },
        auth);
    const QByteArray soonKey = at(soon.json(), QStringLiteral("/data/key")).toString().toLatin1();
    QCOMPARE(send("GET", status, {}, { { "X-API-Key", soonKey } }).status, 200);
    m_now += 60000;
    QCOMPARE(send("GET", status, {}, { { "X-API-Key", soonKey } }).status, 401);
}

// ---- lockout and rate limit ----------------------------------------------------------------

void tst_Server::lockoutCountsOnlyFailuresWithinTheWindow()
{
    ServerConfig config = testConfig();
    config.lockoutWindowSeconds = 60;
    QVERIFY(startDialect(wireFor(QStringLiteral("latchkey")), config));
    useTestClock();
    for (int i = 0; i < 4; ++i)
        QCOMPARE(login(guestEmail, QStringLiteral("Wrong-2026!")).status, 401);
    m_now += 61000; // those four leave the window
    for (int i = 0; i < 4; ++i)
        QCOMPARE(login(guestEmail, QStringLiteral("Wrong-2026!")).status, 401);
    QCOMPARE(login(guestEmail, guestPassword).status, 200); // 4 in the window: not locked
    // A success starts counting afresh.
    for (int i = 0; i < 4; ++i)
        QCOMPARE(login(guestEmail, QStringLiteral("Wrong-2026!")).status, 401);
    QCOMPARE(login(guestEmail, guestPassword).status, 200);
    for (int i = 0; i < 5; ++i)
        QCOMPARE(login(guestEmail, QStringLiteral("Wrong-2026!")).status, 401);
    QCOMPARE(login(guestEmail, guestPassword).status, 423);
}

void tst_Server::lockoutExpires()
{
    ServerConfig config = testConfig();
    config.lockoutThreshold = 2;
    config.lockoutSeconds = 300;
    QVERIFY(startServer(config));
    useTestClock();
    QCOMPARE(login(guestEmail, QStringLiteral("Wrong-2026!")).status, 401);
    QCOMPARE(login(guestEmail, QStringLiteral("Wrong-2026!")).status, 401);
    const Response locked = login(guestEmail, guestPassword);
    QCOMPARE(locked.status, 423);
    QCOMPARE(locked.header("Retry-After"), QByteArrayLiteral("300"));
    QCOMPARE(locked.json().value(QLatin1String("locked_until")).toString(),
        QDateTime::fromMSecsSinceEpoch(m_now + 300000, Qt::UTC).toString(Qt::ISODate));
    m_now += 299000;
    QCOMPARE(login(guestEmail, guestPassword).status, 423);
    m_now += 1000;
    QCOMPARE(login(guestEmail, guestPassword).status, 200);
}

void tst_Server::rateLimiterIsPerKeyAndSliding()
{
    RateLimiter limiter(2, 10000);
    QVERIFY(limiter.hit(QStringLiteral("a"), 0).allowed);
    const RateLimiter::Decision second = limiter.hit(QStringLiteral("a"), 4000);
    QVERIFY(second.allowed);
    QCOMPARE(second.remaining, 0);
    QCOMPARE(second.resetAtMs, 10000);
    const RateLimiter::Decision third = limiter.hit(QStringLiteral("a"), 5000);
    QVERIFY(!third.allowed);
    QCOMPARE(third.retryAfterSeconds, 5);
    QVERIFY(limiter.hit(QStringLiteral("b"), 5000).allowed); // another address
    QVERIFY(!limiter.hit(QStringLiteral("a"), 9999).allowed);
    QVERIFY(limiter.hit(QStringLiteral("a"), 10000).allowed); // the first hit aged out
    QVERIFY(!limiter.hit(QStringLiteral("a"), 10001).allowed);
    RateLimiter off(0, 1000);
    for (int i = 0; i < 100; ++i)
        QVERIFY(off.hit(QStringLiteral("a"), 0).allowed);
}

// ---- OAuth2 --------------------------------------------------------------------------------

void tst_Server::oauth2Errors()
{
    const QString token = QStringLiteral("/oauth/token");
    const struct
    {
        QByteArray body;
        int status;
        const char *error;
    } rows[] = {
        { "grant_type=password&username=guest%40latchkey.test&password=nope&client_id=latchkey-"
          "demo",
            400, "invalid_grant" },
        { "grant_type=password&username=nobody%40x.test&password=Guest-2026%21&client_id=latchkey-"
          "demo",
            400, "invalid_grant" },
        { "grant_type=refresh_token&refresh_token=unknown&client_id=latchkey-demo", 400,
            "invalid_grant" },
        { "grant_type=password&username=guest%40latchkey.test&client_id=latchkey-demo", 400,
            "invalid_request" },
        { "grant_type=refresh_token&client_id=latchkey-demo", 400, "invalid_request" },
        { "client_id=latchkey-demo", 400, "invalid_request" },
        { "grant_type=client_credentials&client_id=latchkey-demo", 400, "unsupported_grant_type" },
        { "grant_type=password&grant_type=password&username=a&password=b&client_id=latchkey-demo",
            400, "invalid_request" },
        { "grant_type=password&username=guest%40latchkey.test&password=Guest-2026%21", 401,
            "invalid_client" },
        { "grant_type=password&username=guest%40latchkey.test&password=Guest-2026%21"
          "&client_id=evil",
            401, "invalid_client" },
    };
    for (const auto &row : rows) {
        const Response r = form(token, row.body);
        QVERIFY2(r.status == row.status, row.body.constData());
        QCOMPARE(r.json().value(QLatin1String("error")).toString(), QLatin1String(row.error));
        QVERIFY(!r.json().value(QLatin1String("error_description")).toString().isEmpty());
        QCOMPARE(r.header("Cache-Control"), QByteArrayLiteral("no-store"));
    }
    // JSON instead of a form.
    const Response asJson = post(token,
        { { QStringLiteral("grant_type"), QStringLiteral("password") },
            { QStringLiteral("client_id"), QStringLiteral("latchkey-demo") } });
    QCOMPARE(asJson.status, 400);
    QCOMPARE(
        asJson.json().value(QLatin1String("error")).toString(), QStringLiteral("invalid_request"));
    const Response getToken = get(token);
    QCOMPARE(getToken.status, 405);
    QCOMPARE(getToken.header("Allow"), QByteArrayLiteral("POST"));
    // A 400 from the token endpoint is not a bearer failure.
    QCOMPARE(metric("latchkey_unauthorized_total"), 0.0);
    QCOMPARE(metric("latchkey_logins_total{result=\"invalid\"}"), 2.0);
}

void tst_Server::oauth2ClientIds()
{
    ServerConfig config = testConfig();
    config.oauthClients << QStringLiteral("my-app");
    QVERIFY(startServer(config));
    const QByteArray grant = "grant_type=password&username=guest%40latchkey.test"
                             "&password=Guest-2026%21";
    QCOMPARE(form(QStringLiteral("/oauth/token"), grant + "&client_id=my-app").status, 200);
    QCOMPARE(form(QStringLiteral("/oauth/token"), grant + "&client_id=latchkey-demo").status, 200);
    // HTTP Basic with the client id and an empty secret (RFC 6749 §2.3.1).
    QCOMPARE(form(QStringLiteral("/oauth/token"), grant,
                 { { "Authorization", "Basic " + QByteArray("my-app:").toBase64() } })
                 .status,
        200);
    const Response wrongBasic = form(QStringLiteral("/oauth/token"), grant,
        { { "Authorization", "Basic " + QByteArray("other:").toBase64() } });
    QCOMPARE(wrongBasic.status, 401);
    QCOMPARE(wrongBasic.json().value(QLatin1String("error")).toString(),
        QStringLiteral("invalid_client"));
    QVERIFY(wrongBasic.header("WWW-Authenticate").startsWith("Basic"));
    // '+' in a form value is a space: "a+b" is not a known client.
    QCOMPARE(form(QStringLiteral("/oauth/token"), grant + "&client_id=my+app").status, 401);

    ServerConfig parsed;
    QString error;
    bool exitEarly = false;
    QVERIFY(parsed.parse(
        { QStringLiteral("latchkey-server"), QStringLiteral("--oauth-client"), QStringLiteral("a"),
            QStringLiteral("--oauth-client"), QStringLiteral("b") },
        &error, &exitEarly));
    QCOMPARE(parsed.oauthClients,
        QStringList({ QStringLiteral("latchkey-demo"), QStringLiteral("a"), QStringLiteral("b") }));
}

void tst_Server::oauth2Revoke()
{
    const Tokens tokens = signIn();
    const Tokens other = signIn();
    const QString revoke = QStringLiteral("/oauth/revoke");
    const Response r = form(revoke,
        "token=" + tokens.refresh.toLatin1()
            + "&token_type_hint=refresh_token&client_id=latchkey-demo");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("Cache-Control"), QByteArrayLiteral("no-store"));
    QCOMPARE(refreshWith(tokens.refresh).status, 401);
    QCOMPARE(refreshWith(other.refresh).status, 200);
    // Unknown tokens, access tokens and repeats: still 200 (RFC 7009 §2.2).
    QCOMPARE(form(revoke, "token=unknown&client_id=latchkey-demo").status, 200);
    QCOMPARE(
        form(revoke, "token=" + tokens.access.toLatin1() + "&client_id=latchkey-demo").status, 200);
    QCOMPARE(form(revoke, "token=" + tokens.refresh.toLatin1() + "&client_id=latchkey-demo").status,
        200);
    const Response noToken = form(revoke, "client_id=latchkey-demo");
    QCOMPARE(noToken.status, 400);
    QCOMPARE(
        noToken.json().value(QLatin1String("error")).toString(), QStringLiteral("invalid_request"));
    const Response noClient = form(revoke, "token=" + other.refresh.toLatin1());
    QCOMPARE(noClient.status, 401);
    QCOMPARE(
        noClient.json().value(QLatin1String("error")).toString(), QStringLiteral("invalid_client"));
}

void tst_Server::oauth2LockoutAndRateLimit()
{
    ServerConfig config = testConfig();
    config.loginRateLimit = 7;
    QVERIFY(startServer(config));
    const QByteArray wrong = "grant_type=password&username=guest%40latchkey.test&password=x"
                             "&client_id=latchkey-demo";
    for (int i = 0; i < 5; ++i)
        QCOMPARE(form(QStringLiteral("/oauth/token"), wrong).status, 400);
    const Response locked = form(QStringLiteral("/oauth/token"),
        "grant_type=password&username=guest%40latchkey.test&password=Guest-2026%21"
        "&client_id=latchkey-demo");
    QCOMPARE(locked.status, 400);
    QCOMPARE(
        locked.json().value(QLatin1String("error")).toString(), QStringLiteral("invalid_grant"));
    QVERIFY(locked.json()
                .value(QLatin1String("error_description"))
                .toString()
                .startsWith(QLatin1String("Account locked until ")));
    QVERIFY(QDateTime::fromString(
        locked.json().value(QLatin1String("locked_until")).toString(), Qt::ISODate)
                .isValid());
    QCOMPARE(metric("latchkey_logins_total{result=\"locked\"}"), 1.0);
    QCOMPARE(form(QStringLiteral("/oauth/token"), wrong).status, 400); // the 7th attempt
    const Response limited = form(QStringLiteral("/oauth/token"), wrong);
    QCOMPARE(limited.status, 429);
    QVERIFY(limited.header("Retry-After").toInt() > 0);
    QCOMPARE(limited.json().value(QLatin1String("error")).toString(),
        QStringLiteral("temporarily_unavailable"));
    QCOMPARE(metric("latchkey_logins_total{result=\"rate_limited\"}"), 1.0);
}

void tst_Server::oauth2DialectHasNoNativeAuthRoutes()
{
    ServerConfig config = testConfig();
    config.dialect = QStringLiteral("oauth2");
    m_server.reset();
    QVERIFY(startServer(config));
    QCOMPARE(login(guestEmail, guestPassword).status, 404);
    const Response r = form(QStringLiteral("/oauth/token"),
        "grant_type=password&username=guest%40latchkey.test&password=Guest-2026%21"
        "&client_id=latchkey-demo");
    QCOMPARE(r.status, 200);
    const QString access = r.json().value(QLatin1String("access_token")).toString();
    QCOMPARE(get(QStringLiteral("/api/bookings"), access).status, 200);
    QCOMPARE(get(QStringLiteral("/api/bookings")).status, 401);
}

QTEST_GUILESS_MAIN(tst_Server)
#include "tst_server.moc"
