#pragma once

#include <QHttpServerResponder>
#include <QPointer>
#include <QTcpSocket>

#include <memory>
#include <vector>

namespace LatchkeyTest {

// Answers a test keeps back: requests to a path of a ScriptedServer (onDeferred) wait until the
// test releases them, in arrival order — a server that is slow on purpose, so that a client's
// connections stay busy for exactly as long as the test says.
class HeldAnswers
{
public:
    void hold(QHttpServerResponder &&responder);
    int size() const { return int(m_held.size()); }
    // Answers the first \a count held requests (all of them when -1) with 200 and "{}"; one
    // whose client has gone away is dropped unanswered (QHttpServer 6.4 would crash writing).
    void release(int count = -1);
    void clear() { m_held.clear(); }

private:
    struct Held
    {
        std::shared_ptr<QHttpServerResponder> responder;
        QPointer<QTcpSocket> socket;
    };
    std::vector<Held> m_held;
};

} // namespace LatchkeyTest
