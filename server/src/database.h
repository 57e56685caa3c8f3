#pragma once

#include <QDate>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

class QSqlQuery;

struct UserRecord
{
    qint64 id = 0;
    QString email;
    QString firstName;
    QString lastName;
    QString username; // hotel-reviews only; empty elsewhere
    QStringList roles;
    QByteArray passwordHash; // raw PBKDF2 output
    QByteArray salt;
    int iterations = 0;
    int failedLogins = 0;
    qint64 lockedUntilMs = 0; // ms since epoch, 0 = not locked
};

struct ApiKeyRecord
{
    qint64 id = 0;
    qint64 userId = 0;
    QString name;
    QString prefix; // the first characters of the key, for display
    QByteArray keyHash; // SHA-256 hex; the key itself is never stored
    QStringList scopes;
    qint64 createdAtMs = 0;
    qint64 expiresAtMs = 0; // 0 = never
    qint64 lastUsedAtMs = 0; // 0 = never used
};

struct BookingRecord
{
    qint64 id = 0;
    qint64 userId = 0;
    QString hotel;
    QDate checkIn;
    QDate checkOut;
    int guests = 0;
};

struct RefreshTokenRecord
{
    QByteArray tokenHash; // SHA-256 hex of the token; the token itself is never stored
    QString familyId;
    qint64 userId = 0;
    qint64 expiresAtMs = 0;
    bool used = false;
    bool revoked = false;
};

// SQLite storage through QtSql, prepared statements only. One connection per instance, so
// several in-process servers (tests) can coexist.
class Database
{
public:
    Database();
    ~Database();
    Database(const Database &) = delete;
    Database &operator=(const Database &) = delete;

    // path: a file (its directory is created) or ":memory:".
    bool open(const QString &path, QString *error);

    bool transaction();
    bool commit();
    void rollback();

    QString setting(const QString &key) const;
    bool setSetting(const QString &key, const QString &value);

    std::optional<UserRecord> userByEmail(const QString &email) const; // case-insensitive
    std::optional<UserRecord> userById(qint64 id) const;
    QList<UserRecord> users() const;
    qint64 insertUser(const UserRecord &user); // new id, or 0 on failure (e.g. email taken)
    bool updateUserNames(qint64 id, const QString &firstName, const QString &lastName);
    bool setLoginFailures(qint64 id, int failedLogins, qint64 lockedUntilMs);
    bool setUsername(qint64 id, const QString &username);
    bool setUserRoles(qint64 id, const QStringList &roles);
    bool updatePassword(qint64 id, const QByteArray &hash, const QByteArray &salt, int iterations);

    // Failed sign-ins, one row each, for the lockout window.
    bool addLoginFailure(qint64 userId, qint64 atMs);
    int loginFailuresSince(qint64 userId, qint64 sinceMs) const;
    bool clearLoginFailures(qint64 userId);

    qint64 insertApiKey(const ApiKeyRecord &key); // new id, or 0
    QList<ApiKeyRecord> apiKeysOfUser(qint64 userId) const;
    std::optional<ApiKeyRecord> apiKeyByHash(const QByteArray &keyHash) const;
    bool deleteApiKey(qint64 userId, qint64 id); // false when the user has no such key
    bool touchApiKey(qint64 id, qint64 atMs);

    QList<BookingRecord> bookingsForUser(qint64 userId) const;
    qint64 insertBooking(const BookingRecord &booking);

    bool insertRefreshToken(const RefreshTokenRecord &token);
    std::optional<RefreshTokenRecord> refreshToken(const QByteArray &tokenHash) const;
    bool markRefreshTokenUsed(const QByteArray &tokenHash);
    int revokeFamily(const QString &familyId);
    int revokeFamiliesOfUser(qint64 userId);

private:
    bool createSchema(QString *error);
    bool migrate(QString *error);
    bool exec(QSqlQuery &query) const;
    QSqlQuery prepare(const QString &sql) const;

    QString m_connection;
};
