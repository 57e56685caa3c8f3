#pragma once

#include "authcall_p.h"
#include "clock_p.h"
#include "oidcmetadata_p.h"

#include <latchkey/deviceauthorization.h>

#include <QObject>
#include <QPointer>

class QNetworkAccessManager;

namespace Latchkey {

// The device authorization grant (RFC 8628): asks for a device and a user code, hands the user
// code over, then polls the token endpoint at the provider's interval — longer by 5 s after
// each slow_down, on (and the clock seam's) time — until tokens come, the person refuses
// (AccessDenied), the code expires (AuthorizationExpired: said by the provider, or its
// expires_in passed) or cancel(). A poll that fails on the network is repeated at the interval.
class DeviceGrant : public QObject
{
    Q_OBJECT
public:
    DeviceGrant(QNetworkAccessManager *nam, const AuthCall::Settings &settings,
        const ServerProfile &exchange, const OidcMetadata &metadata, QObject *parent = nullptr);

    void start();
    void cancel();

    static constexpr int slowDownStepSecs = 5; // RFC 8628 §3.5

Q_SIGNALS:
    void codeReceived(const Latchkey::DeviceAuthorization &code);
    void succeeded(const Latchkey::TokenSet &tokens);
    void failed(const Latchkey::AuthError &error);

private:
    void onAuthorization(const HttpResult &result);
    void poll();
    void onPoll(const HttpResult &result);
    void fail(const AuthError &error);

    QNetworkAccessManager *m_nam;
    AuthCall::Settings m_settings;
    ServerProfile m_exchange;
    OidcMetadata m_metadata;
    DeadlineTimer m_timer;
    QPointer<AuthCall> m_call;
    QByteArray m_deviceCode;
    qint64 m_expiresAtMs = 0; // on Clock::instance()
    int m_interval = 5;
    bool m_done = false;
};

} // namespace Latchkey
