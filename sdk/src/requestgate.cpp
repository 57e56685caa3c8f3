#include "requestgate_p.h"

#include "retryingreply_p.h"

namespace Latchkey {

namespace {

bool pipelining(const QNetworkRequest &request)
{
    return request.attribute(QNetworkRequest::HttpPipeliningAllowedAttribute).toBool();
}

} // namespace

int RequestGate::width(bool pipelined) const
{
    if (m_http2)
        return http2Width;
    return pipelined ? pipelinedWidth : http1Width;
}

bool RequestGate::tryAcquire(const QNetworkRequest &request)
{
    if (m_closed)
        return true; // the manager is being destroyed: no queue to wait in
    if (!m_queue.isEmpty() && m_queue.constFirst().priority <= request.priority())
        return false; // those waiting first go first (High = 1 sorts before Normal = 3)
    if (m_inFlight >= width(pipelining(request)))
        return false;
    ++m_inFlight;
    m_used = true;
    return true;
}

void RequestGate::enqueue(RetryingReply *reply, const QNetworkRequest &request)
{
    const QNetworkRequest::Priority priority = request.priority();
    // After every entry of the same or a higher priority (a smaller number): first come, first
    // served within a priority, as in Qt's own queues. Normal requests append in O(1).
    qsizetype at = m_queue.size();
    while (at > 0 && m_queue.at(at - 1).priority > priority)
        --at;
    m_queue.insert(at, { reply, priority, pipelining(request) });
}

void RequestGate::remove(RetryingReply *reply)
{
    for (qsizetype i = 0; i < m_queue.size(); ++i) {
        if (m_queue.at(i).reply == reply) {
            m_queue.removeAt(i);
            return;
        }
    }
}

void RequestGate::release()
{
    if (m_inFlight > 0)
        --m_inFlight;
    scheduleDrain();
}

void RequestGate::scheduleDrain()
{
    if (m_drainPosted || m_closed || m_queue.isEmpty() || !m_context)
        return;
    m_drainPosted = true;
    // Once per turn of the event loop, however many slots were freed in it (1,000 replies
    // aborted in one loop let nothing out).
    QMetaObject::invokeMethod(
        m_context,
        [gate = weak_from_this()] {
            if (const std::shared_ptr<RequestGate> self = gate.lock()) {
                self->m_drainPosted = false;
                self->drain();
            }
        },
        Qt::QueuedConnection);
}

void RequestGate::drain()
{
    // From the event loop (scheduleDrain). A resumed reply may give its slot back at once (it
    // waits for a refresh, or fails: its session ended), and the application may delete
    // replies or the manager in a slot of the failure: the loop re-reads the queue each time.
    if (m_draining || m_closed)
        return;
    m_draining = true;
    const std::shared_ptr<RequestGate> self = shared_from_this();
    while (!m_closed && !m_queue.isEmpty() && m_inFlight < width(m_queue.constFirst().pipelined)) {
        RetryingReply *reply = m_queue.takeFirst().reply;
        ++m_inFlight;
        reply->resume();
    }
    m_draining = false;
}

void RequestGate::close()
{
    m_closed = true;
    m_queue.clear();
    m_warmUp = nullptr;
}

void RequestGate::warmUp(const QUrl &url)
{
    if (m_used || m_closed || !m_warmUp)
        return;
    m_used = true;
    m_warmUp(url);
}

} // namespace Latchkey
