// latchkey-server: the reference auth server of the Latchkey project.
#include "authserver.h"
#include "serverconfig.h"
#include "serverlog.h"

#include <QCoreApplication>
#include <QSocketNotifier>

#include <cstdio>

#ifdef Q_OS_UNIX
#include <csignal>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace {
#ifdef Q_OS_UNIX
int signalPipe[2] = { -1, -1 };

void onSignal(int)
{
    const char byte = 1;
    [[maybe_unused]] const ssize_t n = ::write(signalPipe[0], &byte, 1); // async-signal-safe
}

// SIGTERM/SIGINT quit the event loop, so the database is closed cleanly.
void installSignalHandlers(QCoreApplication &app)
{
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, signalPipe) != 0)
        return;
    auto *notifier = new QSocketNotifier(signalPipe[1], QSocketNotifier::Read, &app);
    QObject::connect(notifier, &QSocketNotifier::activated, &app, [notifier] {
        notifier->setEnabled(false);
        char byte;
        [[maybe_unused]] const ssize_t n = ::read(signalPipe[1], &byte, 1);
        qCInfo(lcServer) << "signal received, shutting down";
        QCoreApplication::quit();
    });
    struct sigaction action = {};
    action.sa_handler = onSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);
}
#else
// Elsewhere Ctrl+C ends the process at once; SQLite's journal keeps the database consistent.
void installSignalHandlers(QCoreApplication &) { }
#endif
} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("latchkey-server"));
    QCoreApplication::setApplicationVersion(QStringLiteral(LATCHKEY_SERVER_VERSION));

    ServerConfig config;
    QString error;
    bool exitEarly = false;
    if (!config.parse(QCoreApplication::arguments(), &error, &exitEarly)) {
        std::fprintf(stderr, "latchkey-server: %s\nTry --help.\n", qPrintable(error));
        return 64; // EX_USAGE
    }

    AuthServer server(config);
    if (!server.start(&error)) {
        std::fprintf(stderr, "latchkey-server: %s\n", qPrintable(error));
        return 1;
    }
    installSignalHandlers(app);
    // The first stdout line is the contract with scripts and tests: they read the port from it.
    std::printf("listening on %s\n", server.baseUrl().toString().toUtf8().constData());
    std::fflush(stdout);
    return app.exec();
}
