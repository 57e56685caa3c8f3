#pragma once

#include <QString>

namespace LatchkeyCli {

/*!
    Reads a password for `login`: from $LATCHKEY_PASSWORD when set, else one line from stdin.
    On a terminal it prompts on stderr and turns echo off while reading (termios), restoring it
    afterwards. Returns false when stdin ended before a line could be read.
*/
bool readPassword(const QString &prompt, QString *password);

} // namespace LatchkeyCli
