#pragma once

#include <latchkey/latchkey_export.h>
#include <latchkey/tokenstore.h>

#include <QHash>

namespace Latchkey {

/*!
    Keeps secrets in this object only: a session never outlives the process. For apps that must
    not persist a session (kiosks, shared machines) and for unit tests of other parts.
*/
class LATCHKEY_EXPORT MemoryTokenStore : public TokenStore
{
    Q_OBJECT
public:
    explicit MemoryTokenStore(QObject *parent = nullptr);
    ~MemoryTokenStore() override;

    void read(const QString &key, ReadCallback done) override;
    void write(const QString &key, const QByteArray &secret, DoneCallback done) override;
    void remove(const QString &key, DoneCallback done) override;

    int count() const { return int(m_entries.size()); }

private:
    QHash<QString, QByteArray> m_entries;
};

} // namespace Latchkey
