#include <latchkey/autherror.h>

#include <QMetaEnum>

namespace Latchkey {

class AuthErrorData : public QSharedData
{
public:
    AuthError::Kind kind = AuthError::Kind::NoError;
    QString message;
    int httpStatus = 0;
    int retryAfter = -1;
    QDateTime lockedUntil;
    int attemptsLeft = -1;
    QStringList requirements;
    QNetworkReply::NetworkError networkError = QNetworkReply::NoError;
};

AuthError::AuthError()
    : d(new AuthErrorData)
{ }

AuthError::AuthError(Kind kind, const QString &message, int httpStatus)
    : d(new AuthErrorData)
{
    d->kind = kind;
    d->message = message;
    d->httpStatus = httpStatus;
}

AuthError::AuthError(const AuthError &other) = default;
AuthError &AuthError::operator=(const AuthError &other) = default;

bool AuthError::operator==(const AuthError &other) const
{
    return d == other.d
        || (d->kind == other.d->kind && d->message == other.d->message
            && d->httpStatus == other.d->httpStatus && d->retryAfter == other.d->retryAfter
            && d->lockedUntil == other.d->lockedUntil && d->attemptsLeft == other.d->attemptsLeft
            && d->requirements == other.d->requirements
            && d->networkError == other.d->networkError);
}
AuthError::~AuthError() = default;

AuthError::Kind AuthError::kind() const
{
    return d->kind;
}
QString AuthError::message() const
{
    return d->message;
}
int AuthError::httpStatus() const
{
    return d->httpStatus;
}
int AuthError::retryAfter() const
{
    return d->retryAfter;
}
int AuthError::attemptsLeft() const
{
    return d->attemptsLeft;
}
QDateTime AuthError::lockedUntil() const
{
    return d->lockedUntil;
}
QStringList AuthError::requirements() const
{
    return d->requirements;
}
QNetworkReply::NetworkError AuthError::networkError() const
{
    return d->networkError;
}

AuthError &AuthError::setRetryAfter(int seconds)
{
    d->retryAfter = seconds;
    return *this;
}

AuthError &AuthError::setAttemptsLeft(int attempts)
{
    d->attemptsLeft = attempts < 0 ? -1 : attempts;
    return *this;
}

AuthError &AuthError::setLockedUntil(const QDateTime &until)
{
    d->lockedUntil = until;
    return *this;
}

AuthError &AuthError::setRequirements(const QStringList &requirements)
{
    d->requirements = requirements;
    return *this;
}

AuthError &AuthError::setNetworkError(QNetworkReply::NetworkError code)
{
    d->networkError = code;
    return *this;
}

QString AuthError::kindName(Kind kind)
{
    return QString::fromLatin1(QMetaEnum::fromType<Kind>().valueToKey(int(kind)));
}

QString AuthError::toString() const
{
    QString text = kindName(d->kind);
    if (!d->message.isEmpty())
        text += QStringLiteral(": ") + d->message;
    if (d->httpStatus > 0)
        text += QStringLiteral(" (HTTP %1)").arg(d->httpStatus);
    if (d->retryAfter >= 0)
        text += QStringLiteral(", retry after %1 s").arg(d->retryAfter);
    if (d->lockedUntil.isValid())
        text += QStringLiteral(", locked until %1").arg(d->lockedUntil.toString(Qt::ISODate));
    if (d->attemptsLeft == 0)
        text += QStringLiteral(", no sign-in attempt left: the account is locked now");
    else if (d->attemptsLeft == 1)
        text += QStringLiteral(", 1 sign-in attempt left before a lockout");
    else if (d->attemptsLeft > 1)
        text += QStringLiteral(", %1 sign-in attempts left before a lockout").arg(d->attemptsLeft);
    if (!d->requirements.isEmpty())
        text += QStringLiteral(": ") + d->requirements.join(QStringLiteral("; "));
    return text;
}

} // namespace Latchkey
