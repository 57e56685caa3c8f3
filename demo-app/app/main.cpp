// latchkey-demo: the Qt Quick demo app of Latchkey (pages in qml/, module LatchkeyDemo).
//
//   latchkey-demo [--base-url URL] [--profile NAME|FILE] [--store keychain|memory]
//                 [--issuer URL --client-id ID [--scopes "openid ..."]]
//                 [--page NAME] [--sign-in IDENTITY] [--screenshot FILE] [--size WxH]
//
// With --profile oidc (or any profile with an "oidc" key) --issuer and --client-id name the
// OpenID provider and the client registered there; the sign-in page then offers the browser and
// another device, and --page device starts a device sign-in (its code is shown once it came).
//
// --screenshot renders the window offscreen once the page has settled (its data loaded, nothing
// in flight) and writes it as PNG; with --sign-in the password comes from $LATCHKEY_PASSWORD.
#include "networkaccessmanagerfactory.h"
#include "session.h"

#include <latchkey/authreply.h>

#include <QCommandLineParser>
#include <QEventLoop>
#include <QGuiApplication>
#include <QQmlApplicationEngine>
#include <QQuickStyle>
#include <QQuickWindow>
#include <QTimer>
#include <QtQml/qqmlextensionplugin.h>

#include <cstdio>

Q_IMPORT_QML_PLUGIN(LatchkeyDemoPlugin)

namespace {

const QStringList pages { QStringLiteral("start"), QStringLiteral("signin"),
    QStringLiteral("register"), QStringLiteral("device"), QStringLiteral("dashboard"),
    QStringLiteral("bookings"), QStringLiteral("admin") };

int usage(const QString &message)
{
    std::fprintf(stderr, "latchkey-demo: %s\n", qPrintable(message));
    return 64;
}

// Waits for the root object's "settled" (and its page to be \a page), then grabs the window.
void screenshotWhenSettled(QQuickWindow *window, const QString &page, const QString &file)
{
    auto *poll = new QTimer(window);
    auto *deadline = new QTimer(window);
    deadline->setSingleShot(true);
    QObject::connect(deadline, &QTimer::timeout, window, [window, file] {
        std::fprintf(stderr, "latchkey-demo: the page did not settle within 30 s (page \"%s\")\n",
            qPrintable(window->property("page").toString()));
        QCoreApplication::exit(1);
    });
    QObject::connect(poll, &QTimer::timeout, window, [window, page, file, poll, deadline] {
        if (!window->property("settled").toBool())
            return;
        if (!page.isEmpty() && window->property("page").toString() != page)
            return;
        poll->stop();
        deadline->stop();
        const QImage image = window->grabWindow();
        if (image.isNull() || !image.save(file, "PNG")) {
            std::fprintf(stderr, "latchkey-demo: cannot write %s\n", qPrintable(file));
            QCoreApplication::exit(1);
            return;
        }
        std::printf("%s\n", qPrintable(file));
        QCoreApplication::exit(0);
    });
    poll->start(50);
    deadline->start(30000);
}

} // namespace

int main(int argc, char **argv)
{
    // A screenshot needs no screen: decide the platform before the application exists.
    for (int i = 1; i < argc; ++i) {
        if (qstrcmp(argv[i], "--screenshot") == 0 || qstrncmp(argv[i], "--screenshot=", 13) == 0) {
            if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
                qputenv("QT_QPA_PLATFORM", "offscreen");
        }
    }

    QGuiApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("Latchkey"));
    QCoreApplication::setApplicationName(QStringLiteral("latchkey-demo"));
    QGuiApplication::setApplicationDisplayName(QStringLiteral("Latchkey demo"));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("The Latchkey demo: sign in, the session, protected data, faults."));
    parser.addHelpOption();
    const QCommandLineOption baseUrlOption(QStringLiteral("base-url"),
        QStringLiteral("The server (default: $LATCHKEY_BASE_URL, else http://127.0.0.1:8080)."),
        QStringLiteral("URL"));
    const QCommandLineOption profileOption(QStringLiteral("profile"),
        QStringLiteral("A built-in profile name or a profile file (default: latchkey)."),
        QStringLiteral("NAME|FILE"), QStringLiteral("latchkey"));
    const QCommandLineOption storeOption(QStringLiteral("store"),
        QStringLiteral("Where the refresh token is kept: keychain (default) or memory."),
        QStringLiteral("keychain|memory"), QStringLiteral("keychain"));
    const QCommandLineOption issuerOption(QStringLiteral("issuer"),
        QStringLiteral("The OpenID provider of an OpenID Connect profile (--profile oidc)."),
        QStringLiteral("URL"));
    const QCommandLineOption clientIdOption(QStringLiteral("client-id"),
        QStringLiteral("The client registered at the OpenID provider."), QStringLiteral("ID"));
    const QCommandLineOption scopesOption(QStringLiteral("scopes"),
        QStringLiteral("The scopes to ask the OpenID provider for, separated by spaces (default: "
                       "the profile's)."),
        QStringLiteral("SCOPES"));
    const QCommandLineOption pageOption(QStringLiteral("page"),
        QStringLiteral("The page to open: %1.").arg(pages.join(QStringLiteral(", "))),
        QStringLiteral("NAME"));
    const QCommandLineOption signInOption(QStringLiteral("sign-in"),
        QStringLiteral("Sign in as IDENTITY at start (password from $LATCHKEY_PASSWORD) instead "
                       "of restoring the saved session."),
        QStringLiteral("IDENTITY"));
    const QCommandLineOption screenshotOption(QStringLiteral("screenshot"),
        QStringLiteral("Render the page offscreen once settled, write it to FILE (PNG), quit."),
        QStringLiteral("FILE"));
    const QCommandLineOption sizeOption(QStringLiteral("size"),
        QStringLiteral("Window size (default 1120x740)."), QStringLiteral("WxH"));
    parser.addOptions({ baseUrlOption, profileOption, storeOption, issuerOption, clientIdOption,
        scopesOption, pageOption, signInOption, screenshotOption, sizeOption });
    parser.process(app);

    QString base = parser.value(baseUrlOption);
    if (base.isEmpty())
        base = qEnvironmentVariable("LATCHKEY_BASE_URL", QStringLiteral("http://127.0.0.1:8080"));
    const QUrl baseUrl = QUrl::fromUserInput(base);
    if (!baseUrl.isValid() || baseUrl.host().isEmpty())
        return usage(QStringLiteral("not a URL: %1").arg(base));
    const QString page = parser.value(pageOption);
    if (!page.isEmpty() && !pages.contains(page))
        return usage(QStringLiteral("unknown page \"%1\" (one of %2)")
                         .arg(page, pages.join(QStringLiteral(", "))));
    const QString store = parser.value(storeOption);
    if (store != QLatin1String("keychain") && store != QLatin1String("memory"))
        return usage(QStringLiteral("--store is keychain or memory"));
    const QString signInAs = parser.value(signInOption);
    const QString password = qEnvironmentVariable("LATCHKEY_PASSWORD");
    if (!signInAs.isEmpty() && password.isEmpty())
        return usage(QStringLiteral("--sign-in needs the password in $LATCHKEY_PASSWORD"));
    QUrl issuer;
    if (parser.isSet(issuerOption)) {
        issuer = QUrl(parser.value(issuerOption), QUrl::StrictMode);
        if (!issuer.isValid() || issuer.host().isEmpty())
            return usage(
                QStringLiteral("--issuer is not a URL: %1").arg(parser.value(issuerOption)));
    }
    const QString clientId = parser.value(clientIdOption);
    const QStringList scopes
        = parser.value(scopesOption).split(QLatin1Char(' '), Qt::SkipEmptyParts);
    if (parser.value(profileOption) == QLatin1String("oidc")
        && (issuer.isEmpty() || clientId.isEmpty()))
        return usage(QStringLiteral("--profile oidc needs --issuer and --client-id"));
    QSize size(1120, 740);
    if (parser.isSet(sizeOption)) {
        const QStringList wh = parser.value(sizeOption).split(QLatin1Char('x'));
        size = wh.size() == 2 ? QSize(wh[0].toInt(), wh[1].toInt()) : QSize();
        if (size.width() < 320 || size.height() < 240)
            return usage(QStringLiteral("--size is WIDTHxHEIGHT, at least 320x240"));
    }

    if (qEnvironmentVariableIsEmpty("QT_QUICK_CONTROLS_STYLE"))
        QQuickStyle::setStyle(QStringLiteral("Fusion"));

    QQmlApplicationEngine engine;
    engine.addImportPath(QStringLiteral("qrc:/qt/qml"));
    // Before anything loads: XHR and Image to the API are authorized from the first request.
    Latchkey::QmlNetworkAccessManagerFactory::install(&engine);
    engine.setInitialProperties({
        { QStringLiteral("baseUrl"), baseUrl },
        { QStringLiteral("profile"), parser.value(profileOption) },
        { QStringLiteral("issuer"), issuer },
        { QStringLiteral("clientId"), clientId },
        { QStringLiteral("scopes"), scopes },
        { QStringLiteral("store"), store == QLatin1String("memory") ? 1 : 0 },
        { QStringLiteral("startPage"), page },
        { QStringLiteral("signInAs"), signInAs },
        { QStringLiteral("signInPassword"), password },
        { QStringLiteral("width"), size.width() },
        { QStringLiteral("height"), size.height() },
    });
    QObject::connect(
        &engine, &QQmlApplicationEngine::objectCreationFailed, &app,
        [] { QCoreApplication::exit(1); }, Qt::QueuedConnection);
    engine.load(QUrl(QStringLiteral("qrc:/qt/qml/LatchkeyDemo/Main.qml")));
    if (engine.rootObjects().isEmpty())
        return 1;

    if (parser.isSet(screenshotOption)) {
        auto *window = qobject_cast<QQuickWindow *>(engine.rootObjects().constFirst());
        if (!window)
            return 1;
        screenshotWhenSettled(window, page, parser.value(screenshotOption));
    }
    const int status = app.exec();

    // A refresh just before quitting rotated the refresh token: let the keychain write land, or
    // the next start finds a token the server has replaced (bounded: the keychain may hang).
    QEventLoop loop;
    int waiting = 0;
    for (auto *session :
        engine.rootObjects().constFirst()->findChildren<Latchkey::QmlSession *>()) {
        if (!session->client())
            continue;
        ++waiting;
        QObject::connect(
            session->client()->flush(), &Latchkey::AuthReply::finished, &loop, [&loop, &waiting] {
                if (--waiting == 0)
                    loop.quit();
            });
    }
    if (waiting > 0) {
        QTimer::singleShot(5000, &loop, &QEventLoop::quit);
        loop.exec();
    }
    return status;
}
