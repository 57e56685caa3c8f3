#pragma once

#include <latchkey/autherror.h>
#include <latchkey/credentialsprovider.h>

#include "clock_p.h"

#include <QObject>
#include <QPointer>

#include <chrono>
#include <functional>

namespace Latchkey {

class AuthClient;

// A headless service's sign-in by itself (AuthClient::setCredentialsProvider()): asks the
// provider for the credentials and signs in through AuthClient::signIn(); while the server
// cannot be reached or fails it tries again with backoff and jitter (2 s doubling to 5 min, at
// least what the server asked for), and it stops for good when the server refuses the
// credentials or the provider has none. One run at a time; stop() ends it.
class AutoSignIn : public QObject
{
    Q_OBJECT
public:
    enum class Status { Idle, SigningIn, Waiting, Stopped };
    using Outcome = std::function<void(const AuthError &error)>;

    explicit AutoSignIn(AuthClient *client);

    void setProvider(CredentialsProvider *provider);
    CredentialsProvider *provider() const { return m_provider; }

    // Starts a run: at once, or, after a rejection of a session signed in less than
    // quickRejection ago, after a backoff (a server that rejects every new session is not
    // hammered). \a first gets the outcome of the first attempt (the replies of a restore).
    void start(bool afterRejection, Outcome first = {});
    // Ends the run (another operation took over); \a first, if still waiting, gets \a why.
    void stop(const AuthError &why);
    // True while this object's own call to AuthClient::signIn() runs (it must not stop itself).
    bool isCalling() const { return m_calling; }

    Status status() const { return m_status; }
    // When the next attempt is due (Clock::instance() ms), -1 when none is waiting.
    qint64 nextAttemptMs() const { return m_retry.isActive() ? m_retry.deadlineMs() : -1; }
    int failures() const { return m_failures; }

    static constexpr std::chrono::milliseconds firstDelay { 2000 };
    static constexpr std::chrono::milliseconds maxDelay { 300000 };
    static constexpr std::chrono::milliseconds quickRejection { 10000 };
    // The longest wait a server's Retry-After or lockout may impose.
    static constexpr std::chrono::milliseconds maxAskedDelay { 3600000 };

Q_SIGNALS:
    // The server refused the credentials, or the provider had none: no more attempts.
    void gaveUp(const Latchkey::AuthError &error);
    // One attempt failed and another follows in \a retryInMs.
    void retrying(const Latchkey::AuthError &error, int retryInMs);

private:
    void attempt();
    void withCredentials(const QString &identity, const QByteArray &password);
    void finished(const AuthError &error);
    void giveUp(const AuthError &error);
    void deliverFirst(const AuthError &error);
    std::chrono::milliseconds backoff(int failures, const AuthError &error) const;

    AuthClient *const m_client;
    QPointer<CredentialsProvider> m_provider;
    DeadlineTimer m_retry;
    Outcome m_first;
    Status m_status = Status::Idle;
    quint64 m_run = 0; // a callback of an older run is stale
    int m_failures = 0; // of this run
    int m_quickRejections = 0;
    qint64 m_lastSignInMs = -1;
    bool m_calling = false;
};

} // namespace Latchkey
