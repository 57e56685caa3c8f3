#include <latchkey/credentialsprovider.h>

namespace Latchkey {

CredentialsProvider::CredentialsProvider(QObject *parent)
    : QObject(parent)
{ }

CredentialsProvider::~CredentialsProvider() = default;

} // namespace Latchkey
