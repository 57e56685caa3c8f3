#pragma once

#include "database.h"
#include "jwtsigner.h"
#include "ratelimiter.h"
#include "refreshtokenstore.h"

#include <QDateTime>
#include <QHash>
#include <QJsonObject>
#include <QStringList>

#include <functional>

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
    QString username; // optional (hotel-reviews)
    bool namesOptional = false; // first and last name may be empty (the seed dialects)
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
    enum class Status { Ok, InvalidCredentials, Locked, RateLimited };
    Status status = Status::InvalidCredentials;
    TokenGrant grant;
    QDateTime lockedUntil; // Locked
    qint64 lockedForSeconds = 0; // Locked: at least 1
    // InvalidCredentials with a lockout threshold: failures left before a lockout (0: this
    // failure locked the account). -1: no lockout.
    int attemptsLeft = -1;
    RateLimiter::Decision rate; // every outcome: the client address's sign-in budget
};

struct ChangePasswordResult
{
    enum class Status { Ok, WrongPassword, WeakPassword, Failed };
    Status status = Status::Failed;
    QStringList requirements; // WeakPassword
};

struct NewApiKey
{
    ApiKeyRecord record;
    QString key; // shown once, never stored
};

struct RefreshResult
{
    enum class Status { Ok, Missing, Invalid, Reused, Injected };
    Status status = Status::Invalid;
    TokenGrant grant;
    int injectedStatus = 0; // Injected
    int injectedRetryAfter = 0; // Injected: seconds for a Retry-After header, 0: none
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
        qint64 lockoutWindowSeconds = 900;
        int loginRateLimit = 0; // per client address and window; 0 = off
        qint64 loginRateWindowSeconds = 60;
    };
    using Clock = std::function<qint64()>; // ms since the epoch
    using ClaimsProvider = std::function<QJsonObject(const UserRecord &)>;

    AuthService(Database &db, QByteArray jwtSecret, const Options &options, Metrics &metrics,
        FaultInjector *faults);

    RegisterResult registerUser(
        const RegisterRequest &request, const QStringList &roles = { QStringLiteral("guest") });
    // clientAddress keys the sign-in rate limit; empty = not limited.
    LoginResult login(
        const QString &email, const QString &password, const QString &clientAddress = {});
    ChangePasswordResult changePassword(
        const UserRecord &user, const QString &currentPassword, const QString &newPassword);
    RefreshResult refresh(const QString &refreshToken);
    // Revokes the refresh token's family. False when the token is unknown (still a success).
    bool logout(const QString &refreshToken);
    BearerResult authenticate(const QByteArray &accessToken) const;

    // API keys (hotel-reviews): `prefix` + 32 random hex digits; only the SHA-256 is stored.
    NewApiKey createApiKey(qint64 userId, const QString &name, const QStringList &scopes,
        qint64 expiresAtMs, const QString &prefix);
    // The key's record and its user when the key exists and has not expired; notes its use.
    std::optional<std::pair<ApiKeyRecord, UserRecord>> authenticateApiKey(const QString &key);

    // The role and permission claims of an access token; the dialect decides their shape.
    // Default: {"roles": [...], "permissions": permissionsFor(roles)}.
    void setClaimsProvider(ClaimsProvider provider) { m_claims = std::move(provider); }
    // For tests: the time lockout and rate limits see (default: the wall clock).
    void setClock(Clock clock) { m_clock = std::move(clock); }
    qint64 nowMs() const { return m_clock(); }

    static QStringList permissionsFor(const QStringList &roles);
    static bool isValidEmail(const QString &email);

    Database &database() { return m_db; }
    RefreshTokenStore &refreshTokens() { return m_refreshTokens; }
    const Options &options() const { return m_options; }

private:
    TokenGrant makeGrant(const UserRecord &user, const RefreshTokenStore::Issued &refresh);
    // A failed sign-in for an email without an account: counted and locked like an account's
    // (in memory), so neither the attempts left nor a lockout tell which emails exist.
    void failUnknownEmail(const QString &email, qint64 now, LoginResult &result);
    QString issueAccessToken(const UserRecord &user);

    Database &m_db;
    JwtSigner m_signer;
    Options m_options;
    Metrics &m_metrics;
    FaultInjector *m_faults; // null without --test-hooks
    RefreshTokenStore m_refreshTokens;
    QByteArray m_dummySalt;
    RateLimiter m_loginLimiter;
    struct UnknownEmailFailures
    {
        QList<qint64> times; // within the lockout window
        qint64 lockedUntilMs = 0;
    };
    QHash<QString, UnknownEmailFailures> m_unknownEmailFailures; // by lower-cased email
    ClaimsProvider m_claims;
    Clock m_clock;
};
