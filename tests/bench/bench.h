#pragma once

#include "benchutil.h"

#include <latchkey/serverprofile.h>

#include <QJsonArray>
#include <QJsonObject>
#include <QStringList>
#include <QUrl>

#include <memory>

namespace LatchkeyTest {
class ServerProcess;
}

namespace LatchkeyBench {

struct Options
{
    bool quick = false;
    bool json = false;
    int reps = 5;
    QStringList scenarios; // empty: all that apply
    bool callgrind = true;
    double steadySeconds = 60;
    // --profile/--base-url…: a server of one's own instead of the built-in one.
    QString profile;
    QUrl baseUrl;
    QString identity;
    QString passwordEnv;
    QString path;
    QString echoPath;
    // child processes (cold start, memory, callgrind)
    QString child;
    int count = 0;
    bool replay = false;
    QString service;
};

// What every scenario shares: the server, the account, and where results go.
class Context
{
public:
    explicit Context(const Options &options);
    ~Context();

    bool start(QString *error);
    bool external() const { return !m_options.baseUrl.isEmpty(); }
    bool wants(const QString &scenario) const;

    const Options &options;
    Latchkey::ServerProfile profile;
    QUrl baseUrl;
    QString identity;
    QString password;
    QString getPath;
    QString echoPath;

    // A latchkey-server of our own (built-in mode only) with extra flags (steady state).
    std::unique_ptr<LatchkeyTest::ServerProcess> startServer(
        const QStringList &extraArgs, QString *error) const;
    LatchkeyTest::ServerProcess *server() const { return m_server.get(); }
    // Server counters (built-in mode): refresh calls of any outcome; 401s sent.
    double refreshCalls(LatchkeyTest::ServerProcess *server = nullptr) const;
    double unauthorized(LatchkeyTest::ServerProcess *server = nullptr) const;
    bool expireAccessTokens() const;
    QUrl url(const QString &path) const;

    // Results
    void progress(const QString &line) const;
    void section(const QString &title, const QStringList &tableLines);
    void result(const QString &scenario, const QJsonValue &value);
    // A correctness count (fails the run, in --quick too).
    void check(const QString &name, bool ok, const QString &detail);
    // A target of issue #5 (reported, never fails the run).
    void target(const QString &name, const QString &goal, const QString &measured, bool met,
        const QString &note = QString());

    QJsonObject results;
    QJsonArray checks;
    QJsonArray targets;
    QStringList text;
    int failedChecks = 0;

private:
    const Options &m_options;
    std::unique_ptr<LatchkeyTest::ServerProcess> m_server;
};

void runOverhead(Context &c);
void runStorm(Context &c);
void runSteady(Context &c);
void runColdStart(Context &c);
void runThreads(Context &c);
void runMemory(Context &c);

// Child processes started by the scenarios; the exit code is the main's.
int runChild(const Options &options);

QString selfPath();

// CLOCK_MONOTONIC at the first line of main() (cold start).
extern qint64 mainStartNs;

// QtKeychain used directly: the cold start's "by hand" side.
bool keychainWrite(
    const QString &service, const QString &key, const QByteArray &value, QString *error);
QByteArray keychainRead(const QString &service, const QString &key, QString *error);
void keychainRemove(const QString &service, const QString &key);

} // namespace LatchkeyBench
