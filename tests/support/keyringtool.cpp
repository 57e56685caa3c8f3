// latchkey-keyring-tool lock|unlock|status: the Secret Service of with-keyring.sh's private
// session bus, for shell tests (tests/auto/cli). Exit 0 on success; status prints
// "locked" or "unlocked".
#include "keyringcontrol.h"

#include <QCoreApplication>

#include <cstdio>

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    const QString command = args.size() == 2 ? args.at(1) : QString();
    QString error;
    bool ok = false;
    if (command == QLatin1String("lock")) {
        ok = LatchkeyTest::Keyring::lock(&error);
    } else if (command == QLatin1String("unlock")) {
        ok = LatchkeyTest::Keyring::unlock(&error);
    } else if (command == QLatin1String("status")) {
        std::puts(LatchkeyTest::Keyring::isLocked() ? "locked" : "unlocked");
        return 0;
    } else {
        std::fputs("usage: latchkey-keyring-tool lock|unlock|status\n", stderr);
        return 64;
    }
    if (!ok)
        std::fprintf(stderr, "latchkey-keyring-tool: %s\n", qPrintable(error));
    return ok ? 0 : 1;
}
