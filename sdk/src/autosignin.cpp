#include "autosignin_p.h"

#include <latchkey/authclient.h>
#include <latchkey/authreply.h>

#include "logging_p.h"

#include <QRandomGenerator>

namespace Latchkey {

AutoSignIn::AutoSignIn(AuthClient *client)
    : QObject(client)
    , m_client(client)
{
    connect(&m_retry, &DeadlineTimer::timeout, this, &AutoSignIn::attempt);
}

void AutoSignIn::setProvider(CredentialsProvider *provider)
{
    m_provider = provider;
}

void AutoSignIn::start(bool afterRejection, Outcome first)
{
    stop(AuthError(AuthError::Kind::Cancelled, QStringLiteral("Replaced by a new sign-in")));
    m_first = std::move(first);
    m_failures = 0;
    const qint64 now = Clock::instance()->nowMs();
    const bool quick
        = afterRejection && m_lastSignInMs >= 0 && now - m_lastSignInMs < quickRejection.count();
    m_quickRejections = quick ? m_quickRejections + 1 : 0;
    const std::chrono::milliseconds delay
        = quick ? backoff(m_quickRejections, AuthError()) : std::chrono::milliseconds(0);
    if (quick) {
        qCInfo(lcAuth) << "the session signed in" << (now - m_lastSignInMs)
                       << "ms ago was rejected: signing in again in" << delay.count() << "ms";
    }
    m_status = Status::Waiting;
    m_retry.start(delay); // from the event loop, even at once
}

void AutoSignIn::stop(const AuthError &why)
{
    ++m_run;
    m_retry.stop();
    if (m_status == Status::SigningIn || m_status == Status::Waiting)
        m_status = Status::Idle;
    deliverFirst(why);
}

void AutoSignIn::deliverFirst(const AuthError &error)
{
    if (Outcome first = std::exchange(m_first, {}))
        first(error);
}

void AutoSignIn::attempt()
{
    const quint64 run = m_run;
    if (!m_provider) {
        giveUp(AuthError(AuthError::Kind::NotSignedIn, QStringLiteral("No credentials provider")));
        return;
    }
    m_status = Status::SigningIn;
    QPointer<AutoSignIn> self(this);
    m_provider->credentials(
        [self, run](const QString &identity, const QByteArray &password, const AuthError &error) {
            if (!self)
                return;
            // The provider may answer inside the call: go on from the event loop either way.
            QMetaObject::invokeMethod(
                self.data(),
                [self, run, identity, password, error] {
                    if (!self || run != self->m_run)
                        return; // stopped meanwhile
                    if (error.isError())
                        self->giveUp(error);
                    else
                        self->withCredentials(identity, password);
                },
                Qt::QueuedConnection);
        });
}

void AutoSignIn::withCredentials(const QString &identity, const QByteArray &password)
{
    const quint64 run = m_run;
    qCInfo(lcAuth) << "signing in by itself as" << identity;
    m_calling = true;
    AuthReply *reply = m_client->signIn(identity, QString::fromUtf8(password));
    m_calling = false;
    connect(reply, &AuthReply::finished, this, [this, reply, run] {
        if (run != m_run)
            return; // stopped meanwhile (its reply ended Cancelled)
        // A session the store could not keep still signed in (it lives in memory).
        finished(m_client->state() == AuthClient::State::SignedIn ? AuthError() : reply->error());
    });
}

void AutoSignIn::finished(const AuthError &error)
{
    if (!error.isError()) {
        m_status = Status::Idle;
        m_failures = 0;
        m_lastSignInMs = Clock::instance()->nowMs();
        deliverFirst(error);
        return;
    }
    if (error.kind() == AuthError::Kind::InvalidCredentials) {
        giveUp(error);
        return;
    }
    // The server down or failing (Network, Server), a lockout or a rate limit, an answer that
    // was not what the profile says: all may pass; only the credentials themselves will not.
    deliverFirst(error);
    ++m_failures;
    const std::chrono::milliseconds delay = backoff(m_failures, error);
    qCInfo(lcAuth) << "sign-in failed:" << error.toString() << "- next try in" << delay.count()
                   << "ms";
    m_status = Status::Waiting;
    m_retry.start(delay);
    Q_EMIT retrying(error, int(delay.count()));
}

void AutoSignIn::giveUp(const AuthError &error)
{
    qCWarning(lcAuth) << "not signing in by itself any more:" << error.toString();
    ++m_run;
    m_retry.stop();
    m_status = Status::Stopped;
    deliverFirst(error);
    Q_EMIT gaveUp(error);
}

std::chrono::milliseconds AutoSignIn::backoff(int failures, const AuthError &error) const
{
    // 2 s, 4 s, … up to 5 min, jitter in [½, 1] of the step (services that lost the server
    // together do not come back together), at least what the server asked for.
    const qint64 step
        = std::min<qint64>(firstDelay.count() << std::min(failures - 1, 16), maxDelay.count());
    const qint64 jittered
        = step / 2 + qint64(QRandomGenerator::global()->bounded(double(step / 2 + 1)));
    qint64 asked = error.retryAfter() > 0 ? qint64(error.retryAfter()) * 1000 : 0;
    if (error.lockedUntil().isValid()) // an account locked for a while: not before it opens
        asked = std::max(
            asked, error.lockedUntil().toMSecsSinceEpoch() - Clock::instance()->wallMs());
    return std::chrono::milliseconds(
        std::max(jittered, std::min<qint64>(asked, maxAskedDelay.count())));
}

} // namespace Latchkey
