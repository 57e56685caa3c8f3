#include "database.h"

#include "serverlog.h"

#include <QAtomicInt>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

namespace {
QAtomicInt connectionCounter;

UserRecord userFromQuery(const QSqlQuery &q)
{
    UserRecord u;
    u.id = q.value(0).toLongLong();
    u.email = q.value(1).toString();
    u.firstName = q.value(2).toString();
    u.lastName = q.value(3).toString();
    u.roles = q.value(4).toString().split(QLatin1Char(','), Qt::SkipEmptyParts);
    u.passwordHash = QByteArray::fromHex(q.value(5).toString().toLatin1());
    u.salt = QByteArray::fromHex(q.value(6).toString().toLatin1());
    u.iterations = q.value(7).toInt();
    u.failedLogins = q.value(8).toInt();
    u.lockedUntilMs = q.value(9).toLongLong();
    u.username = q.value(10).toString();
    return u;
}

// QtSql binds a null QString as SQL NULL; the text columns are NOT NULL.
QString notNull(const QString &text)
{
    return text.isNull() ? QStringLiteral("") : text;
}

const QString userColumns = QStringLiteral(
    "id, email, first_name, last_name, roles, password_hash, salt, iterations, failed_logins, "
    "locked_until, username");

ApiKeyRecord apiKeyFromQuery(const QSqlQuery &q)
{
    ApiKeyRecord k;
    k.id = q.value(0).toLongLong();
    k.userId = q.value(1).toLongLong();
    k.name = q.value(2).toString();
    k.prefix = q.value(3).toString();
    k.keyHash = q.value(4).toString().toLatin1();
    k.scopes = q.value(5).toString().split(QLatin1Char(' '), Qt::SkipEmptyParts);
    k.createdAtMs = q.value(6).toLongLong();
    k.expiresAtMs = q.value(7).toLongLong();
    k.lastUsedAtMs = q.value(8).toLongLong();
    return k;
}

const QString apiKeyColumns = QStringLiteral(
    "id, user_id, name, prefix, key_hash, scopes, created_at, expires_at, last_used_at");
} // namespace

Database::Database()
    : m_connection(
        QStringLiteral("latchkey-server-%1").arg(connectionCounter.fetchAndAddRelaxed(1)))
{ }

Database::~Database()
{
    {
        QSqlDatabase db = QSqlDatabase::database(m_connection, false);
        if (db.isOpen())
            db.close();
    }
    QSqlDatabase::removeDatabase(m_connection);
}

bool Database::open(const QString &path, QString *error)
{
    if (path != QLatin1String(":memory:")) {
        const QFileInfo info(path);
        if (!QDir().mkpath(info.absolutePath())) {
            *error = QStringLiteral("cannot create directory %1").arg(info.absolutePath());
            return false;
        }
    }
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connection);
    db.setDatabaseName(path);
    if (!db.open()) {
        *error = QStringLiteral("cannot open database %1: %2").arg(path, db.lastError().text());
        return false;
    }
    if (!createSchema(error))
        return false;
    if (path != QLatin1String(":memory:")) // it holds the signing secret: owner only
        QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner);
    return true;
}

bool Database::createSchema(QString *error)
{
    const QString statements[] = {
        QStringLiteral("PRAGMA foreign_keys = ON"),
        QStringLiteral("CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT "
                       "NULL)"),
        QStringLiteral(
            "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT "
            "NOT NULL UNIQUE COLLATE NOCASE, first_name TEXT NOT NULL, last_name TEXT NOT NULL, "
            "roles TEXT NOT NULL, password_hash TEXT NOT NULL, salt TEXT NOT NULL, iterations "
            "INTEGER NOT NULL, failed_logins INTEGER NOT NULL DEFAULT 0, locked_until INTEGER NOT "
            "NULL DEFAULT 0, created_at INTEGER NOT NULL)"),
        QStringLiteral("CREATE TABLE IF NOT EXISTS refresh_tokens (token_hash TEXT PRIMARY KEY, "
                       "family_id TEXT NOT NULL, user_id INTEGER NOT NULL REFERENCES users(id) ON "
                       "DELETE CASCADE, expires_at INTEGER NOT NULL, used INTEGER NOT NULL "
                       "DEFAULT 0, revoked INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT "
                       "NULL)"),
        QStringLiteral("CREATE INDEX IF NOT EXISTS refresh_tokens_family ON "
                       "refresh_tokens(family_id)"),
        QStringLiteral("CREATE INDEX IF NOT EXISTS refresh_tokens_user ON refresh_tokens(user_id)"),
        QStringLiteral("CREATE TABLE IF NOT EXISTS bookings (id INTEGER PRIMARY KEY "
                       "AUTOINCREMENT, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE "
                       "CASCADE, hotel TEXT NOT NULL, check_in TEXT NOT NULL, check_out TEXT NOT "
                       "NULL, guests INTEGER NOT NULL, created_at INTEGER NOT NULL)"),
        QStringLiteral("CREATE INDEX IF NOT EXISTS bookings_user ON bookings(user_id)"),
        QStringLiteral("CREATE TABLE IF NOT EXISTS login_failures (user_id INTEGER NOT NULL "
                       "REFERENCES users(id) ON DELETE CASCADE, at INTEGER NOT NULL)"),
        QStringLiteral("CREATE INDEX IF NOT EXISTS login_failures_user ON "
                       "login_failures(user_id, at)"),
        QStringLiteral("CREATE TABLE IF NOT EXISTS api_keys (id INTEGER PRIMARY KEY "
                       "AUTOINCREMENT, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE "
                       "CASCADE, name TEXT NOT NULL, prefix TEXT NOT NULL, key_hash TEXT NOT NULL "
                       "UNIQUE, scopes TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at "
                       "INTEGER NOT NULL DEFAULT 0, last_used_at INTEGER NOT NULL DEFAULT 0)"),
        QStringLiteral("CREATE INDEX IF NOT EXISTS api_keys_user ON api_keys(user_id)"),
    };
    for (const QString &sql : statements) {
        QSqlQuery q = prepare(sql);
        if (!exec(q)) {
            *error = QStringLiteral("cannot create schema: %1").arg(q.lastError().text());
            return false;
        }
    }
    return migrate(error);
}

// Columns added after the first release; a database file from an older server gets them here.
bool Database::migrate(QString *error)
{
    QSqlQuery info = prepare(QStringLiteral("PRAGMA table_info(users)"));
    if (!exec(info)) {
        *error = QStringLiteral("cannot read the users table: %1").arg(info.lastError().text());
        return false;
    }
    bool hasUsername = false;
    while (info.next())
        hasUsername = hasUsername || info.value(1).toString() == QLatin1String("username");
    if (hasUsername)
        return true;
    QSqlQuery alter
        = prepare(QStringLiteral("ALTER TABLE users ADD COLUMN username TEXT NOT NULL DEFAULT ''"));
    if (!exec(alter)) {
        *error = QStringLiteral("cannot migrate the users table: %1").arg(alter.lastError().text());
        return false;
    }
    return true;
}

QSqlQuery Database::prepare(const QString &sql) const
{
    QSqlQuery q(QSqlDatabase::database(m_connection));
    if (!q.prepare(sql))
        qCWarning(lcServer) << "SQL prepare failed:" << q.lastError().text();
    return q;
}

bool Database::exec(QSqlQuery &query) const
{
    if (query.exec())
        return true;
    // Values are never logged: they may hold password hashes or token hashes.
    qCWarning(lcServer) << "SQL failed:" << query.lastError().text();
    return false;
}

bool Database::transaction()
{
    return QSqlDatabase::database(m_connection).transaction();
}

bool Database::commit()
{
    return QSqlDatabase::database(m_connection).commit();
}

void Database::rollback()
{
    QSqlDatabase::database(m_connection).rollback();
}

QString Database::setting(const QString &key) const
{
    QSqlQuery q = prepare(QStringLiteral("SELECT value FROM settings WHERE key = ?"));
    q.addBindValue(key);
    if (exec(q) && q.next())
        return q.value(0).toString();
    return {};
}

bool Database::setSetting(const QString &key, const QString &value)
{
    QSqlQuery q
        = prepare(QStringLiteral("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)"));
    q.addBindValue(key);
    q.addBindValue(value);
    return exec(q);
}

std::optional<UserRecord> Database::userByEmail(const QString &email) const
{
    QSqlQuery q = prepare(
        QStringLiteral("SELECT ") + userColumns + QStringLiteral(" FROM users WHERE email = ?"));
    q.addBindValue(email);
    if (exec(q) && q.next())
        return userFromQuery(q);
    return std::nullopt;
}

std::optional<UserRecord> Database::userById(qint64 id) const
{
    QSqlQuery q = prepare(
        QStringLiteral("SELECT ") + userColumns + QStringLiteral(" FROM users WHERE id = ?"));
    q.addBindValue(id);
    if (exec(q) && q.next())
        return userFromQuery(q);
    return std::nullopt;
}

QList<UserRecord> Database::users() const
{
    QList<UserRecord> result;
    QSqlQuery q = prepare(
        QStringLiteral("SELECT ") + userColumns + QStringLiteral(" FROM users ORDER BY id"));
    if (exec(q)) {
        while (q.next())
            result.append(userFromQuery(q));
    }
    return result;
}

qint64 Database::insertUser(const UserRecord &user)
{
    QSqlQuery q = prepare(QStringLiteral(
        "INSERT INTO users (email, first_name, last_name, roles, password_hash, salt, iterations, "
        "created_at, username) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    q.addBindValue(user.email);
    q.addBindValue(notNull(user.firstName));
    q.addBindValue(notNull(user.lastName));
    q.addBindValue(user.roles.join(QLatin1Char(',')));
    q.addBindValue(QString::fromLatin1(user.passwordHash.toHex()));
    q.addBindValue(QString::fromLatin1(user.salt.toHex()));
    q.addBindValue(user.iterations);
    q.addBindValue(QDateTime::currentMSecsSinceEpoch());
    q.addBindValue(notNull(user.username));
    if (!q.exec()) { // a UNIQUE violation is an expected outcome, not worth a warning
        qCDebug(lcServer) << "insert user:" << q.lastError().text();
        return 0;
    }
    return q.lastInsertId().toLongLong();
}

bool Database::updateUserNames(qint64 id, const QString &firstName, const QString &lastName)
{
    QSqlQuery q
        = prepare(QStringLiteral("UPDATE users SET first_name = ?, last_name = ? WHERE id = ?"));
    q.addBindValue(notNull(firstName));
    q.addBindValue(notNull(lastName));
    q.addBindValue(id);
    return exec(q);
}

bool Database::setLoginFailures(qint64 id, int failedLogins, qint64 lockedUntilMs)
{
    QSqlQuery q = prepare(
        QStringLiteral("UPDATE users SET failed_logins = ?, locked_until = ? WHERE id = ?"));
    q.addBindValue(failedLogins);
    q.addBindValue(lockedUntilMs);
    q.addBindValue(id);
    return exec(q);
}

bool Database::setUsername(qint64 id, const QString &username)
{
    QSqlQuery q = prepare(QStringLiteral("UPDATE users SET username = ? WHERE id = ?"));
    q.addBindValue(notNull(username));
    q.addBindValue(id);
    return exec(q);
}

bool Database::setUserRoles(qint64 id, const QStringList &roles)
{
    QSqlQuery q = prepare(QStringLiteral("UPDATE users SET roles = ? WHERE id = ?"));
    q.addBindValue(roles.join(QLatin1Char(',')));
    q.addBindValue(id);
    return exec(q) && q.numRowsAffected() == 1;
}

bool Database::updatePassword(
    qint64 id, const QByteArray &hash, const QByteArray &salt, int iterations)
{
    QSqlQuery q = prepare(QStringLiteral(
        "UPDATE users SET password_hash = ?, salt = ?, iterations = ? WHERE id = ?"));
    q.addBindValue(QString::fromLatin1(hash.toHex()));
    q.addBindValue(QString::fromLatin1(salt.toHex()));
    q.addBindValue(iterations);
    q.addBindValue(id);
    return exec(q) && q.numRowsAffected() == 1;
}

bool Database::addLoginFailure(qint64 userId, qint64 atMs)
{
    QSqlQuery q = prepare(QStringLiteral("INSERT INTO login_failures (user_id, at) VALUES (?, ?)"));
    q.addBindValue(userId);
    q.addBindValue(atMs);
    return exec(q);
}

int Database::loginFailuresSince(qint64 userId, qint64 sinceMs) const
{
    QSqlQuery q = prepare(
        QStringLiteral("SELECT COUNT(*) FROM login_failures WHERE user_id = ? AND at > ?"));
    q.addBindValue(userId);
    q.addBindValue(sinceMs);
    if (exec(q) && q.next())
        return q.value(0).toInt();
    return 0;
}

bool Database::clearLoginFailures(qint64 userId)
{
    QSqlQuery q = prepare(QStringLiteral("DELETE FROM login_failures WHERE user_id = ?"));
    q.addBindValue(userId);
    return exec(q);
}

qint64 Database::insertApiKey(const ApiKeyRecord &key)
{
    QSqlQuery q = prepare(QStringLiteral(
        "INSERT INTO api_keys (user_id, name, prefix, key_hash, scopes, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)"));
    q.addBindValue(key.userId);
    q.addBindValue(notNull(key.name));
    q.addBindValue(notNull(key.prefix));
    q.addBindValue(QString::fromLatin1(key.keyHash));
    q.addBindValue(notNull(key.scopes.join(QLatin1Char(' '))));
    q.addBindValue(key.createdAtMs);
    q.addBindValue(key.expiresAtMs);
    if (!exec(q))
        return 0;
    return q.lastInsertId().toLongLong();
}

QList<ApiKeyRecord> Database::apiKeysOfUser(qint64 userId) const
{
    QList<ApiKeyRecord> result;
    QSqlQuery q = prepare(QStringLiteral("SELECT ") + apiKeyColumns
        + QStringLiteral(" FROM api_keys WHERE user_id = ? ORDER BY id"));
    q.addBindValue(userId);
    if (exec(q)) {
        while (q.next())
            result.append(apiKeyFromQuery(q));
    }
    return result;
}

std::optional<ApiKeyRecord> Database::apiKeyByHash(const QByteArray &keyHash) const
{
    QSqlQuery q = prepare(QStringLiteral("SELECT ") + apiKeyColumns
        + QStringLiteral(" FROM api_keys WHERE key_hash = ?"));
    q.addBindValue(QString::fromLatin1(keyHash));
    if (exec(q) && q.next())
        return apiKeyFromQuery(q);
    return std::nullopt;
}

bool Database::deleteApiKey(qint64 userId, qint64 id)
{
    QSqlQuery q = prepare(QStringLiteral("DELETE FROM api_keys WHERE id = ? AND user_id = ?"));
    q.addBindValue(id);
    q.addBindValue(userId);
    return exec(q) && q.numRowsAffected() == 1;
}

bool Database::touchApiKey(qint64 id, qint64 atMs)
{
    QSqlQuery q = prepare(QStringLiteral("UPDATE api_keys SET last_used_at = ? WHERE id = ?"));
    q.addBindValue(atMs);
    q.addBindValue(id);
    return exec(q);
}

QList<BookingRecord> Database::bookingsForUser(qint64 userId) const
{
    QList<BookingRecord> result;
    QSqlQuery q = prepare(QStringLiteral("SELECT id, user_id, hotel, check_in, check_out, guests "
                                         "FROM bookings WHERE user_id = ? ORDER BY id"));
    q.addBindValue(userId);
    if (exec(q)) {
        while (q.next()) {
            BookingRecord b;
            b.id = q.value(0).toLongLong();
            b.userId = q.value(1).toLongLong();
            b.hotel = q.value(2).toString();
            b.checkIn = QDate::fromString(q.value(3).toString(), Qt::ISODate);
            b.checkOut = QDate::fromString(q.value(4).toString(), Qt::ISODate);
            b.guests = q.value(5).toInt();
            result.append(b);
        }
    }
    return result;
}

qint64 Database::insertBooking(const BookingRecord &booking)
{
    QSqlQuery q
        = prepare(QStringLiteral("INSERT INTO bookings (user_id, hotel, check_in, "
                                 "check_out, guests, created_at) VALUES (?, ?, ?, ?, ?, ?)"));
    q.addBindValue(booking.userId);
    q.addBindValue(booking.hotel);
    q.addBindValue(booking.checkIn.toString(Qt::ISODate));
    q.addBindValue(booking.checkOut.toString(Qt::ISODate));
    q.addBindValue(booking.guests);
    q.addBindValue(QDateTime::currentMSecsSinceEpoch());
    if (!exec(q))
        return 0;
    return q.lastInsertId().toLongLong();
}

bool Database::insertRefreshToken(const RefreshTokenRecord &token)
{
    QSqlQuery q = prepare(QStringLiteral("INSERT INTO refresh_tokens (token_hash, family_id, "
                                         "user_id, expires_at, used, revoked, created_at) VALUES "
                                         "(?, ?, ?, ?, ?, ?, ?)"));
    q.addBindValue(QString::fromLatin1(token.tokenHash));
    q.addBindValue(token.familyId);
    q.addBindValue(token.userId);
    q.addBindValue(token.expiresAtMs);
    q.addBindValue(token.used ? 1 : 0);
    q.addBindValue(token.revoked ? 1 : 0);
    q.addBindValue(QDateTime::currentMSecsSinceEpoch());
    return exec(q);
}

std::optional<RefreshTokenRecord> Database::refreshToken(const QByteArray &tokenHash) const
{
    QSqlQuery q = prepare(QStringLiteral("SELECT token_hash, family_id, user_id, expires_at, used, "
                                         "revoked FROM refresh_tokens WHERE token_hash = ?"));
    q.addBindValue(QString::fromLatin1(tokenHash));
    if (!exec(q) || !q.next())
        return std::nullopt;
    RefreshTokenRecord r;
    r.tokenHash = q.value(0).toString().toLatin1();
    r.familyId = q.value(1).toString();
    r.userId = q.value(2).toLongLong();
    r.expiresAtMs = q.value(3).toLongLong();
    r.used = q.value(4).toInt() != 0;
    r.revoked = q.value(5).toInt() != 0;
    return r;
}

bool Database::markRefreshTokenUsed(const QByteArray &tokenHash)
{
    QSqlQuery q
        = prepare(QStringLiteral("UPDATE refresh_tokens SET used = 1 WHERE token_hash = ?"));
    q.addBindValue(QString::fromLatin1(tokenHash));
    return exec(q) && q.numRowsAffected() == 1;
}

int Database::revokeFamily(const QString &familyId)
{
    QSqlQuery q = prepare(QStringLiteral(
        "UPDATE refresh_tokens SET revoked = 1 WHERE family_id = ? AND revoked = 0"));
    q.addBindValue(familyId);
    return exec(q) ? q.numRowsAffected() : 0;
}

int Database::revokeFamiliesOfUser(qint64 userId)
{
    QSqlQuery q = prepare(
        QStringLiteral("UPDATE refresh_tokens SET revoked = 1 WHERE user_id = ? AND revoked = 0"));
    q.addBindValue(userId);
    return exec(q) ? q.numRowsAffected() : 0;
}
