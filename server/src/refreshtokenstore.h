#pragma once

#include <QString>

class Database;

// Rotating refresh tokens grouped in families (one family per sign-in). A token is 256 random
// bits as base64url text; only its SHA-256 hex is stored. Presenting a token that was already
// rotated is treated as theft: the whole family is revoked.
class RefreshTokenStore
{
public:
    struct Issued
    {
        QString token;
        qint64 expiresIn = 0; // seconds
    };

    enum class Outcome { Rotated, Unknown, Expired, Revoked, Reused };

    struct Rotation
    {
        Outcome outcome = Outcome::Unknown;
        qint64 userId = 0;
        Issued next; // only for Rotated
    };

    RefreshTokenStore(Database &db, qint64 ttlSeconds);

    Issued issue(qint64 userId); // starts a new family
    Rotation rotate(const QString &token);
    // Revokes the family the token belongs to; false when the token is unknown.
    bool revokeFamilyOf(const QString &token);
    int revokeAllOfUser(qint64 userId);

    static QByteArray hashToken(const QString &token);

private:
    Issued issueInFamily(qint64 userId, const QString &familyId);

    Database &m_db;
    qint64 m_ttlSeconds;
};
