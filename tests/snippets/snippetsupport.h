#pragma once

// What the examples in the public headers use without declaring it (tests/snippets): every
// public header, Qt's, and a few names of the application around an example, declared and never
// defined (the examples are compiled, never linked or run).

#include <latchkey/apiurl.h>
#include <latchkey/authclient.h>
#include <latchkey/autherror.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/authreply.h>
#include <latchkey/credentialsprovider.h>
#include <latchkey/deviceauthorization.h>
#include <latchkey/environmentcredentials.h>
#include <latchkey/filecredentials.h>
#include <latchkey/keychaincredentials.h>
#include <latchkey/keychaintokenstore.h>
#include <latchkey/memorytokenstore.h>
#include <latchkey/serverprofile.h>
#include <latchkey/tokenstore.h>

#include <QtCore>
#include <QtNetwork>

#ifdef LATCHKEY_SNIPPETS_QML
#include <QQmlApplicationEngine>
#endif

#include <functional>

namespace LatchkeySnippets {

// credentialsprovider.h: a secrets manager's client.
void fetchFromVault(std::function<void(const QByteArray &password)> done);
// autherror.h: a message "try again in N s".
void showRetryIn(int seconds);

// The object an example runs in: `this`, and the application's own members.
class Context : public QObject
{
public:
    void showSignInForm();
};

} // namespace LatchkeySnippets
