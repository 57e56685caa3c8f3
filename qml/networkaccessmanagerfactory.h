#pragma once

#include "latchkeyqml_export.h"

#include <QQmlNetworkAccessManagerFactory>

#include <memory>

class QQmlEngine;

namespace Latchkey {

class AuthClient;
class QmlNetworkAccessManagerFactoryPrivate;
class SessionRegistry;

/*!
    Makes a QML engine's network traffic authorized: XMLHttpRequest, Image and every other
    request QML sends to the origin of a registered AuthClient carries its access token and is
    refreshed and replayed transparently; requests to other origins are untouched.

    QML calls create() on several threads (XHR on the GUI thread, Image on a loader thread).
    Every manager made here forwards to an AuthorizedNetworkAccessManager of its own thread, and
    all of them share the client's one session and one refresh in flight. Clients may come and
    go at any time (a Session whose baseUrl changes), also after the managers exist.

    A Session installs this factory on its engine by itself (install()). An application with a
    factory of its own installs this one first, or derives from it.

    \code
    QQmlApplicationEngine engine;
    Latchkey::QmlNetworkAccessManagerFactory::install(&engine); // optional: Session does it
    engine.load(QUrl(u"qrc:/qt/qml/MyApp/Main.qml"_qs));
    \endcode
*/
class LATCHKEYQML_EXPORT QmlNetworkAccessManagerFactory : public QQmlNetworkAccessManagerFactory
{
public:
    /*! A factory without clients (install() makes one for an engine). */
    QmlNetworkAccessManagerFactory();
    ~QmlNetworkAccessManagerFactory() override;

    /*! Called by QML on any thread. */
    QNetworkAccessManager *create(QObject *parent) override;

    /*! Requests to \a client's origin go through its session from now on. Thread-safe; call
        removeClient() before the client is destroyed. */
    void addClient(AuthClient *client);
    /*! Requests to \a client's origin are no longer authorized. Thread-safe. */
    void removeClient(AuthClient *client);

    /*! The factory of \a engine if it is one of these, else nullptr. */
    static QmlNetworkAccessManagerFactory *of(QQmlEngine *engine);
    /*! Installs a factory owned by \a engine unless it has one already. Returns the engine's
        factory if it is one of these; nullptr (and a warning) if the engine has another one.
        Install before the engine sends its first request: QML keeps the manager it made. */
    static QmlNetworkAccessManagerFactory *install(QQmlEngine *engine);

private:
    // A Session shares the clients of its engine's factory (and keeps them alive past it).
    friend class QmlSession;
    std::shared_ptr<SessionRegistry> registry() const;

    std::unique_ptr<QmlNetworkAccessManagerFactoryPrivate> const d;
};

} // namespace Latchkey
