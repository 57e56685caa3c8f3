#include "refreshtokenstore.h"

#include "database.h"
#include "securerandom.h"
#include "serverlog.h"

#include <QCryptographicHash>
#include <QDateTime>

RefreshTokenStore::RefreshTokenStore(Database &db, qint64 ttlSeconds)
    : m_db(db)
    , m_ttlSeconds(ttlSeconds)
{ }

QByteArray RefreshTokenStore::hashToken(const QString &token)
{
    return QCryptographicHash::hash(token.toUtf8(), QCryptographicHash::Sha256).toHex();
}

RefreshTokenStore::Issued RefreshTokenStore::issue(qint64 userId)
{
    return issueInFamily(userId, QString::fromLatin1(secureRandomToken(16)));
}

RefreshTokenStore::Issued RefreshTokenStore::issueInFamily(qint64 userId, const QString &familyId)
{
    Issued issued;
    issued.token = QString::fromLatin1(secureRandomToken(32));
    issued.expiresIn = m_ttlSeconds;
    RefreshTokenRecord record;
    record.tokenHash = hashToken(issued.token);
    record.familyId = familyId;
    record.userId = userId;
    record.expiresAtMs = QDateTime::currentMSecsSinceEpoch() + m_ttlSeconds * 1000;
    if (!m_db.insertRefreshToken(record))
        return {};
    return issued;
}

RefreshTokenStore::Rotation RefreshTokenStore::rotate(const QString &token)
{
    Rotation rotation;
    const auto record = m_db.refreshToken(hashToken(token));
    if (!record)
        return rotation; // Unknown
    rotation.userId = record->userId;
    if (record->revoked) {
        rotation.outcome = Outcome::Revoked;
        return rotation;
    }
    if (record->used) {
        const int revoked = m_db.revokeFamily(record->familyId);
        qCWarning(lcServer) << "refresh token reuse detected for user" << record->userId
                            << "- revoked" << revoked << "token(s) of its family";
        rotation.outcome = Outcome::Reused;
        return rotation;
    }
    if (record->expiresAtMs <= QDateTime::currentMSecsSinceEpoch()) {
        rotation.outcome = Outcome::Expired;
        return rotation;
    }
    m_db.transaction();
    if (!m_db.markRefreshTokenUsed(record->tokenHash)) {
        m_db.rollback();
        return rotation; // Unknown
    }
    rotation.next = issueInFamily(record->userId, record->familyId);
    if (rotation.next.token.isEmpty()) {
        m_db.rollback();
        return rotation;
    }
    m_db.commit();
    rotation.outcome = Outcome::Rotated;
    return rotation;
}

bool RefreshTokenStore::revokeFamilyOf(const QString &token)
{
    const auto record = m_db.refreshToken(hashToken(token));
    if (!record)
        return false;
    m_db.revokeFamily(record->familyId);
    return true;
}

int RefreshTokenStore::revokeAllOfUser(qint64 userId)
{
    return m_db.revokeFamiliesOfUser(userId);
}
