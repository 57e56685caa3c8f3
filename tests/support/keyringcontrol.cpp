#include "keyringcontrol.h"

#include <QDBusArgument>
#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusMetaType>
#include <QDBusObjectPath>
#include <QDBusReply>
#include <QDBusVariant>
#include <QMap>

namespace {

// The Secret Service's Secret struct, (oayays).
struct Secret
{
    QDBusObjectPath session;
    QByteArray parameters;
    QByteArray value;
    QString contentType;
};

QDBusArgument &operator<<(QDBusArgument &arg, const Secret &s)
{
    arg.beginStructure();
    arg << s.session << s.parameters << s.value << s.contentType;
    arg.endStructure();
    return arg;
}

const QDBusArgument &operator>>(const QDBusArgument &arg, Secret &s)
{
    arg.beginStructure();
    arg >> s.session >> s.parameters >> s.value >> s.contentType;
    arg.endStructure();
    return arg;
}

} // namespace

Q_DECLARE_METATYPE(Secret)

namespace LatchkeyTest::Keyring {

namespace {

const QString service = QStringLiteral("org.freedesktop.secrets");
const QString root = QStringLiteral("/org/freedesktop/secrets");
const QString serviceInterface = QStringLiteral("org.freedesktop.Secret.Service");

QDBusMessage call(const QString &path, const QString &interface, const QString &method,
    const QVariantList &arguments)
{
    QDBusMessage message = QDBusMessage::createMethodCall(service, path, interface, method);
    message.setArguments(arguments);
    return QDBusConnection::sessionBus().call(message, QDBus::Block, 10000);
}

bool failed(const QDBusMessage &reply, const char *what, QString *error)
{
    if (reply.type() != QDBusMessage::ErrorMessage)
        return false;
    if (error) {
        *error = QStringLiteral("%1: %2 (%3)")
                     .arg(QLatin1String(what), reply.errorName(), reply.errorMessage());
    }
    return true;
}

// The default collection's object path ("/" when there is none).
QDBusObjectPath defaultCollection(QString *error)
{
    const QDBusMessage reply
        = call(root, serviceInterface, QStringLiteral("ReadAlias"), { QStringLiteral("default") });
    if (failed(reply, "ReadAlias", error) || reply.arguments().isEmpty())
        return QDBusObjectPath(QStringLiteral("/"));
    return qvariant_cast<QDBusObjectPath>(reply.arguments().constFirst());
}

using Attributes = QMap<QString, QString>;

// The items (unlocked and locked) whose attributes include \a attributes.
QList<QDBusObjectPath> search(const Attributes &attributes, QString *error)
{
    qDBusRegisterMetaType<Attributes>();
    const QDBusMessage reply = call(
        root, serviceInterface, QStringLiteral("SearchItems"), { QVariant::fromValue(attributes) });
    if (failed(reply, "SearchItems", error) || reply.arguments().size() != 2)
        return {};
    return qdbus_cast<QList<QDBusObjectPath>>(reply.arguments().at(0))
        + qdbus_cast<QList<QDBusObjectPath>>(reply.arguments().at(1));
}

} // namespace

bool lock(QString *error)
{
    const QDBusObjectPath collection = defaultCollection(error);
    if (collection.path() == QLatin1String("/"))
        return false;
    const QDBusMessage reply = call(root, serviceInterface, QStringLiteral("Lock"),
        { QVariant::fromValue(QList<QDBusObjectPath> { collection }) });
    if (failed(reply, "Lock", error))
        return false;
    if (!isLocked()) {
        if (error)
            *error = QStringLiteral("Lock answered, but the collection is not locked");
        return false;
    }
    return true;
}

bool unlock(QString *error)
{
    const QByteArray password = qgetenv("LATCHKEY_KEYRING_PASSWORD");
    if (password.isEmpty()) {
        if (error)
            *error = QStringLiteral("LATCHKEY_KEYRING_PASSWORD is not set: run under "
                                    "tests/support/with-keyring.sh");
        return false;
    }
    qDBusRegisterMetaType<Secret>();
    const QDBusObjectPath collection = defaultCollection(error);
    if (collection.path() == QLatin1String("/"))
        return false;
    // The password travels in a "plain" session of this connection (the bus is private).
    const QDBusMessage opened = call(root, serviceInterface, QStringLiteral("OpenSession"),
        { QStringLiteral("plain"), QVariant::fromValue(QDBusVariant(QString())) });
    if (failed(opened, "OpenSession", error) || opened.arguments().size() != 2)
        return false;
    const auto session = qvariant_cast<QDBusObjectPath>(opened.arguments().at(1));
    const Secret master { session, QByteArray(), password, QStringLiteral("text/plain") };
    const QDBusMessage reply
        = call(root, QStringLiteral("org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface"),
            QStringLiteral("UnlockWithMasterPassword"),
            { QVariant::fromValue(collection), QVariant::fromValue(master) });
    call(session.path(), QStringLiteral("org.freedesktop.Secret.Session"), QStringLiteral("Close"),
        {});
    if (failed(reply, "UnlockWithMasterPassword", error))
        return false;
    if (isLocked()) {
        if (error)
            *error = QStringLiteral("UnlockWithMasterPassword answered, but the collection is "
                                    "still locked (wrong password?)");
        return false;
    }
    return true;
}

bool isLocked()
{
    const QDBusObjectPath collection = defaultCollection(nullptr);
    if (collection.path() == QLatin1String("/"))
        return false;
    const QDBusMessage reply = call(collection.path(),
        QStringLiteral("org.freedesktop.DBus.Properties"), QStringLiteral("Get"),
        { QStringLiteral("org.freedesktop.Secret.Collection"), QStringLiteral("Locked") });
    if (reply.type() != QDBusMessage::ReplyMessage || reply.arguments().isEmpty())
        return false;
    return qvariant_cast<QDBusVariant>(reply.arguments().constFirst()).variant().toBool();
}

QStringList keysOf(const QString &service)
{
    QStringList keys;
    for (const QDBusObjectPath &item : search({ { QStringLiteral("server"), service } }, nullptr)) {
        const QDBusMessage reply = call(item.path(),
            QStringLiteral("org.freedesktop.DBus.Properties"), QStringLiteral("Get"),
            { QStringLiteral("org.freedesktop.Secret.Item"), QStringLiteral("Attributes") });
        if (reply.type() != QDBusMessage::ReplyMessage || reply.arguments().isEmpty())
            continue;
        const QVariant value
            = qvariant_cast<QDBusVariant>(reply.arguments().constFirst()).variant();
        keys << qdbus_cast<Attributes>(value).value(QStringLiteral("user"));
    }
    keys.sort();
    return keys;
}

bool removeItem(const QString &service, const QString &key, QString *error)
{
    const QList<QDBusObjectPath> items
        = search({ { QStringLiteral("server"), service }, { QStringLiteral("user"), key } }, error);
    if (items.isEmpty()) {
        if (error && error->isEmpty())
            *error = QStringLiteral("no item for %1").arg(key);
        return false;
    }
    for (const QDBusObjectPath &item : items) {
        const QDBusMessage reply = call(item.path(), QStringLiteral("org.freedesktop.Secret.Item"),
            QStringLiteral("Delete"), {});
        if (failed(reply, "Delete", error))
            return false;
    }
    return true;
}

} // namespace LatchkeyTest::Keyring
