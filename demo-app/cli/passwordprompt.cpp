#include "passwordprompt.h"

#include <QByteArray>

#include <algorithm>
#include <cstdio>
#include <string>

#if defined(Q_OS_UNIX)
#include <termios.h>
#include <unistd.h>
#elif defined(Q_OS_WIN)
#define NOMINMAX
#define WIN32_LEAN_AND_MEAN
#include <io.h>
#include <windows.h>
#endif

namespace LatchkeyCli {

namespace {

#if defined(Q_OS_UNIX)
bool stdinIsTerminal()
{
    return isatty(STDIN_FILENO) != 0;
}

// Turns terminal echo off for its lifetime, and back on however the read ends.
class EchoOff
{
public:
    EchoOff()
        : m_fd(STDIN_FILENO)
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
#elif defined(Q_OS_WIN)
bool stdinIsTerminal()
{
    return _isatty(_fileno(stdin)) != 0;
}

// The console's echo off for its lifetime (not tried: only Linux was built here).
class EchoOff
{
public:
    EchoOff()
        : m_handle(GetStdHandle(STD_INPUT_HANDLE))
    {
        if (!GetConsoleMode(m_handle, &m_saved))
            return;
        m_active = SetConsoleMode(m_handle, m_saved & ~DWORD(ENABLE_ECHO_INPUT)) != 0;
    }
    ~EchoOff()
    {
        if (m_active) {
            SetConsoleMode(m_handle, m_saved);
            std::fputc('\n', stderr); // the Enter that was not echoed
        }
    }
    EchoOff(const EchoOff &) = delete;
    EchoOff &operator=(const EchoOff &) = delete;

private:
    HANDLE m_handle;
    DWORD m_saved = 0;
    bool m_active = false;
};
#else
bool stdinIsTerminal()
{
    return false; // no terminal to turn echo off on: the password comes from a pipe
}
struct EchoOff
{
};
#endif

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
    if (stdinIsTerminal()) {
        // Echo off before the prompt appears, and without flushing: typed-ahead input counts.
        [[maybe_unused]] EchoOff echoOff;
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
