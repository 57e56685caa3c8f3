// latchkey-bench: what the auth layer costs, side by side with raw QNetworkAccessManager and a
// naive client, in one run. See docs/benchmarks.md.

#include "bench.h"

#include "serverprocess.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QJsonDocument>
#include <QLibraryInfo>
#include <QTextStream>

#include <cstdio>

namespace LatchkeyBench {

namespace {
const QStringList allScenarios { QStringLiteral("overhead"), QStringLiteral("storm"),
    QStringLiteral("steady"), QStringLiteral("coldstart"), QStringLiteral("threads"),
    QStringLiteral("memory") };
const QStringList externalScenarios { QStringLiteral("overhead"), QStringLiteral("storm"),
    QStringLiteral("threads") };
} // namespace

qint64 mainStartNs = 0;

QString selfPath()
{
    return QCoreApplication::applicationFilePath();
}

Context::Context(const Options &o)
    : options(o)
    , m_options(o)
{ }

Context::~Context() = default;

bool Context::start(QString *error)
{
    if (external()) {
        QString why;
        profile = Latchkey::ServerProfile::load(
            m_options.profile.isEmpty() ? QStringLiteral("latchkey") : m_options.profile, &why);
        if (!profile.isValid()) {
            *error = QStringLiteral("profile: %1").arg(why);
            return false;
        }
        baseUrl = m_options.baseUrl;
        identity = m_options.identity;
        password = qEnvironmentVariable(qPrintable(m_options.passwordEnv));
        getPath = m_options.path;
        echoPath = m_options.echoPath;
        if (identity.isEmpty() || password.isEmpty() || getPath.isEmpty()) {
            *error = QStringLiteral("--base-url needs --identity, --password-env (a set variable) "
                                    "and --path");
            return false;
        }
        return true;
    }
    profile = Latchkey::ServerProfile::builtin(QStringLiteral("latchkey"));
    identity = QStringLiteral("guest@latchkey.test");
    password = QStringLiteral("Guest-2026!");
    getPath = m_options.path.isEmpty() ? QStringLiteral("/api/ping") : m_options.path;
    echoPath = m_options.echoPath.isEmpty() ? QStringLiteral("/api/echo") : m_options.echoPath;
    m_server = startServer({}, error);
    if (!m_server)
        return false;
    baseUrl = m_server->baseUrl();
    return true;
}

bool Context::wants(const QString &scenario) const
{
    if (external() && !externalScenarios.contains(scenario))
        return false;
    return m_options.scenarios.isEmpty() || m_options.scenarios.contains(scenario);
}

std::unique_ptr<LatchkeyTest::ServerProcess> Context::startServer(
    const QStringList &extraArgs, QString *error) const
{
    auto server = std::make_unique<LatchkeyTest::ServerProcess>();
    const QStringList args
        = QStringList { QStringLiteral("--seed-demo"), QStringLiteral("--pbkdf2-iterations"),
              QStringLiteral("1000"), QStringLiteral("--login-rate-limit"), QStringLiteral("0"),
              QStringLiteral("--lockout-threshold"), QStringLiteral("0") }
        + extraArgs;
    if (!server->start(args)) {
        if (error)
            *error = server->errorString();
        return nullptr;
    }
    return server;
}

double Context::refreshCalls(LatchkeyTest::ServerProcess *server) const
{
    if (!server)
        server = m_server.get();
    if (!server)
        return -1;
    double total = 0;
    for (const char *result : { "ok", "missing", "invalid", "reused", "injected" }) {
        const double v = server->metric(
            QStringLiteral("latchkey_refresh_total{result=\"%1\"}").arg(QLatin1String(result)));
        if (v > 0)
            total += v;
    }
    return total;
}

double Context::unauthorized(LatchkeyTest::ServerProcess *server) const
{
    if (!server)
        server = m_server.get();
    return server ? server->metric(QStringLiteral("latchkey_unauthorized_total")) : -1;
}

bool Context::expireAccessTokens() const
{
    return m_server && m_server->hook(QStringLiteral("/test/expire-access-tokens")) / 100 == 2;
}

QUrl Context::url(const QString &path) const
{
    QUrl u = baseUrl;
    QString base = u.path();
    if (base.endsWith(QLatin1Char('/')))
        base.chop(1);
    u.setPath(base + path);
    return u;
}

void Context::progress(const QString &line) const
{
    fprintf(stderr, "latchkey-bench: %s\n", qPrintable(line));
    fflush(stderr);
}

void Context::section(const QString &title, const QStringList &tableLines)
{
    text << QString() << QStringLiteral("## ") + title << QString() << tableLines;
}

void Context::result(const QString &scenario, const QJsonValue &value)
{
    results.insert(scenario, value);
}

void Context::check(const QString &name, bool ok, const QString &detail)
{
    checks.append(QJsonObject { { QStringLiteral("check"), name }, { QStringLiteral("ok"), ok },
        { QStringLiteral("detail"), detail } });
    if (!ok) {
        ++failedChecks;
        progress(QStringLiteral("CHECK FAILED: %1 (%2)").arg(name, detail));
    }
}

void Context::target(const QString &name, const QString &goal, const QString &measured, bool met,
    const QString &note)
{
    targets.append(QJsonObject { { QStringLiteral("target"), name },
        { QStringLiteral("goal"), goal }, { QStringLiteral("measured"), measured },
        { QStringLiteral("met"), met }, { QStringLiteral("note"), note } });
}

} // namespace LatchkeyBench

using namespace LatchkeyBench;

int main(int argc, char **argv)
{
    mainStartNs = monotonicNs();
    QCoreApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("Latchkey"));
    QCoreApplication::setApplicationName(QStringLiteral("latchkey-bench"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Measures Latchkey side by side with raw QNetworkAccessManager and a naive client: "
        "overhead, refresh storms, steady state, cold start, threads, memory."));
    parser.addHelpOption();
    const QCommandLineOption quick(QStringLiteral("quick"),
        QStringLiteral("Smoke mode: small counts, one repetition; checks the counts (refresh "
                       "calls = 1), never the times."));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print JSON."));
    const QCommandLineOption jsonFile(QStringLiteral("json-file"),
        QStringLiteral("Also write the JSON to FILE (for tests/bench/plot-storm.sh)."),
        QStringLiteral("FILE"));
    const QCommandLineOption reps(QStringLiteral("reps"),
        QStringLiteral("Repetitions of each measurement (default 5; median and spread)."),
        QStringLiteral("N"), QStringLiteral("5"));
    const QCommandLineOption scenario(QStringLiteral("scenario"),
        QStringLiteral("Run only these (repeatable): %1.")
            .arg(allScenarios.join(QStringLiteral(", "))),
        QStringLiteral("NAME"));
    const QCommandLineOption noCallgrind(QStringLiteral("no-callgrind"),
        QStringLiteral("Skip the valgrind instruction counts of the overhead scenario."));
    const QCommandLineOption steady(QStringLiteral("steady-seconds"),
        QStringLiteral("Length of the steady-state run (default 60; 6 with --quick)."),
        QStringLiteral("S"));
    const QCommandLineOption profile(QStringLiteral("profile"),
        QStringLiteral("Server profile (built-in name or JSON file) for --base-url."),
        QStringLiteral("FILE"));
    const QCommandLineOption baseUrl(QStringLiteral("base-url"),
        QStringLiteral("Measure this server instead of a built-in latchkey-server (scenarios "
                       "overhead, storm, threads)."),
        QStringLiteral("URL"));
    const QCommandLineOption identity(QStringLiteral("identity"),
        QStringLiteral("Account to sign in with."), QStringLiteral("ID"));
    const QCommandLineOption passwordEnv(QStringLiteral("password-env"),
        QStringLiteral("Environment variable holding the password."), QStringLiteral("VAR"));
    const QCommandLineOption path(QStringLiteral("path"),
        QStringLiteral("Protected GET path to request (built-in: /api/ping)."),
        QStringLiteral("PATH"));
    const QCommandLineOption echoPath(QStringLiteral("echo-path"),
        QStringLiteral("POST path that accepts a body (memory; built-in: /api/echo)."),
        QStringLiteral("PATH"));
    const QCommandLineOption child(QStringLiteral("child"),
        QStringLiteral("Internal: run as a measured child process."), QStringLiteral("KIND"));
    const QCommandLineOption count(
        QStringLiteral("count"), QStringLiteral("Internal: child count."), QStringLiteral("N"));
    const QCommandLineOption replay(
        QStringLiteral("replay"), QStringLiteral("Internal: memory child meets 401s."));
    const QCommandLineOption service(QStringLiteral("service"),
        QStringLiteral("Internal: keychain service."), QStringLiteral("NAME"));
    parser.addOptions({ quick, json, jsonFile, reps, scenario, noCallgrind, steady, profile,
        baseUrl, identity, passwordEnv, path, echoPath, child, count, replay, service });
    parser.process(app);

    Options o;
    o.quick = parser.isSet(quick);
    o.json = parser.isSet(json);
    o.reps = o.quick ? 1 : qMax(1, parser.value(reps).toInt());
    o.scenarios = parser.values(scenario);
    for (const QString &s : o.scenarios) {
        if (!allScenarios.contains(s)) {
            fprintf(stderr, "latchkey-bench: unknown scenario %s\n", qPrintable(s));
            return 64;
        }
    }
    o.callgrind = !o.quick && !parser.isSet(noCallgrind);
    o.steadySeconds = parser.isSet(steady) ? parser.value(steady).toDouble() : (o.quick ? 6 : 60);
    o.profile = parser.value(profile);
    o.baseUrl = QUrl(parser.value(baseUrl));
    o.identity = parser.value(identity);
    o.passwordEnv = parser.value(passwordEnv);
    o.path = parser.value(path);
    o.echoPath = parser.value(echoPath);
    o.child = parser.value(child);
    o.count = parser.value(count).toInt();
    o.replay = parser.isSet(replay);
    o.service = parser.value(service);

    if (!o.child.isEmpty())
        return runChild(o);

    // The servers' own log lines (reuse detected, hooks) would drown the progress lines.
    if (!qEnvironmentVariableIsSet("QT_LOGGING_RULES"))
        qputenv("QT_LOGGING_RULES", "latchkey.server.info=false\nlatchkey.server.warning=false");

    Context c(o);
    QString error;
    if (!c.start(&error)) {
        fprintf(stderr, "latchkey-bench: %s\n", qPrintable(error));
        return 69;
    }
    c.progress(QStringLiteral("%1 against %2%3")
                   .arg(o.quick ? QStringLiteral("quick run") : QStringLiteral("full run"),
                       c.baseUrl.toString(),
                       c.external() ? QString() : QStringLiteral(" (built-in latchkey-server)")));

    if (c.wants(QStringLiteral("overhead")))
        runOverhead(c);
    if (c.wants(QStringLiteral("storm")))
        runStorm(c);
    if (c.wants(QStringLiteral("steady")))
        runSteady(c);
    if (c.wants(QStringLiteral("coldstart")))
        runColdStart(c);
    if (c.wants(QStringLiteral("threads")))
        runThreads(c);
    if (c.wants(QStringLiteral("memory")))
        runMemory(c);

    const QJsonObject machine { { QStringLiteral("cpus"), cpuCount() },
        { QStringLiteral("cpu"), cpuModel() },
        { QStringLiteral("qt"), QString::fromLatin1(qVersion()) },
        { QStringLiteral("build"),
            QStringLiteral(
#ifdef NDEBUG
                "release"
#else
                "debug"
#endif
                ) } };
    const QJsonObject out { { QStringLiteral("machine"), machine },
        { QStringLiteral("mode"), o.quick ? QStringLiteral("quick") : QStringLiteral("full") },
        { QStringLiteral("reps"), o.reps },
        { QStringLiteral("server"),
            c.external() ? c.baseUrl.toString() : QStringLiteral("built-in") },
        { QStringLiteral("scenarios"), c.results }, { QStringLiteral("targets"), c.targets },
        { QStringLiteral("checks"), c.checks } };
    if (parser.isSet(jsonFile)) {
        QFile file(parser.value(jsonFile));
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)
            || file.write(QJsonDocument(out).toJson(QJsonDocument::Indented)) < 0) {
            fprintf(stderr, "latchkey-bench: cannot write %s\n", qPrintable(file.fileName()));
            return 73;
        }
    }
    if (o.json) {
        fputs(QJsonDocument(out).toJson(QJsonDocument::Indented).constData(), stdout);
    } else {
        QTextStream text(stdout);
        text << "# latchkey-bench (" << (o.quick ? "quick" : "full") << ", median of " << o.reps
             << ", spread min–max)\n";
        text << "machine: " << cpuCount() << " CPUs, " << cpuModel() << ", Qt " << qVersion()
             << "\n";
        for (const QString &line : std::as_const(c.text))
            text << line << '\n';
        if (!c.targets.isEmpty()) {
            text << "\n## Targets\n\n| target | goal | measured | met |\n| --- | --- | --- | --- "
                    "|\n";
            for (const QJsonValue &t : std::as_const(c.targets)) {
                const QJsonObject o = t.toObject();
                text << "| " << o.value(QLatin1String("target")).toString() << " | "
                     << o.value(QLatin1String("goal")).toString() << " | "
                     << o.value(QLatin1String("measured")).toString() << " | "
                     << (o.value(QLatin1String("met")).toBool() ? "yes" : "**no**") << " |\n";
            }
        }
        text << "\nchecks: " << (c.checks.size() - c.failedChecks) << "/" << c.checks.size()
             << " passed\n";
    }
    return c.failedChecks ? 1 : 0;
}
