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
    Q_PROPERTY(Kind kind READ kind CONSTANT) ///< see kind()
    Q_PROPERTY(bool isError READ isError CONSTANT) ///< see isError()
    Q_PROPERTY(QString message READ message CONSTANT) ///< see message()
    Q_PROPERTY(int httpStatus READ httpStatus CONSTANT) ///< see httpStatus()
    Q_PROPERTY(int retryAfter READ retryAfter CONSTANT) ///< see retryAfter()
    Q_PROPERTY(QDateTime lockedUntil READ lockedUntil CONSTANT) ///< see lockedUntil()
    Q_PROPERTY(int attemptsLeft READ attemptsLeft CONSTANT) ///< see attemptsLeft()
    Q_PROPERTY(QStringList requirements READ requirements CONSTANT) ///< see requirements()
public:
    /*! What went wrong, for a program to branch on (kindName() gives its name). */
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

    /*! No error: kind() is NoError. */
    AuthError();
    /*! An error of \a kind with \a message (the server's words, or Latchkey's) and the HTTP
        status of the answer, 0 when there was none. */
    AuthError(Kind kind, const QString &message, int httpStatus = 0);
    /*! Copies \a other (implicitly shared). */
    AuthError(const AuthError &other);
    /*! Assigns \a other (implicitly shared). */
    AuthError &operator=(const AuthError &other);
    /*! Equal when every detail is: kind, message, HTTP status, retry-after, locked-until,
        attempts left, requirements and network error. */
    bool operator==(const AuthError &other) const;
    /*! Not operator==(). */
    bool operator!=(const AuthError &other) const { return !(*this == other); }
    ~AuthError();

    /*! What went wrong; NoError when nothing did. */
    Kind kind() const;
    /*! Whether kind() is anything but NoError. */
    bool isError() const { return kind() != Kind::NoError; }
    /*! The server's own message, else Latchkey's; never a token or a password. */
    QString message() const;
    /*! The HTTP status of the answer behind the error; 0 when there was none (Network, …). */
    int httpStatus() const;
    /*! Seconds to wait before trying again (RateLimited), -1 when the server did not say. */
    int retryAfter() const;
    /*! Until when the account is locked (AccountLocked); invalid when the server did not say. */
    QDateTime lockedUntil() const;
    /*! InvalidCredentials: the failed sign-ins the server still allows before it locks the
        account (0: this one locked it), -1 when the server did not say. */
    int attemptsLeft() const;
    /*! The password rules that were not met (PasswordPolicy), in the server's words. */
    QStringList requirements() const;
    /*! The transport error behind a Network error (QNetworkReply::TimeoutError, …);
        QNetworkReply::NoError otherwise. */
    QNetworkReply::NetworkError networkError() const;

    /*! Sets retryAfter() to \a seconds; returns this error, for chaining. */
    AuthError &setRetryAfter(int seconds);
    /*! Sets lockedUntil() to \a until; returns this error, for chaining. */
    AuthError &setLockedUntil(const QDateTime &until);
    /*! Sets attemptsLeft() to \a attempts; returns this error, for chaining. */
    AuthError &setAttemptsLeft(int attempts);
    /*! Sets requirements() to \a requirements; returns this error, for chaining. */
    AuthError &setRequirements(const QStringList &requirements);
    /*! Sets networkError() to \a code; returns this error, for chaining. */
    AuthError &setNetworkError(QNetworkReply::NetworkError code);

    /*! "SessionExpired: Invalid or expired refresh token. (HTTP 401)" */
    QString toString() const;
    /*! The name of \a kind as spelled in the enum: "SessionExpired", "Network", … */
    static QString kindName(Kind kind);

private:
    QSharedDataPointer<AuthErrorData> d;
};

} // namespace Latchkey

Q_DECLARE_METATYPE(Latchkey::AuthError)
