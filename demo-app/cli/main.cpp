// latchkey-cli: a thin command-line client of the Latchkey SDK (see clirunner.h).
#include "clioptions.h"
#include "clirunner.h"

#include <QCoreApplication>
#include <QLoggingCategory>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    // The keychain service name derives from these: "Latchkey/latchkey-cli".
    QCoreApplication::setOrganizationName(QStringLiteral("Latchkey"));
    QCoreApplication::setApplicationName(QStringLiteral("latchkey-cli"));
    QCoreApplication::setApplicationVersion(QStringLiteral(LATCHKEY_CLI_VERSION));

    QString defaultBaseUrl = qEnvironmentVariable("LATCHKEY_BASE_URL");
    if (defaultBaseUrl.isEmpty())
        defaultBaseUrl = QStringLiteral("http://127.0.0.1:8080");

    LatchkeyCli::CliOptions options;
    const auto parsed
        = LatchkeyCli::CliOptions::parse(QCoreApplication::arguments(), defaultBaseUrl, &options);
    if (!parsed.run) {
        if (!parsed.output.isEmpty())
            LatchkeyCli::printOut(parsed.output);
        if (!parsed.error.isEmpty())
            LatchkeyCli::printError(parsed.error);
        return parsed.exitCode;
    }

    // The SDK's log: warnings only, everything with --verbose (tokens are redacted there).
    // QT_LOGGING_RULES still overrides this.
    QLoggingCategory::setFilterRules(options.verbose ? QStringLiteral("latchkey.*=true")
                                                     : QStringLiteral("latchkey.*.debug=false\n"
                                                                      "latchkey.*.info=false"));

    LatchkeyCli::CliRunner runner(options);
    QObject::connect(&runner, &LatchkeyCli::CliRunner::finished, &app,
        [](int exitCode) { QCoreApplication::exit(exitCode); });
    runner.start();
    return app.exec();
}
