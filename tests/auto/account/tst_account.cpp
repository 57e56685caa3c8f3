#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/memorytokenstore.h>

#include "serverprocess.h"
#include "testhelpers.h"

#include <QJsonDocument>
#include <QtTest>

using namespace Latchkey;
using namespace LatchkeyTest;

class TestAccount : public QObject
{
    Q_OBJECT

    std::unique_ptr<ServerProcess> m_server;
    std::unique_ptr<AuthClient> m_client;

    static QJsonObject names()
    {
        return { { QStringLiteral("firstName"), QStringLiteral("Test") },
            { QStringLiteral("lastName"), QStringLiteral("Person") } };
    }

private Q_SLOTS:
    void init()
    {
        m_server = std::make_unique<ServerProcess>();
        QVERIFY2(m_server->start(ServerProcess::demoArgs()), qPrintable(m_server->errorString()));
        m_client = std::make_unique<AuthClient>(
            ServerProfile::builtin(QStringLiteral("latchkey")), m_server->baseUrl());
        m_client->setTokenStore(new MemoryTokenStore);
    }

    void cleanup()
    {
        m_client.reset();
        m_server.reset();
    }

    void registerCreatesAnAccount()
    {
        AuthReply *reply = m_client->registerAccount(QStringLiteral("new@latchkey.test"),
            QStringLiteral("Fresh-Start-42!"),
            { { QStringLiteral("firstName"), QStringLiteral("Nora") },
                { QStringLiteral("lastName"), QStringLiteral("New") } });
        reply->setAutoDelete(false);
        const AuthError error = await(reply);
        QVERIFY2(!error.isError(), qPrintable(error.toString()));
        QCOMPARE(reply->data().value(QStringLiteral("email")).toString(),
            QStringLiteral("new@latchkey.test"));
        delete reply;
        QCOMPARE(m_client->state(), AuthClient::State::SignedOut); // registering is not signing in
        QVERIFY(!await(m_client->signIn(
                           QStringLiteral("new@latchkey.test"), QStringLiteral("Fresh-Start-42!")))
                     .isError());
        QCOMPARE(
            m_client->user().value(QStringLiteral("firstName")).toString(), QStringLiteral("Nora"));
    }

    void takenIdentityAlreadyExists()
    {
        const AuthError error
            = await(m_client->registerAccount(guest, QStringLiteral("Another-2026!"), names()));
        QCOMPARE(error.kind(), AuthError::Kind::AlreadyExists);
        QCOMPARE(error.httpStatus(), 409);
        QVERIFY(!error.message().isEmpty());
    }

    void weakPasswordListsTheRules()
    {
        const AuthError error = await(m_client->registerAccount(
            QStringLiteral("weak@latchkey.test"), QStringLiteral("short"), names()));
        QCOMPARE(error.kind(), AuthError::Kind::PasswordPolicy);
        QCOMPARE(error.message(), QStringLiteral("Password does not meet requirements"));
        QVERIFY2(
            error.requirements().contains(QStringLiteral("Must be at least 8 characters long")),
            qPrintable(error.requirements().join(QLatin1Char('|'))));
        QVERIFY(error.requirements().contains(QStringLiteral("Must contain uppercase letters")));
    }

    void fetchAndUpdateProfile()
    {
        QVERIFY(!await(m_client->signIn(guest, guestPassword)).isError());
        QSignalSpy userChanged(m_client.get(), &AuthClient::userChanged);
        AuthReply *update
            = m_client->updateProfile({ { QStringLiteral("firstName"), QStringLiteral("Gina") } });
        QVERIFY(!await(update).isError());
        QCOMPARE(
            m_client->user().value(QStringLiteral("firstName")).toString(), QStringLiteral("Gina"));
        QCOMPARE(userChanged.size(), 1);
        AuthReply *fetch = m_client->fetchProfile();
        fetch->setAutoDelete(false);
        QVERIFY(!await(fetch).isError());
        QCOMPARE(
            fetch->data().value(QStringLiteral("firstName")).toString(), QStringLiteral("Gina"));
        QCOMPARE(fetch->data().value(QStringLiteral("email")).toString(), guest);
        delete fetch;
    }

    void rolesAndPermissionsFromTheToken()
    {
        QVERIFY(!await(m_client->signIn(guest, guestPassword)).isError());
        QCOMPARE(m_client->roles(), QStringList { QStringLiteral("guest") });
        QVERIFY(m_client->hasPermission(QStringLiteral("bookings:read")));
        QVERIFY(!m_client->hasPermission(QStringLiteral("users:read")));
        QVERIFY(!await(m_client->signIn(QStringLiteral("manager@latchkey.test"),
                           QStringLiteral("Manager-2026!")))
                     .isError());
        QVERIFY(m_client->hasRole(QStringLiteral("manager")));
        QVERIFY(m_client->hasPermission(QStringLiteral("users:read")));
    }

    void authEndpointUnauthorizedNeverRefreshes()
    {
        QVERIFY(!await(m_client->signIn(guest, guestPassword)).isError());
        // An app posting to the login endpoint through the authorized manager: the 401 is
        // about credentials, so no refresh, no bearer, no replay.
        QNetworkRequest request(
            m_server->baseUrl().resolved(QUrl(QStringLiteral("/api/auth/login"))));
        request.setHeader(
            QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        QNetworkReply *reply = m_client->networkAccessManager()->post(request,
            QJsonDocument(QJsonObject { { QStringLiteral("email"), guest },
                              { QStringLiteral("password"), QStringLiteral("wrong") } })
                .toJson());
        QVERIFY(awaitAll({ reply }));
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 401);
        QCOMPARE(m_server->metric(QStringLiteral("latchkey_refresh_total{result=\"ok\"}")), 0.0);
        QCOMPARE(
            m_server->metric(QStringLiteral("latchkey_logins_total{result=\"invalid\"}")), 1.0);
        delete reply;
    }
};

QTEST_GUILESS_MAIN(TestAccount)
#include "tst_account.moc"
