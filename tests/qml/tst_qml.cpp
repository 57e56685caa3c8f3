// Qt Quick Test suites of `import Latchkey` and of the demo app's pages, against a real
// latchkey-server. The setup object below starts the server once per process (from
// LATCHKEY_SERVER_PATH, through tests/support/serverprocess.h) and gives every test file the
// context property `testServer`: its baseUrl, the /test/* hooks and the /metrics counters.
// `testOidc` is a real OpenID provider (tests/support/oidcprovider.h), started on first use by
// the files that need one (tst_demo_oidc.qml), with the headless user agent in place of the
// person's browser.
#include "oidcprovider.h"
#include "serverprocess.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QQmlContext>
#include <QQmlEngine>
#include <QUuid>
#include <QtQuickTest>

#ifdef LATCHKEY_HAVE_DEMO_UI
#include <QtQml/qqmlextensionplugin.h>
Q_IMPORT_QML_PLUGIN(LatchkeyDemoPlugin) // the demo app's pages (tst_demo_*.qml)
#endif

class TestServer : public QObject
{
    Q_OBJECT
    Q_PROPERTY(QUrl baseUrl READ baseUrl CONSTANT)
    Q_PROPERTY(QString errorString READ errorString CONSTANT)
public:
    explicit TestServer(QObject *parent = nullptr)
        : QObject(parent)
    { }

    bool start()
    {
        // Cheap hashes; lockout after two failures (the sign-in page test); no per-address rate
        // limit, since every test signs in from 127.0.0.1.
        return m_server.start({ QStringLiteral("--pbkdf2-iterations"), QStringLiteral("1000"),
            QStringLiteral("--seed-demo"), QStringLiteral("--lockout-threshold"),
            QStringLiteral("2"), QStringLiteral("--login-rate-limit"), QStringLiteral("0") });
    }
    // Stops the server (a test of what the demo says while it is down); also at the end.
    Q_INVOKABLE void stop() { m_server.stop(); }

    QUrl baseUrl() const { return m_server.baseUrl(); }
    QString errorString() const { return m_server.errorString(); }

    // POST a JSON value (object) to a /test/… hook; the HTTP status (204 on success).
    Q_INVOKABLE int hook(const QString &path, const QVariantMap &body = {})
    {
        return m_server.hook(path, QJsonDocument::fromVariant(body).toJson(QJsonDocument::Compact));
    }
    // A counter from /metrics, e.g. `latchkey_refresh_total{result="ok"}`; -1 when absent.
    Q_INVOKABLE double metric(const QString &series) { return m_server.metric(series); }
    // An email nobody has used yet on this server.
    Q_INVOKABLE QString uniqueEmail(const QString &prefix) const
    {
        return prefix + QLatin1Char('-') + QUuid::createUuid().toString(QUuid::Id128).left(12)
            + QStringLiteral("@qml.test");
    }

private:
    LatchkeyTest::ServerProcess m_server;
};

class TestOidc : public QObject
{
    Q_OBJECT
    Q_PROPERTY(QUrl issuer READ issuer NOTIFY started)
    Q_PROPERTY(QString errorString READ errorString NOTIFY started)
public:
    explicit TestOidc(QObject *parent = nullptr)
        : QObject(parent)
    { }

    // Starts the provider once (polls every second: a device sign-in needs no 5 s wait); false
    // with errorString when node or its packages are missing (scripts/deps.sh).
    Q_INVOKABLE bool start()
    {
        if (!m_provider.issuer().isEmpty())
            return true;
        QString why;
        if (!LatchkeyTest::OidcProvider::available(&why)) {
            m_error = why;
        } else if (!m_provider.start(
                       { QStringLiteral("--device-interval"), QStringLiteral("1") })) {
            m_error = m_provider.errorString();
        }
        Q_EMIT started();
        return !m_provider.issuer().isEmpty();
    }
    void stop() { m_provider.stop(); }

    QUrl issuer() const { return m_provider.issuer(); }
    QString errorString() const { return m_error; }

    // The person in the browser: the headless user agent signs in (as alice) and consents on
    // the authorization URL, asynchronously; userAgentFinished(exitCode, output) when done.
    Q_INVOKABLE void authorize(const QUrl &url, const QStringList &args = {})
    {
        watch(m_provider.authorize(url, args));
    }
    // The person on another device: enters userCode at verificationUri and approves.
    Q_INVOKABLE void approveDevice(
        const QUrl &verificationUri, const QString &userCode, const QStringList &args = {})
    {
        watch(m_provider.approveDevice(verificationUri, userCode, args));
    }
    Q_INVOKABLE void expireDeviceCodes() { m_provider.expireDeviceCodes(); }

Q_SIGNALS:
    void started();
    void userAgentFinished(int exitCode, const QString &output);

private:
    void watch(QProcess *userAgent)
    {
        connect(userAgent, &QProcess::finished, this, [this, userAgent](int exitCode) {
            Q_EMIT userAgentFinished(
                exitCode, QString::fromUtf8(LatchkeyTest::OidcProvider::describe(userAgent)));
        });
    }

    LatchkeyTest::OidcProvider m_provider;
    QString m_error;
};

class Setup : public QObject
{
    Q_OBJECT
public slots:
    void applicationAvailable()
    {
        // The keychain service of these tests (KeychainTokenStore's default: org/app).
        QCoreApplication::setOrganizationName(QStringLiteral("Latchkey"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_qml"));
        if (!m_server.start())
            qFatal("latchkey-server: %s", qPrintable(m_server.errorString()));
    }
    void qmlEngineAvailable(QQmlEngine *engine)
    {
        // The modules in the build tree (Latchkey, LatchkeyDemo), also found in the resources of
        // the libraries linked in.
        engine->addImportPath(QStringLiteral(LATCHKEY_QML_IMPORT_PATH));
        engine->addImportPath(QStringLiteral("qrc:/qt/qml"));
        engine->rootContext()->setContextProperty(QStringLiteral("testServer"), &m_server);
        engine->rootContext()->setContextProperty(QStringLiteral("testOidc"), &m_oidc);
    }
    void cleanupTestCase()
    {
        m_oidc.stop();
        m_server.stop();
    }

private:
    TestServer m_server;
    TestOidc m_oidc;
};

QUICK_TEST_MAIN_WITH_SETUP(tst_qml, Setup)

#include "tst_qml.moc"
