// The child processes of latchkey-bench: cold start (a new process each time), memory (a fresh
// heap each time) and the callgrind runs. Each prints one line of KEY=VALUE pairs.

#include "bench.h"
#include "handclient.h"

#include "testhelpers.h"

#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/keychaintokenstore.h>
#include <latchkey/memorytokenstore.h>

#include <QCoreApplication>
#include <QEventLoop>
#include <QTimer>

#include <cstdio>

#include <malloc.h>

using namespace Latchkey;

namespace LatchkeyBench {

namespace {

struct ChildEnv
{
    ServerProfile profile;
    QUrl base;
    QString identity;
    QString password;
    QUrl url(const QString &path) const
    {
        QUrl u = base;
        u.setPath(path);
        return u;
    }
};

void emitLine(const QByteArray &line)
{
    fputs(line.constData(), stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

int coldLatchkey(const ChildEnv &env, const Options &o)
{
    AuthClient client(env.profile, env.base);
    client.setTokenStore(new KeychainTokenStore(o.service));
    client.restore();
    // Made at once: it waits for the restore, as an app's first request would.
    QNetworkReply *reply = client.networkAccessManager()->get(QNetworkRequest(env.url(o.path)));
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(60000, &loop, &QEventLoop::quit);
    loop.exec();
    const qint64 done = monotonicNs();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    emitLine(QByteArrayLiteral("DONE ns=") + QByteArray::number(done)
        + " start=" + QByteArray::number(mainStartNs) + " status=" + QByteArray::number(status));
    delete reply;
    // The rotated refresh token must reach the keychain before the process ends (not timed).
    LatchkeyTest::await(client.flush());
    return status == 200 ? 0 : 1;
}

int coldHand(const ChildEnv &env, const Options &o)
{
    const qint64 t0 = monotonicNs();
    QString error;
    const QByteArray token = keychainRead(o.service, QStringLiteral("refresh"), &error);
    const qint64 t1 = monotonicNs();
    HandClient hand(env.profile, env.base);
    hand.setRefreshToken(token);
    const bool refreshed = !token.isEmpty() && hand.refreshBlocking();
    const qint64 t2 = monotonicNs();
    int status = 0;
    if (refreshed)
        blockingRequest(hand.nam(), hand.authorized(env.url(o.path)), "GET", {}, &status);
    const qint64 t3 = monotonicNs();
    emitLine(QByteArrayLiteral("DONE ns=") + QByteArray::number(t3)
        + " start=" + QByteArray::number(mainStartNs) + " status=" + QByteArray::number(status)
        + " read=" + QByteArray::number(t1 - t0) + " refresh=" + QByteArray::number(t2 - t1)
        + " request=" + QByteArray::number(t3 - t2));
    if (!refreshed) {
        fprintf(stderr, "cold-hand: %s %s\n", qPrintable(error), qPrintable(hand.errorString()));
        return 1;
    }
    // Store the rotated token for the next process (not timed).
    if (!keychainWrite(o.service, QStringLiteral("refresh"), hand.refreshToken(), &error))
        return 1;
    return status == 200 ? 0 : 1;
}

int memory(const ChildEnv &env, const Options &o, bool latchkey)
{
    std::unique_ptr<AuthClient> client;
    std::unique_ptr<HandClient> hand;
    QNetworkAccessManager *nam = nullptr;
    if (latchkey) {
        client = std::make_unique<AuthClient>(env.profile, env.base);
        client->setTokenStore(new MemoryTokenStore);
        if (LatchkeyTest::await(client->signIn(env.identity, env.password)).isError())
            return 2;
        nam = client->networkAccessManager();
    } else {
        hand = std::make_unique<HandClient>(env.profile, env.base);
        if (!hand->login(env.identity, env.password))
            return 2;
        nam = hand->nam();
    }
    const QUrl echo = env.url(o.echoPath);
    auto post = [&](const QByteArray &body) {
        QNetworkRequest request = hand ? hand->authorized(echo) : QNetworkRequest(echo);
        request.setHeader(
            QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/octet-stream"));
        return nam->post(request, body);
    };
    // Warm-up: open the connections.
    runBatch(12, [&](int) { return post(QByteArray(1024, 'w')); });
    if (o.replay) {
        QNetworkAccessManager plain;
        QNetworkRequest hook(env.url(QStringLiteral("/test/expire-access-tokens")));
        hook.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        int status = 0;
        blockingRequest(&plain, hook, "POST", "{}", &status);
        if (status / 100 != 2)
            return 3;
    }
    const int count = 200;
    const qsizetype size = 256 * 1024;
    malloc_trim(0);
    const qint64 before = rssBytes();
    const bool peakReset = resetPeakRss();
    qint64 sampled = before;
    QTimer sampler;
    QObject::connect(
        &sampler, &QTimer::timeout, &sampler, [&] { sampled = qMax(sampled, rssBytes()); });
    sampler.start(5);
    const BatchResult r = runBatch(count, [&](int i) {
        // Distinct bodies, as an application would build them.
        return post(QByteArray(size, char('a' + i % 26)));
    });
    sampler.stop();
    const qint64 peak = peakReset ? qMax(sampled, peakRssBytes()) : sampled;
    QByteArray statuses;
    for (auto it = r.statuses.cbegin(); it != r.statuses.cend(); ++it)
        statuses += QByteArray::number(it.value()) + 'x' + QByteArray::number(it.key()) + ',';
    emitLine(QByteArrayLiteral("RESULT growth=") + QByteArray::number(peak - before) + " inflight="
        + QByteArray::number(qint64(count) * size) + " ok=" + QByteArray::number(r.ok)
        + " statuses=" + statuses + " hwm=" + QByteArray(peakReset ? "1" : "0"));
    return r.ok == count ? 0 : 1;
}

int callgrind(const ChildEnv &env, const Options &o, bool latchkey)
{
    std::unique_ptr<AuthClient> client;
    std::unique_ptr<HandClient> hand;
    if (latchkey) {
        client = std::make_unique<AuthClient>(env.profile, env.base);
        client->setTokenStore(new MemoryTokenStore);
        if (LatchkeyTest::await(client->signIn(env.identity, env.password)).isError())
            return 2;
    } else {
        hand = std::make_unique<HandClient>(env.profile, env.base);
        if (!hand->login(env.identity, env.password))
            return 2;
    }
    const QUrl url = env.url(o.path);
    auto issue = [&](int) {
        QNetworkRequest request = hand ? hand->authorized(url) : QNetworkRequest(url);
        request.setAttribute(QNetworkRequest::HttpPipeliningAllowedAttribute, true);
        return hand ? hand->nam()->get(request) : client->networkAccessManager()->get(request);
    };
    runBatch(100, issue);
    const BatchResult r = runBatch(o.count, issue);
    emitLine(QByteArrayLiteral("RESULT ok=") + QByteArray::number(r.ok));
    return r.ok == o.count ? 0 : 1;
}

} // namespace

int runChild(const Options &o)
{
    ChildEnv env;
    env.profile = ServerProfile::builtin(QStringLiteral("latchkey"));
    env.base = o.baseUrl;
    env.identity = o.identity;
    env.password = qEnvironmentVariable(qPrintable(o.passwordEnv));
    if (o.child == QLatin1String("cold-latchkey"))
        return coldLatchkey(env, o);
    if (o.child == QLatin1String("cold-hand"))
        return coldHand(env, o);
    if (o.child == QLatin1String("memory-raw"))
        return memory(env, o, false);
    if (o.child == QLatin1String("memory-latchkey"))
        return memory(env, o, true);
    if (o.child == QLatin1String("callgrind-raw"))
        return callgrind(env, o, false);
    if (o.child == QLatin1String("callgrind-latchkey"))
        return callgrind(env, o, true);
    fprintf(stderr, "latchkey-bench: unknown child %s\n", qPrintable(o.child));
    return 64;
}

} // namespace LatchkeyBench
