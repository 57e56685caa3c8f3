#include <latchkey/authclient.h>
#include <latchkey/memorytokenstore.h>

#include "rawhttpserver.h"
#include "scriptedserver.h"
#include "serverprocess.h"
#include "testhelpers.h"

#include <QTcpServer>
#include <QtTest>

using namespace Latchkey;
using namespace LatchkeyTest;

class TestSignIn : public QObject
{
    Q_OBJECT

    std::unique_ptr<AuthClient> client(const QUrl &baseUrl)
    {
        auto c = std::make_unique<AuthClient>(
            ServerProfile::builtin(QStringLiteral("latchkey")), baseUrl);
        c->setTokenStore(new MemoryTokenStore);
        return c;
    }

    // A scripted login endpoint answering \a status with \a body; returns the sign-in error.
    AuthError signInAgainst(const QByteArray &body, int status = 200)
    {
        ScriptedServer server;
        server.on(QStringLiteral("/api/auth/login"), [body, status](const QHttpServerRequest &) {
            return ScriptedServer::json(body, status);
        });
        if (!server.listen())
            return AuthError(AuthError::Kind::Cancelled, QStringLiteral("listen failed"));
        auto c = client(server.baseUrl());
        const AuthError error = await(c->signIn(guest, guestPassword));
        if (c->state() != AuthClient::State::SignedOut)
            return AuthError(AuthError::Kind::Cancelled, QStringLiteral("state is not SignedOut"));
        return error;
    }

private Q_SLOTS:
    void signInSucceeds()
    {
        ServerProcess server;
        QVERIFY2(server.start(ServerProcess::demoArgs()), qPrintable(server.errorString()));
        auto c = client(server.baseUrl());
        QSignalSpy states(c.get(), &AuthClient::stateChanged);
        QSignalSpy signedIn(c.get(), &AuthClient::signedIn);
        const AuthError error = await(c->signIn(guest, guestPassword));
        QVERIFY2(!error.isError(), qPrintable(error.toString()));
        QCOMPARE(c->state(), AuthClient::State::SignedIn);
        QCOMPARE(states.size(), 2); // SigningIn, SignedIn
        QCOMPARE(signedIn.size(), 1);
        QVERIFY(!c->isBusy());
        QCOMPARE(c->identity(), guest);
        QCOMPARE(c->user().value(QStringLiteral("email")).toString(), guest);
        QCOMPARE(c->roles(), QStringList { QStringLiteral("guest") });
        QVERIFY(c->hasRole(QStringLiteral("guest")));
        QVERIFY(!c->hasRole(QStringLiteral("manager")));
        QVERIFY(!c->claims().value(QStringLiteral("sub")).toString().isEmpty());
        const qint64 left = QDateTime::currentDateTimeUtc().secsTo(c->expiresAt());
        QVERIFY2(left > 800 && left <= 900, qPrintable(QString::number(left)));
        QCOMPARE(server.metric(QStringLiteral("latchkey_logins_total{result=\"ok\"}")), 1.0);
    }

    void badCredentialsSayNothingMore()
    {
        ServerProcess server;
        QVERIFY2(server.start(ServerProcess::demoArgs()), qPrintable(server.errorString()));
        auto c = client(server.baseUrl());
        const AuthError wrongPassword = await(c->signIn(guest, QStringLiteral("Wrong-2026!")));
        QCOMPARE(wrongPassword.kind(), AuthError::Kind::InvalidCredentials);
        QCOMPARE(wrongPassword.httpStatus(), 401);
        QCOMPARE(wrongPassword.message(), QStringLiteral("Invalid Credentials"));
        QCOMPARE(c->state(), AuthClient::State::SignedOut);
        const AuthError unknownUser
            = await(c->signIn(QStringLiteral("nobody@latchkey.test"), guestPassword));
        QCOMPARE(unknownUser.kind(), wrongPassword.kind());
        QCOMPARE(unknownUser.message(), wrongPassword.message());
        QCOMPARE(c->state(), AuthClient::State::SignedOut);
        QVERIFY(c->user().isEmpty());
    }

    void deadServerIsANetworkError()
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        const quint16 port = probe.serverPort();
        probe.close(); // nothing listens there now
        auto c = client(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port)));
        const AuthError error = await(c->signIn(guest, guestPassword));
        QCOMPARE(error.kind(), AuthError::Kind::Network);
        QCOMPARE(error.networkError(), QNetworkReply::ConnectionRefusedError);
        QCOMPARE(c->state(), AuthClient::State::SignedOut);
    }

    // A 200 whose body stops before its Content-Length (connection closed): the network
    // failed, not the server's language — Network, with Qt's error, not "malformed JSON".
    void answerCutShortIsANetworkError()
    {
        RawHttpServer server;
        server.on(QStringLiteral("/api/auth/login"), [](const RawHttpServer::Request &) {
            return RawHttpServer::cutShort(200, "{\"access_token\":\"ab", 200);
        });
        QVERIFY(server.listen());
        auto c = client(server.baseUrl());
        const AuthError error = await(c->signIn(guest, guestPassword));
        QCOMPARE(error.kind(), AuthError::Kind::Network);
        QCOMPARE(error.networkError(), QNetworkReply::RemoteHostClosedError);
        QCOMPARE(c->state(), AuthClient::State::SignedOut);
    }

    void malformedAnswerIsAProtocolError()
    {
        const AuthError error = signInAgainst("{\"access_token\": \"abc\", oops");
        QCOMPARE(error.kind(), AuthError::Kind::Protocol);
        QVERIFY2(error.message().contains(QStringLiteral("malformed JSON")),
            qPrintable(error.message()));
    }

    void missingTokenNamesThePointer()
    {
        const AuthError error = signInAgainst(R"({"token":"abc","expires_in":60})");
        QCOMPARE(error.kind(), AuthError::Kind::Protocol);
        QVERIFY2(
            error.message().contains(QStringLiteral("/access_token")), qPrintable(error.message()));
        QVERIFY(!error.message().contains(QStringLiteral("abc")));
    }

    void hugeAnswerIsRefused()
    {
        const QByteArray huge = "{\"access_token\":\"" + QByteArray(2 * 1024 * 1024, 'a') + "\"}";
        const AuthError error = signInAgainst(huge);
        QCOMPARE(error.kind(), AuthError::Kind::Protocol);
        QVERIFY2(error.message().contains(QStringLiteral("1 MiB")), qPrintable(error.message()));
    }

    void serverFailureIsAServerError()
    {
        const AuthError error = signInAgainst(R"({"message":"database on fire"})", 500);
        QCOMPARE(error.kind(), AuthError::Kind::Server);
        QCOMPARE(error.message(), QStringLiteral("database on fire"));
        QCOMPARE(error.httpStatus(), 500);
    }

    void plainHttpToARemoteHostIsRefused()
    {
        auto c = client(QUrl(QStringLiteral("http://api.example.invalid")));
        const AuthError error = await(c->signIn(guest, guestPassword));
        QCOMPARE(error.kind(), AuthError::Kind::Protocol);
        QVERIFY2(
            error.message().contains(QStringLiteral("plain http")), qPrintable(error.message()));
        QCOMPARE(c->state(), AuthClient::State::SignedOut);
        // Opting in lifts the refusal (the lookup of the invalid host then fails on the network).
        c->setAllowInsecureHttp(true);
        QCOMPARE(await(c->signIn(guest, guestPassword)).kind(), AuthError::Kind::Network);
    }
};

QTEST_GUILESS_MAIN(TestSignIn)
#include "tst_signin.moc"
