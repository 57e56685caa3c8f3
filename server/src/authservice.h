#pragma once

#include "database.h"
#include "jwtsigner.h"
#include "refreshtokenstore.h"

#include <QDateTime>
#include <QJsonObject>
#include <QStringList>

class FaultInjector;
class Metrics;

// What a successful login or refresh hands out.
struct TokenGrant
{
    QString accessToken;
    qint64 expiresIn = 0; // seconds
    QString refreshToken;
    qint64 refreshExpiresIn = 0; // seconds
    UserRecord user;
};

struct RegisterRequest
{
    QString email;
    QString password;
    QString firstName;
    QString lastName;
};

struct RegisterResult
{
    enum class Status { Created, EmailTaken, WeakPassword, Invalid, Failed };
    Status status = Status::Failed;
    UserRecord user;
    QStringList requirements; // WeakPassword
    QString message; // Invalid
};

struct LoginResult
{
    enum class Status { Ok, InvalidCredentials, Locked };
    Status status = Status::InvalidCredentials;
    TokenGrant grant;
    QDateTime lockedUntil; // Locked
};

struct RefreshResult
{
    enum class Status { Ok, Missing, Invalid, Reused, Injected };
    Status status = Status::Invalid;
    TokenGrant grant;
    int injectedStatus = 0; // Injected
};

struct BearerResult
{
    enum class Status { Ok, Missing, Invalid };
    Status status = Status::Missing;
    QString errorDescription; // Invalid: for WWW-Authenticate error_description
    UserRecord user;
    QJsonObject claims;
};

// The dialect-independent operations of the server. Dialects (LatchkeyDialect, later others)
// parse requests, call these and shape the answers. Login and refresh outcomes are counted in
// Metrics here so every dialect counts the same way.
class AuthService
{
public:
    struct Options
    {
        qint64 accessTtlSeconds = 900;
        qint64 refreshTtlSeconds = 30 * 24 * 3600;
        int pbkdf2Iterations = 100000;
        int lockoutThreshold = 5;
        qint64 lockoutSeconds = 1800;
    };

    AuthService(Database &db, QByteArray jwtSecret, const Options &options, Metrics &metrics,
        FaultInjector *faults);

    RegisterResult registerUser(
        const RegisterRequest &request, const QStringList &roles = { QStringLiteral("guest") });
    LoginResult login(const QString &email, const QString &password);
    RefreshResult refresh(const QString &refreshToken);
    // Revokes the refresh token's family. False when the token is unknown (still a success).
    bool logout(const QString &refreshToken);
    BearerResult authenticate(const QByteArray &accessToken) const;

    static QStringList permissionsFor(const QStringList &roles);
    static bool isValidEmail(const QString &email);

    Database &database() { return m_db; }
    RefreshTokenStore &refreshTokens() { return m_refreshTokens; }
    const Options &options() const { return m_options; }

private:
    TokenGrant makeGrant(const UserRecord &user, const RefreshTokenStore::Issued &refresh);
    QString issueAccessToken(const UserRecord &user);

    Database &m_db;
    JwtSigner m_signer;
    Options m_options;
    Metrics &m_metrics;
    FaultInjector *m_faults; // null without --test-hooks
    RefreshTokenStore m_refreshTokens;
    QByteArray m_dummySalt;
};
