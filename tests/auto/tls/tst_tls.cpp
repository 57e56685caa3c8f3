#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/memorytokenstore.h>

#include "serverprocess.h"
#include "testcertificates.h"
#include "testhelpers.h"

#include <QSslConfiguration>
#include <QtTest>

using namespace Latchkey;
using namespace LatchkeyTest;

// HTTPS from sign-in to sign-out against the real server: the client trusts what its
// QSslConfiguration says (the system's CAs by default) and nothing else.
class TestTls : public QObject
{
    Q_OBJECT

    TestCertificates m_certificates;

    std::unique_ptr<AuthClient> client(const QUrl &baseUrl)
    {
        auto c = std::make_unique<AuthClient>(
            ServerProfile::builtin(QStringLiteral("latchkey")), baseUrl);
        c->setTokenStore(new MemoryTokenStore);
        return c;
    }

    // The system's CAs and the test CA, as docs/getting-started.md shows.
    QSslConfiguration trustingTheTestCa() const
    {
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.setCaCertificates(QSslConfiguration::systemCaCertificates() + m_certificates.ca());
        return tls;
    }

    static bool start(ServerProcess &server) { return server.start(ServerProcess::demoArgs()); }

    // A GET through the client's manager; returns the finished reply (owned by the caller).
    static std::unique_ptr<QNetworkReply> get(AuthClient *c, const QString &path)
    {
        std::unique_ptr<QNetworkReply> reply(
            c->networkAccessManager()->get(QNetworkRequest(c->baseUrl().resolved(QUrl(path)))));
        awaitAll({ reply.get() }, 20000);
        return reply;
    }

    static void verifyRefusedForTls(const AuthError &error)
    {
        QCOMPARE(error.kind(), AuthError::Kind::Network);
        QCOMPARE(error.networkError(), QNetworkReply::SslHandshakeFailedError);
        QVERIFY2(error.message().contains(QLatin1String("SSL")), qPrintable(error.message()));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_certificates.create(), qPrintable(m_certificates.errorString()));
    }

    void selfSignedServerIsRefused()
    {
        ServerProcess server;
        server.setTls(m_certificates.selfSignedCertificate(), m_certificates.selfSignedKey(),
            QSslCertificate::fromPath(m_certificates.selfSignedCertificate()));
        QVERIFY2(start(server), qPrintable(server.errorString()));
        QCOMPARE(server.baseUrl().scheme(), QStringLiteral("https"));
        const double before = server.metric(QStringLiteral("latchkey_requests_total"));
        QVERIFY(before > 0);

        // Trusting the system's CAs (the default), or a CA that did not sign it: refused.
        for (const bool withTestCa : { false, true }) {
            auto c = client(server.baseUrl());
            if (withTestCa)
                c->setSslConfiguration(trustingTheTestCa());
            const AuthError error = await(c->signIn(guest, guestPassword));
            verifyRefusedForTls(error);
            QCOMPARE(c->state(), AuthClient::State::SignedOut);
            // The same for a request through its manager: no reply ignores the error for us.
            const auto reply = get(c.get(), QStringLiteral("/api/ping"));
            QCOMPARE(reply->error(), QNetworkReply::SslHandshakeFailedError);
            QCOMPARE(httpStatus(reply.get()), 0);
        }
        // Nothing reached the server: the only request it saw since is the next /metrics.
        QCOMPARE(server.metric(QStringLiteral("latchkey_requests_total")), before + 1);
    }

    void trustedWithItsCaConfigured()
    {
        ServerProcess server;
        server.setTls(
            m_certificates.serverCertificate(), m_certificates.serverKey(), m_certificates.ca());
        QVERIFY2(start(server), qPrintable(server.errorString()));
        // Without the CA the server is a stranger.
        verifyRefusedForTls(await(client(server.baseUrl())->signIn(guest, guestPassword)));

        auto c = client(server.baseUrl());
        c->setSslConfiguration(trustingTheTestCa());
        QVERIFY(!c->sslConfiguration().isNull());
        const AuthError signedIn = await(c->signIn(guest, guestPassword));
        QVERIFY2(!signedIn.isError(), qPrintable(signedIn.toString()));
        QCOMPARE(c->state(), AuthClient::State::SignedIn);

        // A request to the API through the client's manager brings no configuration of its
        // own: it gets the client's.
        auto reply = get(c.get(), QStringLiteral("/api/bookings"));
        QCOMPARE(reply->error(), QNetworkReply::NoError);
        QCOMPARE(httpStatus(reply.get()), 200);

        // The refresh (its own manager) trusts the same CA.
        QSignalSpy refreshed(c.get(), &AuthClient::tokenRefreshed);
        QSignalSpy refreshFailed(c.get(), &AuthClient::refreshFailed);
        QCOMPARE(server.hook(QStringLiteral("/test/expire-access-tokens")), 204);
        reply = get(c.get(), QStringLiteral("/api/bookings"));
        QCOMPARE(httpStatus(reply.get()), 200);
        QCOMPARE(refreshed.size(), 1);
        QCOMPARE(refreshed.first().first().value<AuthClient::RefreshReason>(),
            AuthClient::RefreshReason::Unauthorized);
        QCOMPARE(refreshFailed.size(), 0);

        // And so does the sign-out's revocation.
        const AuthError signedOut = await(c->signOut());
        QVERIFY2(!signedOut.isError(), qPrintable(signedOut.toString()));
    }

    void certificateForAnotherHostIsRefused()
    {
        ServerProcess server;
        server.setTls(m_certificates.otherHostCertificate(), m_certificates.otherHostKey(),
            m_certificates.ca());
        QVERIFY2(start(server), qPrintable(server.errorString()));
        auto c = client(server.baseUrl()); // https://127.0.0.1:PORT
        c->setSslConfiguration(trustingTheTestCa()); // its issuer is trusted; its name is not ours
        const AuthError error = await(c->signIn(guest, guestPassword));
        verifyRefusedForTls(error);
        QVERIFY2(error.message().contains(QLatin1String("host name")), qPrintable(error.message()));
        QCOMPARE(c->state(), AuthClient::State::SignedOut);
    }
};

QTEST_GUILESS_MAIN(TestTls)
#include "tst_tls.moc"
