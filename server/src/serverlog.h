#pragma once

#include <QLoggingCategory>

// The server's one logging category. Never log a password, token or cookie value.
Q_DECLARE_LOGGING_CATEGORY(lcServer)
