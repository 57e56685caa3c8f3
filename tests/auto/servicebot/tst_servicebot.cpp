#include "serverprocess.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <functional>
#include <sys/prctl.h>

#include <csignal>

using namespace LatchkeyTest;

namespace {
const QString botEmail = QStringLiteral("bot@latchkey.test");
const QString botPassword = QStringLiteral("Bot-2026!");
} // namespace

// latchkey-service-bot, a headless service, under what a real server does to it: restarted,
// its session revoked, its password refused. The bot is never restarted by the test.
class TestServiceBot : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<ServerProcess> m_server;
    std::unique_ptr<QProcess> m_bot;
    QList<QJsonObject> m_lines; // every JSON line the bot printed
    QByteArray m_pending;

    void startBot(const QStringList &credentialArgs, const QProcessEnvironment &env)
    {
        m_bot = std::make_unique<QProcess>();
        m_bot->setProcessEnvironment(env);
        m_bot->setProcessChannelMode(QProcess::SeparateChannels);
        m_bot->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
        connect(m_bot.get(), &QProcess::readyReadStandardOutput, this, [this] {
            m_pending += m_bot->readAllStandardOutput();
            qsizetype end;
            while ((end = m_pending.indexOf('\n')) >= 0) {
                const QByteArray line = m_pending.left(end);
                m_pending.remove(0, end + 1);
                const QJsonObject json = QJsonDocument::fromJson(line).object();
                if (!json.isEmpty())
                    m_lines.append(json);
            }
        });
        m_bot->start(QStringLiteral(LATCHKEY_SERVICE_BOT_PATH),
            QStringList { QStringLiteral("--base-url"), m_server->baseUrl().toString(),
                QStringLiteral("--interval"), QStringLiteral("200") }
                + credentialArgs);
        QVERIFY2(m_bot->waitForStarted(10000), qPrintable(m_bot->errorString()));
    }

    void startBotWithEnvironment(const QString &password)
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("BOT_IDENTITY"), botEmail);
        env.insert(QStringLiteral("BOT_PASSWORD"), password);
        startBot({ QStringLiteral("--identity-env"), QStringLiteral("BOT_IDENTITY"),
                     QStringLiteral("--password-env"), QStringLiteral("BOT_PASSWORD") },
            env);
    }

    // Waits for a line printed from now on that \a matches; returns it (empty on timeout).
    QJsonObject waitForLine(std::function<bool(const QJsonObject &)> matches, int timeoutMs)
    {
        const qsizetype from = m_lines.size();
        QJsonObject found;
        const bool seen = QTest::qWaitFor(
            [&] {
                for (qsizetype i = from; i < m_lines.size(); ++i) {
                    if (matches(m_lines.at(i))) {
                        found = m_lines.at(i);
                        return true;
                    }
                }
                return m_bot->state() == QProcess::NotRunning;
            },
            timeoutMs);
        return seen ? found : QJsonObject();
    }

    static int healthInt(const QJsonObject &line, const char *key)
    {
        return line.value(QLatin1String("health")).toObject().value(QLatin1String(key)).toInt();
    }
    static bool ok(const QJsonObject &line) { return line.value(QLatin1String("ok")).toBool(); }
    QByteArray lastLines() const
    {
        QByteArray text;
        for (qsizetype i = std::max<qsizetype>(0, m_lines.size() - 5); i < m_lines.size(); ++i)
            text += QJsonDocument(m_lines.at(i)).toJson(QJsonDocument::Compact) + '\n';
        return text + m_bot->readAllStandardError();
    }

    // SIGTERM: the bot stops between calls and exits 0.
    void stopBotCleanly()
    {
        m_bot->terminate();
        QVERIFY(m_bot->waitForFinished(10000));
        QCOMPARE(m_bot->exitStatus(), QProcess::NormalExit);
        QCOMPARE(m_bot->exitCode(), 0);
    }

private Q_SLOTS:
    void init()
    {
        QVERIFY(m_dir.isValid());
        m_lines.clear();
        m_pending.clear();
        m_server = std::make_unique<ServerProcess>();
    }
    void cleanup()
    {
        if (m_bot && m_bot->state() != QProcess::NotRunning) {
            m_bot->kill();
            m_bot->waitForFinished(5000);
        }
        m_bot.reset();
        m_server.reset();
    }

    // The server goes away (its refreshes fail meanwhile) and comes back on the same port and
    // database: the bot's session carries on, without a restart and without a new sign-in.
    void botRecoversWhenTheServerRestarts()
    {
        m_server->setDatabase(m_dir.filePath(QStringLiteral("server.sqlite")));
        // Three-second tokens: the bot refreshes about every 2.7 s, so it must while down.
        QVERIFY2(m_server->start(ServerProcess::demoArgs()
                     + QStringList { QStringLiteral("--access-ttl"), QStringLiteral("3") }),
            qPrintable(m_server->errorString()));
        startBotWithEnvironment(botPassword);
        const QJsonObject refreshed = waitForLine(
            [](const QJsonObject &l) { return ok(l) && healthInt(l, "refreshesOk") >= 1; }, 30000);
        QVERIFY2(!refreshed.isEmpty(), lastLines().constData());
        QCOMPARE(healthInt(refreshed, "signIns"), 1);
        const qint64 pid = m_bot->processId();

        m_server->stop();
        const QJsonObject failing = waitForLine(
            [](const QJsonObject &l) { return !ok(l) && healthInt(l, "refreshesFailed") >= 1; },
            30000);
        QVERIFY2(!failing.isEmpty(), lastLines().constData());
        const int okBefore = healthInt(failing, "refreshesOk");

        QVERIFY2(m_server->restart(), qPrintable(m_server->errorString()));
        const QJsonObject recovered = waitForLine(
            [okBefore](
                const QJsonObject &l) { return ok(l) && healthInt(l, "refreshesOk") > okBefore; },
            60000);
        QVERIFY2(!recovered.isEmpty(), lastLines().constData());
        QCOMPARE(recovered.value(QLatin1String("status")).toInt(), 200);
        QCOMPARE(healthInt(recovered, "signIns"), 1); // the same session, refreshed
        QCOMPARE(recovered.value(QLatin1String("health")).toObject().value(QLatin1String("online")),
            QJsonValue(true));
        QCOMPARE(m_bot->processId(), pid);
        QCOMPARE(m_bot->state(), QProcess::Running);
        stopBotCleanly();
    }

    // The server revokes the bot's session: its next call finds the token refused, the refresh
    // rejected, and the bot signs in again by itself (credentials from a 0600 file).
    void botSignsInAgainWhenItsSessionIsRevoked()
    {
        QVERIFY2(m_server->start(ServerProcess::demoArgs()), qPrintable(m_server->errorString()));
        QFile file(m_dir.filePath(QStringLiteral("bot.credentials")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(botEmail.toUtf8() + '\n' + botPassword.toUtf8() + '\n');
        file.close();
        QVERIFY(file.setPermissions(QFile::ReadOwner | QFile::WriteOwner));
        startBot({ QStringLiteral("--credentials-file"), file.fileName() },
            QProcessEnvironment::systemEnvironment());
        const QJsonObject working = waitForLine(ok, 30000);
        QVERIFY2(!working.isEmpty(), lastLines().constData());
        QCOMPARE(healthInt(working, "signIns"), 1);

        const QByteArray who = "{\"email\":\"" + botEmail.toUtf8() + "\"}";
        QCOMPARE(m_server->hook(QStringLiteral("/test/revoke-sessions"), who), 204);
        QCOMPARE(m_server->hook(QStringLiteral("/test/expire-access-tokens"), who), 204);
        const QJsonObject again = waitForLine(
            [](const QJsonObject &l) { return ok(l) && healthInt(l, "signIns") == 2; }, 30000);
        QVERIFY2(!again.isEmpty(), lastLines().constData());
        QVERIFY(healthInt(again, "refreshesFailed") >= 1); // the rejected refresh
        QCOMPARE(m_server->metric(QStringLiteral("latchkey_logins_total{result=\"ok\"}")), 2.0);
        QCOMPARE(m_bot->state(), QProcess::Running);
        stopBotCleanly();
    }

    // A wrong password: one sign-in, a message, exit code 2; never a loop of attempts.
    void botStopsWhenTheCredentialsAreRefused()
    {
        QVERIFY2(m_server->start(ServerProcess::demoArgs()), qPrintable(m_server->errorString()));
        startBotWithEnvironment(QStringLiteral("Not-the-password-1!"));
        QVERIFY(m_bot->waitForFinished(30000));
        QCOMPARE(m_bot->exitStatus(), QProcess::NormalExit);
        QCOMPARE(m_bot->exitCode(), 2);
        const QByteArray error = m_bot->readAllStandardError();
        QVERIFY2(error.contains("InvalidCredentials"), error.constData());
        QVERIFY(!error.contains("Not-the-password"));
        QCOMPARE(
            m_server->metric(QStringLiteral("latchkey_logins_total{result=\"invalid\"}")), 1.0);
    }
};

QTEST_GUILESS_MAIN(TestServiceBot)
#include "tst_servicebot.moc"
