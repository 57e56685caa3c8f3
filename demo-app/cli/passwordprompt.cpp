#include "passwordprompt.h"

#include <QByteArray>

#include <algorithm>
#include <cstdio>
#include <string>

#include <termios.h>
#include <unistd.h>

namespace LatchkeyCli {

namespace {

// Turns terminal echo off for its lifetime, and back on however the read ends.
class EchoOff
{
public:
    explicit EchoOff(int fd)
        : m_fd(fd)
    {
        if (tcgetattr(m_fd, &m_saved) != 0)
            return;
        termios quiet = m_saved;
        quiet.c_lflag &= ~tcflag_t(ECHO);
        quiet.c_lflag |= ECHONL;
        m_active = tcsetattr(m_fd, TCSANOW, &quiet) == 0;
    }
    ~EchoOff()
    {
        if (m_active)
            tcsetattr(m_fd, TCSANOW, &m_saved);
    }
    EchoOff(const EchoOff &) = delete;
    EchoOff &operator=(const EchoOff &) = delete;

private:
    int m_fd;
    termios m_saved {};
    bool m_active = false;
};

bool readLine(std::string *line)
{
    line->clear();
    int c;
    while ((c = std::fgetc(stdin)) != EOF) {
        if (c == '\n')
            return true;
        line->push_back(char(c));
    }
    return !line->empty();
}

} // namespace

bool readPassword(const QString &prompt, QString *password)
{
    if (qEnvironmentVariableIsSet("LATCHKEY_PASSWORD")) {
        *password = qEnvironmentVariable("LATCHKEY_PASSWORD");
        return true;
    }

    std::string line;
    bool ok = false;
    if (isatty(STDIN_FILENO)) {
        // Echo off before the prompt appears, and without flushing: typed-ahead input counts.
        EchoOff echoOff(STDIN_FILENO);
        const QByteArray text = prompt.toLocal8Bit();
        std::fwrite(text.constData(), 1, size_t(text.size()), stderr);
        std::fflush(stderr);
        ok = readLine(&line);
    } else {
        ok = readLine(&line);
    }
    if (!line.empty() && line.back() == '\r')
        line.pop_back();
    *password = QString::fromLocal8Bit(line.data(), qsizetype(line.size()));
    // Best effort: do not leave the password lying in freed memory.
    std::fill(line.begin(), line.end(), '\0');
    return ok;
}

} // namespace LatchkeyCli
