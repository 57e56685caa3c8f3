#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QMap>
#include <QNetworkReply>
#include <QString>
#include <QUrl>

#include <functional>

class QNetworkAccessManager;

namespace LatchkeyBench {

// Median and spread of repeated measurements.
struct Stats
{
    QList<double> values;
    void add(double v) { values.append(v); }
    double median() const;
    double min() const;
    double max() const;
    // "1.02 (0.98–1.07)": median, then min–max.
    QString text(int decimals = 2) const;
    QJsonObject json() const;
};

// Process CPU time (user + system, all threads) from getrusage(RUSAGE_SELF), in ms.
double cpuMs();
// CLOCK_MONOTONIC in ns: comparable across processes on one machine (cold-start timing).
qint64 monotonicNs();
// Resident set size and its peak (VmRSS, VmHWM) in bytes; resetPeakRss() starts a new peak
// (writes 5 to /proc/self/clear_refs).
qint64 rssBytes();
qint64 peakRssBytes();
bool resetPeakRss();

QString cpuModel();
int cpuCount();

// Runs a batch of requests and waits (event loop, no busy polling) until every reply finished.
// \a issue(i) returns the i-th reply; \a done is told its status code and error. Replies are
// read to the end and deleted after finished() as an application would. Returns false on
// timeout.
struct BatchResult
{
    int ok = 0; // 2xx
    int failed = 0;
    QMap<int, int> statuses; // HTTP status (0: no answer) → count
    double wallMs = 0;
    double cpuMs = 0;
    bool timedOut = false;
};
BatchResult runBatch(
    int count, const std::function<QNetworkReply *(int)> &issue, int timeoutMs = 300000);

// Spins an event loop until \a done() is true (checked whenever \a wake fires and every 20 ms),
// at most timeoutMs. For the few places that wait on something without a signal.
bool waitUntil(const std::function<bool()> &done, int timeoutMs);

// A blocking request on a private manager (metrics, hooks, logins of the hand client).
QByteArray blockingRequest(QNetworkAccessManager *nam, const QNetworkRequest &request,
    const QByteArray &verb, const QByteArray &body, int *status,
    QList<QNetworkReply::RawHeaderPair> *headers = nullptr);

// RFC 6901 pointer into a JSON document ("" is the whole document).
QJsonValue jsonPointer(const QJsonValue &root, const QString &pointer);

} // namespace LatchkeyBench
