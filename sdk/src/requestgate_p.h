#pragma once

#include <QList>
#include <QNetworkRequest>
#include <QObject>

#include <functional>
#include <memory>

namespace Latchkey {

class RetryingReply;

// How many of one manager's requests to the API's origin Qt holds at a time.
//
// Qt sends at most six requests at once to one HTTP/1.1 host (three each when pipelining is
// allowed) and queues the rest in its network thread, each already carrying its token. When the
// server refuses that token, every request Qt sent before the application thread saw the first
// 401 collects a 401 of its own and is replayed (about a tenth of a storm of 1,000, measured),
// and the ones still in Qt's queue must be withdrawn and created again. The gate keeps Qt's
// queue short instead: twice what Qt can put on the wire (so its network thread never waits for
// the application thread), the rest wait here, in order of priority and arrival, without a
// token, and take the token that is current when they go out. After a refused token, at most
// the gate's width of requests meet a 401.
//
// Per manager: Qt's connections belong to a manager (its network thread). Single-threaded: a
// manager and its replies live in one thread. Shared with the replies (shared_ptr), so a reply
// deleted after its manager (children go last) still finds it.
class RequestGate : public std::enable_shared_from_this<RequestGate>
{
public:
    // Twice Qt's HTTP/1.1 connections per host (6); with pipelining allowed, 3 on each; over
    // HTTP/2, twice the streams a server allows by default (100) on Qt's one connection.
    static constexpr int http1Width = 12;
    static constexpr int pipelinedWidth = 36;
    static constexpr int http2Width = 200;

    // Takes a slot if one is free and nobody of the same or higher priority waits.
    bool tryAcquire(const QNetworkRequest &request);
    // Waits for a slot: resume() is called on \a reply with the slot already taken.
    void enqueue(RetryingReply *reply, const QNetworkRequest &request);
    // A queued reply that no longer wants its turn (aborted, deleted).
    void remove(RetryingReply *reply);
    // A slot is free: the next queued replies that fit go out, from the event loop of the
    // manager's thread (never inside the caller: a release happens in a reply's slots, its
    // abort() and its destructor, where the application must not be called back).
    void release();
    // The object whose thread's event loop lets queued replies out (the manager).
    void setContext(QObject *context) { m_context = context; }
    // An answer came over HTTP/2: the manager's connection multiplexes.
    void sawHttp2() { m_http2 = true; }
    bool http2Seen() const { return m_http2; }
    // The manager is going away: nothing queued goes out any more.
    void close();
    // close() was called: the manager is being destroyed (its destructor deletes the replies
    // it still has from a list taken beforehand, inner replies included).
    bool isClosed() const { return m_closed; }

    // How the manager opens a connection to an origin ahead of its first request
    // (QNetworkAccessManager::connectToHost): set by the manager.
    void setWarmUp(std::function<void(const QUrl &)> warmUp) { m_warmUp = std::move(warmUp); }
    // A request of a manager that has sent nothing yet waits for a refresh (a restore, a
    // stale token): its connection opens meanwhile, so the request does not pay for the
    // handshake after the refresh. Once per manager.
    void warmUp(const QUrl &url);

    int inFlight() const { return m_inFlight; }
    int queued() const { return int(m_queue.size()); }

private:
    struct Entry
    {
        // Plain: a reply leaves the queue (remove()) before it is destroyed or finished.
        RetryingReply *reply;
        QNetworkRequest::Priority priority;
        bool pipelined;
    };
    int width(bool pipelined) const;
    void scheduleDrain();
    void drain();

    QList<Entry> m_queue;
    int m_inFlight = 0;
    bool m_http2 = false;
    bool m_closed = false;
    bool m_draining = false;
    bool m_drainPosted = false;
    QObject *m_context = nullptr;
    bool m_used = false; // a request went to Qt, or a connection was opened ahead
    std::function<void(const QUrl &)> m_warmUp;
};

} // namespace Latchkey
