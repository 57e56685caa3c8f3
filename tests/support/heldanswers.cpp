#include "heldanswers.h"

#include "scriptedserver.h"

namespace LatchkeyTest {

void HeldAnswers::hold(QHttpServerResponder &&responder)
{
    QPointer<QTcpSocket> socket(responder.socket());
    m_held.push_back({ std::make_shared<QHttpServerResponder>(std::move(responder)), socket });
}

void HeldAnswers::release(int count)
{
    for (int answered = 0; !m_held.empty() && (count < 0 || answered < count); ++answered) {
        const Held held = m_held.front();
        m_held.erase(m_held.begin());
        if (held.socket)
            ScriptedServer::json("{}").write(std::move(*held.responder));
    }
}

} // namespace LatchkeyTest
