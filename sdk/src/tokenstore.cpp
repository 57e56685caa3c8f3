#include <latchkey/tokenstore.h>

namespace Latchkey {

TokenStore::TokenStore(QObject *parent)
    : QObject(parent)
{ }

TokenStore::~TokenStore() = default;

} // namespace Latchkey
