#include "testhelpers.h"

#include "serverprofile_p.h"

#include <latchkey/tokenstore.h>

#include <QEventLoop>
#include <QTimer>

namespace LatchkeyTest {

using Latchkey::AuthError;

AuthError await(Latchkey::AuthReply *reply, int timeoutMs)
{
    if (reply->isFinished()) // one that does not delete itself, waited for before
        return reply->error();
    AuthError result(AuthError::Kind::Cancelled, QStringLiteral("timed out waiting for the reply"));
    QEventLoop loop;
    QObject::connect(reply, &Latchkey::AuthReply::finished, &loop, [&] {
        result = reply->error();
        loop.quit();
    });
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    loop.exec();
    return result;
}

QByteArray takeBody(QNetworkReply *reply, int *status)
{
    if (!reply->isFinished()) {
        QEventLoop loop;
        QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
        QTimer::singleShot(30000, &loop, &QEventLoop::quit);
        loop.exec();
    }
    if (status)
        *status = httpStatus(reply);
    const QByteArray data = reply->readAll();
    delete reply;
    return data;
}

bool awaitAll(const QList<QNetworkReply *> &replies, int timeoutMs)
{
    QEventLoop loop;
    QTimer timeout;
    timeout.setSingleShot(true);
    QObject::connect(&timeout, &QTimer::timeout, &loop, &QEventLoop::quit);
    timeout.start(timeoutMs);
    auto allDone = [&] {
        for (QNetworkReply *r : replies) {
            if (!r->isFinished())
                return false;
        }
        return true;
    };
    for (QNetworkReply *r : replies) {
        QObject::connect(r, &QNetworkReply::finished, &loop, [&] {
            if (allDone())
                loop.quit();
        });
    }
    if (!allDone())
        loop.exec();
    return allDone();
}

QString lastIdentityKey(const QString &profile, const QUrl &baseUrl)
{
    return profile + QLatin1Char(' ')
        + baseUrl.toString(QUrl::StripTrailingSlash | QUrl::RemoveUserInfo);
}

QString tokenKey(const QString &profile, const QUrl &baseUrl, const QString &identity)
{
    return lastIdentityKey(profile, baseUrl) + QLatin1Char(' ') + identity;
}

static QByteArray readStore(Latchkey::TokenStore *store, const QString &key)
{
    QByteArray value;
    bool done = false;
    QEventLoop loop;
    store->read(key, [&](const QByteArray &secret, const AuthError &) {
        value = secret;
        done = true;
        loop.quit();
    });
    QTimer::singleShot(10000, &loop, &QEventLoop::quit);
    if (!done)
        loop.exec();
    return value;
}

// An OpenID Connect profile's keys also name the issuer and the client.
static QString clientLastIdentityKey(Latchkey::AuthClient *client)
{
    QString key = lastIdentityKey(client->profile().name(), client->baseUrl());
    if (client->profile().isOpenIdConnect()) {
        const Latchkey::Profile::OpenIdConnect oidc
            = Latchkey::ServerProfilePrivate::of(client->profile()).oidc;
        key += QLatin1Char(' ') + oidc.issuer.toString() + QLatin1Char(' ') + oidc.clientId;
    }
    return key;
}

QByteArray storedRefreshToken(Latchkey::AuthClient *client, const QString &identity)
{
    return readStore(
        client->tokenStore(), clientLastIdentityKey(client) + QLatin1Char(' ') + identity);
}

QByteArray storedLastIdentity(Latchkey::AuthClient *client)
{
    return readStore(client->tokenStore(), clientLastIdentityKey(client));
}

} // namespace LatchkeyTest
