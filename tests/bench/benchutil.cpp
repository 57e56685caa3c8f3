#include "benchutil.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QNetworkAccessManager>
#include <QNetworkRequest>
#include <QThread>
#include <QTimer>

#include <algorithm>

#include <sys/resource.h>
#include <time.h>

namespace LatchkeyBench {

double Stats::median() const
{
    if (values.isEmpty())
        return 0;
    QList<double> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    const qsizetype n = sorted.size();
    return n % 2 ? sorted.at(n / 2) : (sorted.at(n / 2 - 1) + sorted.at(n / 2)) / 2;
}

double Stats::min() const
{
    return values.isEmpty() ? 0 : *std::min_element(values.begin(), values.end());
}

double Stats::max() const
{
    return values.isEmpty() ? 0 : *std::max_element(values.begin(), values.end());
}

QString Stats::text(int decimals) const
{
    if (values.isEmpty())
        return QStringLiteral("-");
    if (values.size() == 1)
        return QString::number(median(), 'f', decimals);
    return QStringLiteral("%1 (%2–%3)")
        .arg(QString::number(median(), 'f', decimals), QString::number(min(), 'f', decimals),
            QString::number(max(), 'f', decimals));
}

QJsonObject Stats::json() const
{
    QJsonArray all;
    for (double v : values)
        all.append(v);
    return QJsonObject { { QStringLiteral("median"), median() }, { QStringLiteral("min"), min() },
        { QStringLiteral("max"), max() }, { QStringLiteral("values"), all } };
}

double cpuMs()
{
    rusage usage {};
    getrusage(RUSAGE_SELF, &usage);
    return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000.0
        + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000.0;
}

qint64 monotonicNs()
{
    timespec ts {};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return qint64(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

static qint64 statusField(const char *name)
{
    QFile file(QStringLiteral("/proc/self/status"));
    if (!file.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray prefix = QByteArray(name) + ':';
    for (const QByteArray &line : file.readAll().split('\n')) {
        if (line.startsWith(prefix)) {
            const QByteArray kb = line.mid(prefix.size()).trimmed().split(' ').value(0);
            return kb.toLongLong() * 1024;
        }
    }
    return -1;
}

qint64 rssBytes()
{
    return statusField("VmRSS");
}

qint64 peakRssBytes()
{
    return statusField("VmHWM");
}

bool resetPeakRss()
{
    QFile file(QStringLiteral("/proc/self/clear_refs"));
    return file.open(QIODevice::WriteOnly) && file.write("5") == 1;
}

QString cpuModel()
{
    QFile file(QStringLiteral("/proc/cpuinfo"));
    if (file.open(QIODevice::ReadOnly)) {
        for (const QByteArray &line : file.readAll().split('\n')) {
            if (line.startsWith("model name"))
                return QString::fromUtf8(line.mid(line.indexOf(':') + 1).trimmed());
        }
    }
    return QStringLiteral("unknown");
}

int cpuCount()
{
    return QThread::idealThreadCount();
}

BatchResult runBatch(int count, const std::function<QNetworkReply *(int)> &issue, int timeoutMs)
{
    BatchResult result;
    int finished = 0;
    QEventLoop loop;
    QTimer timeout;
    timeout.setSingleShot(true);
    QObject::connect(&timeout, &QTimer::timeout, &loop, [&] {
        result.timedOut = true;
        loop.quit();
    });
    QList<QNetworkReply *> pending;
    QElapsedTimer wall;
    const double cpu0 = cpuMs();
    wall.start();
    for (int i = 0; i < count; ++i) {
        QNetworkReply *reply = issue(i);
        pending.append(reply);
        QObject::connect(reply, &QNetworkReply::readyRead, reply, [reply] { reply->readAll(); });
        QObject::connect(reply, &QNetworkReply::finished, &loop, [&, reply] {
            reply->readAll();
            const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            ++result.statuses[status];
            if (reply->error() == QNetworkReply::NoError && status / 100 == 2)
                ++result.ok;
            else
                ++result.failed;
            reply->deleteLater();
            if (++finished == count)
                loop.quit();
        });
    }
    if (finished < count) {
        timeout.start(timeoutMs);
        loop.exec();
    }
    result.wallMs = wall.nsecsElapsed() / 1e6;
    result.cpuMs = cpuMs() - cpu0;
    // Let the deleteLater()s run before the next measurement.
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    return result;
}

bool waitUntil(const std::function<bool()> &done, int timeoutMs)
{
    QElapsedTimer timer;
    timer.start();
    QEventLoop loop;
    QTimer tick;
    QObject::connect(&tick, &QTimer::timeout, &loop, [&] {
        if (done() || timer.elapsed() > timeoutMs)
            loop.quit();
    });
    tick.start(20);
    if (!done())
        loop.exec();
    return done();
}

QByteArray blockingRequest(QNetworkAccessManager *nam, const QNetworkRequest &request,
    const QByteArray &verb, const QByteArray &body, int *status,
    QList<QNetworkReply::RawHeaderPair> *headers)
{
    QNetworkReply *reply
        = verb == "GET" ? nam->get(request) : nam->sendCustomRequest(request, verb, body);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(60000, &loop, &QEventLoop::quit);
    if (!reply->isFinished())
        loop.exec();
    if (status)
        *status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (headers)
        *headers = reply->rawHeaderPairs();
    const QByteArray data = reply->readAll();
    delete reply;
    return data;
}

QJsonValue jsonPointer(const QJsonValue &root, const QString &pointer)
{
    if (pointer.isEmpty())
        return root;
    if (!pointer.startsWith(QLatin1Char('/')))
        return QJsonValue(QJsonValue::Undefined);
    QJsonValue current = root;
    const QStringList parts = pointer.mid(1).split(QLatin1Char('/'));
    for (QString part : parts) {
        part.replace(QStringLiteral("~1"), QStringLiteral("/"));
        part.replace(QStringLiteral("~0"), QStringLiteral("~"));
        if (current.isObject()) {
            current = current.toObject().value(part);
        } else if (current.isArray()) {
            bool ok = false;
            const int index = part.toInt(&ok);
            if (!ok)
                return QJsonValue(QJsonValue::Undefined);
            current = current.toArray().at(index);
        } else {
            return QJsonValue(QJsonValue::Undefined);
        }
    }
    return current;
}

} // namespace LatchkeyBench
