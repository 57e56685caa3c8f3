#include <latchkey/authclient.h>
#include <latchkey/authorizednetworkaccessmanager.h>
#include <latchkey/memorytokenstore.h>

#include <QCoreApplication>
#include <QTextStream>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QString error;
    const auto profile = Latchkey::ServerProfile::builtin(QStringLiteral("oauth2"), &error);
    Latchkey::AuthClient client(profile, QUrl(QStringLiteral("http://127.0.0.1:9")));
    client.setTokenStore(new Latchkey::MemoryTokenStore);
    QTextStream(stdout) << "profiles: " << Latchkey::ServerProfile::builtinNames().join(QLatin1Char(','))
                        << " valid: " << (profile.isValid() ? "yes" : "no")
                        << " manager: " << (client.networkAccessManager() ? "yes" : "no") << '\n';
    return profile.isValid() ? 0 : 1;
}
