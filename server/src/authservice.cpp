#include "authservice.h"

#include "faultinjector.h"
#include "metrics.h"
#include "passwordhasher.h"
#include "passwordpolicy.h"
#include "securerandom.h"
#include "serverlog.h"

#include <QJsonArray>
#include <QRegularExpression>

AuthService::AuthService(Database &db, QByteArray jwtSecret, const Options &options,
    Metrics &metrics, FaultInjector *faults)
    : m_db(db)
    , m_signer(std::move(jwtSecret))
    , m_options(options)
    , m_metrics(metrics)
    , m_faults(faults)
    , m_refreshTokens(db, options.refreshTtlSeconds)
    , m_dummySalt(PasswordHasher::newSalt())
    , m_loginLimiter(options.loginRateLimit, options.loginRateWindowSeconds * 1000)
    , m_clock([] { return QDateTime::currentMSecsSinceEpoch(); })
{ }

QStringList AuthService::permissionsFor(const QStringList &roles)
{
    QStringList permissions { QStringLiteral("bookings:read"), QStringLiteral("bookings:write"),
        QStringLiteral("profile:read"), QStringLiteral("profile:write") };
    if (roles.contains(QLatin1String("manager")))
        permissions << QStringLiteral("users:read") << QStringLiteral("bookings:read_all");
    return permissions;
}

bool AuthService::isValidEmail(const QString &email)
{
    static const QRegularExpression pattern(QStringLiteral("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$"));
    return email.size() <= 254 && pattern.match(email).hasMatch();
}

RegisterResult AuthService::registerUser(const RegisterRequest &request, const QStringList &roles)
{
    RegisterResult result;
    const QString email = request.email.trimmed();
    const QString first = request.firstName.trimmed();
    const QString last = request.lastName.trimmed();
    if (!isValidEmail(email)) {
        result.status = RegisterResult::Status::Invalid;
        result.message = QStringLiteral("A valid email address is required.");
        return result;
    }
    const bool namesMissing = first.isEmpty() || last.isEmpty();
    if ((namesMissing && !request.namesOptional) || first.size() > 100 || last.size() > 100) {
        result.status = RegisterResult::Status::Invalid;
        result.message = QStringLiteral("firstName and lastName must be 1 to 100 characters.");
        return result;
    }
    result.requirements = PasswordPolicy::unmetRequirements(request.password);
    if (!result.requirements.isEmpty()) {
        result.status = RegisterResult::Status::WeakPassword;
        return result;
    }
    if (m_db.userByEmail(email)) {
        result.status = RegisterResult::Status::EmailTaken;
        return result;
    }
    UserRecord user;
    user.email = email;
    user.firstName = first;
    user.lastName = last;
    user.username = request.username.trimmed();
    user.roles = roles;
    user.salt = PasswordHasher::newSalt();
    user.iterations = m_options.pbkdf2Iterations;
    user.passwordHash = PasswordHasher::derive(request.password, user.salt, user.iterations);
    user.id = m_db.insertUser(user);
    if (user.id == 0) {
        // The only expected failure is a concurrent registration of the same email.
        result.status = m_db.userByEmail(email) ? RegisterResult::Status::EmailTaken
                                                : RegisterResult::Status::Failed;
        return result;
    }
    qCInfo(lcServer) << "registered user" << user.id;
    result.status = RegisterResult::Status::Created;
    result.user = user;
    return result;
}

LoginResult AuthService::login(
    const QString &email, const QString &password, const QString &clientAddress)
{
    LoginResult result;
    const qint64 now = m_clock();
    if (!clientAddress.isEmpty()) {
        // Checked first: a refused attempt costs no password hashing.
        result.rate = m_loginLimiter.hit(clientAddress, now);
        if (!result.rate.allowed) {
            result.status = LoginResult::Status::RateLimited;
            m_metrics.count(Metrics::Login::RateLimited);
            qCInfo(lcServer) << "sign-in rate limit reached for a client address";
            return result;
        }
    }
    const auto user = m_db.userByEmail(email.trimmed());
    if (!user) {
        if (m_options.lockoutThreshold > 0) {
            failUnknownEmail(email, now, result);
            if (result.status == LoginResult::Status::Locked) {
                m_metrics.count(Metrics::Login::Locked);
                return result;
            }
        }
        // Same work as a real check, so the answer time does not reveal unknown emails.
        PasswordHasher::derive(password, m_dummySalt, m_options.pbkdf2Iterations);
        m_metrics.count(Metrics::Login::Invalid);
        return result;
    }
    if (m_options.lockoutThreshold > 0 && user->lockedUntilMs > now) {
        result.status = LoginResult::Status::Locked;
        result.lockedUntil = QDateTime::fromMSecsSinceEpoch(user->lockedUntilMs, Qt::UTC);
        result.lockedForSeconds = std::max<qint64>(1, (user->lockedUntilMs - now + 999) / 1000);
        m_metrics.count(Metrics::Login::Locked);
        return result;
    }
    if (!PasswordHasher::verify(password, user->salt, user->iterations, user->passwordHash)) {
        if (m_options.lockoutThreshold > 0) {
            // Failures within the window count; reaching the threshold locks the account and
            // starts counting afresh.
            m_db.addLoginFailure(user->id, now);
            const int failures
                = m_db.loginFailuresSince(user->id, now - m_options.lockoutWindowSeconds * 1000);
            qint64 lockedUntil = 0;
            if (failures >= m_options.lockoutThreshold) {
                lockedUntil = now + m_options.lockoutSeconds * 1000;
                m_db.clearLoginFailures(user->id);
                qCWarning(lcServer)
                    << "user" << user->id << "locked after" << failures << "failed logins";
            }
            m_db.setLoginFailures(user->id, lockedUntil ? 0 : failures, lockedUntil);
            result.attemptsLeft = std::max(0, m_options.lockoutThreshold - failures);
        }
        m_metrics.count(Metrics::Login::Invalid);
        return result;
    }
    if (user->failedLogins != 0 || user->lockedUntilMs != 0) {
        m_db.clearLoginFailures(user->id);
        m_db.setLoginFailures(user->id, 0, 0);
    }
    const RefreshTokenStore::Issued refresh = m_refreshTokens.issue(user->id);
    if (refresh.token.isEmpty()) {
        qCWarning(lcServer) << "could not store a refresh token";
        m_metrics.count(Metrics::Login::Invalid);
        return result;
    }
    result.status = LoginResult::Status::Ok;
    result.grant = makeGrant(*user, refresh);
    m_metrics.count(Metrics::Login::Ok);
    return result;
}

ChangePasswordResult AuthService::changePassword(
    const UserRecord &user, const QString &currentPassword, const QString &newPassword)
{
    ChangePasswordResult result;
    if (!PasswordHasher::verify(currentPassword, user.salt, user.iterations, user.passwordHash)) {
        result.status = ChangePasswordResult::Status::WrongPassword;
        return result;
    }
    result.requirements = PasswordPolicy::unmetRequirements(newPassword);
    if (!result.requirements.isEmpty()) {
        result.status = ChangePasswordResult::Status::WeakPassword;
        return result;
    }
    const QByteArray salt = PasswordHasher::newSalt();
    const QByteArray hash = PasswordHasher::derive(newPassword, salt, m_options.pbkdf2Iterations);
    if (!m_db.updatePassword(user.id, hash, salt, m_options.pbkdf2Iterations))
        return result; // Failed
    qCInfo(lcServer) << "user" << user.id << "changed their credentials";
    result.status = ChangePasswordResult::Status::Ok;
    return result;
}

NewApiKey AuthService::createApiKey(qint64 userId, const QString &name, const QStringList &scopes,
    qint64 expiresAtMs, const QString &prefix)
{
    NewApiKey created;
    created.key = prefix + QString::fromLatin1(secureRandomBytes(16).toHex());
    ApiKeyRecord &record = created.record;
    record.userId = userId;
    record.name = name;
    record.prefix = created.key.left(prefix.size() + 4);
    record.keyHash = RefreshTokenStore::hashToken(created.key);
    record.scopes = scopes;
    record.createdAtMs = m_clock();
    record.expiresAtMs = expiresAtMs;
    record.id = m_db.insertApiKey(record);
    if (record.id == 0)
        return {};
    qCInfo(lcServer) << "user" << userId << "created API key" << record.id;
    return created;
}

std::optional<std::pair<ApiKeyRecord, UserRecord>> AuthService::authenticateApiKey(
    const QString &key)
{
    if (key.isEmpty() || key.size() > 256)
        return std::nullopt;
    auto record = m_db.apiKeyByHash(RefreshTokenStore::hashToken(key));
    const qint64 now = m_clock();
    if (!record || (record->expiresAtMs != 0 && record->expiresAtMs <= now))
        return std::nullopt;
    const auto user = m_db.userById(record->userId);
    if (!user)
        return std::nullopt;
    m_db.touchApiKey(record->id, now);
    record->lastUsedAtMs = now;
    return std::make_pair(*record, *user);
}

RefreshResult AuthService::refresh(const QString &refreshToken)
{
    RefreshResult result;
    if (m_faults) {
        if (const auto status = m_faults->takeRefreshFailure()) {
            result.status = RefreshResult::Status::Injected;
            result.injectedStatus = *status;
            result.injectedRetryAfter = m_faults->refreshFailureRetryAfter();
            m_metrics.count(Metrics::Refresh::Injected);
            return result;
        }
    }
    if (refreshToken.isEmpty()) {
        result.status = RefreshResult::Status::Missing;
        m_metrics.count(Metrics::Refresh::Missing);
        return result;
    }
    const RefreshTokenStore::Rotation rotation = m_refreshTokens.rotate(refreshToken);
    if (rotation.outcome == RefreshTokenStore::Outcome::Reused) {
        result.status = RefreshResult::Status::Reused;
        m_metrics.count(Metrics::Refresh::Reused);
        return result;
    }
    const auto user = rotation.outcome == RefreshTokenStore::Outcome::Rotated
        ? m_db.userById(rotation.userId)
        : std::nullopt;
    if (!user) {
        m_metrics.count(Metrics::Refresh::Invalid);
        return result;
    }
    result.status = RefreshResult::Status::Ok;
    result.grant = makeGrant(*user, rotation.next);
    m_metrics.count(Metrics::Refresh::Ok);
    return result;
}

bool AuthService::logout(const QString &refreshToken)
{
    return !refreshToken.isEmpty() && m_refreshTokens.revokeFamilyOf(refreshToken);
}

BearerResult AuthService::authenticate(const QByteArray &accessToken) const
{
    BearerResult result;
    if (accessToken.isEmpty())
        return result; // Missing
    result.status = BearerResult::Status::Invalid;
    const JwtSigner::Verified verified
        = m_signer.verify(accessToken, QDateTime::currentSecsSinceEpoch());
    if (verified.error != JwtSigner::Error::None) {
        result.errorDescription = JwtSigner::describe(verified.error);
        return result;
    }
    bool ok = false;
    const qint64 userId = verified.claims.value(QLatin1String("sub")).toString().toLongLong(&ok);
    const auto user = ok ? m_db.userById(userId) : std::nullopt;
    if (!user) {
        result.errorDescription = QStringLiteral("The access token's user does not exist");
        return result;
    }
    if (m_faults
        && m_faults->isForcedExpired(
            verified.claims.value(QLatin1String("jti")).toString(), userId)) {
        result.errorDescription = JwtSigner::describe(JwtSigner::Error::Expired);
        return result;
    }
    result.status = BearerResult::Status::Ok;
    result.user = *user;
    result.claims = verified.claims;
    return result;
}

void AuthService::failUnknownEmail(const QString &email, qint64 now, LoginResult &result)
{
    const qint64 windowStart = now - m_options.lockoutWindowSeconds * 1000;
    if (m_unknownEmailFailures.size() >= 10000) { // bounded: forget what no longer counts
        m_unknownEmailFailures.removeIf([now, windowStart](const auto &entry) {
            return entry.value().lockedUntilMs <= now
                && (entry.value().times.isEmpty() || entry.value().times.last() < windowStart);
        });
        if (m_unknownEmailFailures.size() >= 10000)
            m_unknownEmailFailures.clear();
    }
    UnknownEmailFailures &entry = m_unknownEmailFailures[email.trimmed().toLower()];
    if (entry.lockedUntilMs > now) {
        result.status = LoginResult::Status::Locked;
        result.lockedUntil = QDateTime::fromMSecsSinceEpoch(entry.lockedUntilMs, Qt::UTC);
        result.lockedForSeconds = std::max<qint64>(1, (entry.lockedUntilMs - now + 999) / 1000);
        return;
    }
    entry.times.removeIf([windowStart](qint64 t) { return t < windowStart; });
    entry.times << now;
    const int failures = int(entry.times.size());
    result.attemptsLeft = std::max(0, m_options.lockoutThreshold - failures);
    if (failures >= m_options.lockoutThreshold) {
        entry.times.clear();
        entry.lockedUntilMs = now + m_options.lockoutSeconds * 1000;
    }
}

TokenGrant AuthService::makeGrant(const UserRecord &user, const RefreshTokenStore::Issued &refresh)
{
    TokenGrant grant;
    grant.accessToken = issueAccessToken(user);
    grant.expiresIn = m_options.accessTtlSeconds;
    grant.refreshToken = refresh.token;
    grant.refreshExpiresIn = refresh.expiresIn;
    grant.user = user;
    return grant;
}

QString AuthService::issueAccessToken(const UserRecord &user)
{
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    const QString jti = QString::fromLatin1(secureRandomToken(16));
    QJsonObject claims = m_claims
        ? m_claims(user)
        : QJsonObject {
              { QStringLiteral("roles"), QJsonArray::fromStringList(user.roles) },
              { QStringLiteral("permissions"),
                  QJsonArray::fromStringList(permissionsFor(user.roles)) },
          };
    claims.insert(QStringLiteral("sub"), QString::number(user.id));
    claims.insert(QStringLiteral("email"), user.email);
    claims.insert(QStringLiteral("iat"), now);
    claims.insert(QStringLiteral("exp"), now + m_options.accessTtlSeconds);
    claims.insert(QStringLiteral("jti"), jti);
    if (m_faults)
        m_faults->noteIssued(jti);
    return QString::fromLatin1(m_signer.sign(claims));
}
