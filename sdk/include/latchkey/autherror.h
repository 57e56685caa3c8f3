#pragma once

#include <latchkey/latchkey_export.h>

#include <QDateTime>
#include <QMetaType>
#include <QNetworkReply>
#include <QObject>
#include <QSharedDataPointer>
#include <QString>
#include <QStringList>

namespace Latchkey {

class AuthErrorData;

/*!
    The one error type of Latchkey. A kind a program can branch on, the server's own message
    (never a token), and the details a person needs to act: how long to wait, until when an
    account is locked, which password rules were not met. Transport failures (kind Network)
    are kept apart from HTTP statuses: networkError() holds the QNetworkReply code.

    \code
    connect(reply, &Latchkey::AuthReply::finished, this, [reply] {
        if (reply->error().kind() == Latchkey::AuthError::Kind::RateLimited)
            showRetryIn(reply->error().retryAfter());
    });
    \endcode
*/
class LATCHKEY_EXPORT AuthError
{
    Q_GADGET
    Q_PROPERTY(Kind kind READ kind CONSTANT)
    Q_PROPERTY(bool isError READ isError CONSTANT)
    Q_PROPERTY(QString message READ message CONSTANT)
    Q_PROPERTY(int httpStatus READ httpStatus CONSTANT)
    Q_PROPERTY(int retryAfter READ retryAfter CONSTANT)
    Q_PROPERTY(QDateTime lockedUntil READ lockedUntil CONSTANT)
    Q_PROPERTY(int attemptsLeft READ attemptsLeft CONSTANT)
    Q_PROPERTY(QStringList requirements READ requirements CONSTANT)
public:
    enum class Kind {
        NoError,
        InvalidCredentials, ///< wrong identity or password; see attemptsLeft()
        AccountLocked, ///< too many failed sign-ins; see lockedUntil()
        RateLimited, ///< too many requests; see retryAfter()
        PasswordPolicy, ///< the new password breaks the server's rules; see requirements()
        AlreadyExists, ///< registration: the identity is taken
        SessionExpired, ///< the server rejected the refresh token: sign in again
        NotSignedIn, ///< there is no session (nothing stored to restore, or signed out)
        Network, ///< the server could not be reached, or its answer was cut short; the session
                 ///< is kept
        Server, ///< the server failed (5xx), or something before it refused a refresh (a 4xx
                ///< that does not say the refresh token is dead); the session is kept
        Protocol, ///< the response was not what the profile describes, or a request is refused
        KeychainUnavailable, ///< the OS keychain refused or is locked
        Cancelled, ///< the operation was aborted by the application
        AccessDenied, ///< the user or the identity provider refused the sign-in (access_denied)
        AuthorizationExpired, ///< a device code or a browser sign-in ran out of time before
                              ///< it was approved
    };
    Q_ENUM(Kind)

    AuthError();
    AuthError(Kind kind, const QString &message, int httpStatus = 0);
    AuthError(const AuthError &other);
    AuthError &operator=(const AuthError &other);
    /*! Equal when every detail is: kind, message, HTTP status, retry-after, locked-until,
        attempts left, requirements and network error. */
    bool operator==(const AuthError &other) const;
    bool operator!=(const AuthError &other) const { return !(*this == other); }
    ~AuthError();

    Kind kind() const;
    bool isError() const { return kind() != Kind::NoError; }
    QString message() const;
    int httpStatus() const;
    /*! Seconds to wait before trying again (RateLimited), -1 when the server did not say. */
    int retryAfter() const;
    QDateTime lockedUntil() const;
    /*! InvalidCredentials: the failed sign-ins the server still allows before it locks the
        account (0: this one locked it), -1 when the server did not say. */
    int attemptsLeft() const;
    QStringList requirements() const;
    QNetworkReply::NetworkError networkError() const;

    AuthError &setRetryAfter(int seconds);
    AuthError &setLockedUntil(const QDateTime &until);
    AuthError &setAttemptsLeft(int attempts);
    AuthError &setRequirements(const QStringList &requirements);
    AuthError &setNetworkError(QNetworkReply::NetworkError code);

    /*! "SessionExpired: Invalid or expired refresh token. (HTTP 401)" */
    QString toString() const;
    static QString kindName(Kind kind);

private:
    QSharedDataPointer<AuthErrorData> d;
};

} // namespace Latchkey

Q_DECLARE_METATYPE(Latchkey::AuthError)
