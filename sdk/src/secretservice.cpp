#include "secretservice_p.h"

#include "logging_p.h"

#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusMetaType>
#include <QDBusObjectPath>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>
#include <QDBusVariant>
#include <QMap>

namespace Latchkey::SecretService {

namespace {

using Attributes = QMap<QString, QString>;

const QString serviceName = QStringLiteral("org.freedesktop.secrets");
// A locked service answers at once; a hung one must not hold a restore for long.
constexpr int callTimeoutMs = 5000;

// Calls \a message on the session bus and hands its reply to \a onReply (nothing when there is
// no session bus: no Secret Service to ask either).
void call(QDBusMessage message, std::function<void(const QDBusMessage &)> onReply)
{
    QDBusConnection bus = QDBusConnection::sessionBus();
    if (!bus.isConnected()) {
        onReply(QDBusMessage::createError(QDBusError::Disconnected, QString()));
        return;
    }
    message.setAutoStartService(false);
    auto *watcher = new QDBusPendingCallWatcher(bus.asyncCall(message, callTimeoutMs));
    QObject::connect(watcher, &QDBusPendingCallWatcher::finished, watcher,
        [watcher, onReply = std::move(onReply)] {
            watcher->deleteLater();
            onReply(watcher->reply());
        });
}

} // namespace

void hasLockedItem(const QString &service, const QString &key, std::function<void(bool)> done)
{
    static const QMetaType registered = qDBusRegisterMetaType<Attributes>();
    Q_UNUSED(registered);
    QDBusMessage search
        = QDBusMessage::createMethodCall(serviceName, QStringLiteral("/org/freedesktop/secrets"),
            QStringLiteral("org.freedesktop.Secret.Service"), QStringLiteral("SearchItems"));
    // The attributes QtKeychain's lookup matches (its libsecret schema): not secret.
    search << QVariant::fromValue(
        Attributes { { QStringLiteral("server"), service }, { QStringLiteral("user"), key } });
    call(search, [done = std::move(done)](const QDBusMessage &reply) {
        // SearchItems answers (ao unlocked, ao locked).
        if (reply.type() != QDBusMessage::ReplyMessage || reply.arguments().size() != 2) {
            qCDebug(lcStore) << "cannot ask the Secret Service about locked items:"
                             << reply.errorMessage();
            done(false);
            return;
        }
        const auto locked = qdbus_cast<QList<QDBusObjectPath>>(reply.arguments().at(1));
        done(!locked.isEmpty());
    });
}

void isDefaultCollectionLocked(std::function<void(bool)> done)
{
    QDBusMessage get = QDBusMessage::createMethodCall(serviceName,
        QStringLiteral("/org/freedesktop/secrets/aliases/default"),
        QStringLiteral("org.freedesktop.DBus.Properties"), QStringLiteral("Get"));
    get << QStringLiteral("org.freedesktop.Secret.Collection") << QStringLiteral("Locked");
    call(get, [done = std::move(done)](const QDBusMessage &reply) {
        if (reply.type() != QDBusMessage::ReplyMessage || reply.arguments().isEmpty()) {
            qCDebug(lcStore) << "cannot ask the Secret Service whether it is locked:"
                             << reply.errorMessage();
            done(false);
            return;
        }
        done(qdbus_cast<QDBusVariant>(reply.arguments().constFirst()).variant().toBool());
    });
}

} // namespace Latchkey::SecretService
