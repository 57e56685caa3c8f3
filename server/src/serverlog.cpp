#include "serverlog.h"

Q_LOGGING_CATEGORY(lcServer, "latchkey.server", QtInfoMsg)
