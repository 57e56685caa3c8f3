#pragma once

#include <latchkey/latchkey_export.h>

#include <QJsonObject>
#include <QSharedDataPointer>
#include <QString>
#include <QStringList>
#include <QUrl>

namespace Latchkey {

class ServerProfileData;
class ServerProfilePrivate;

/*!
    How one server speaks: the paths of its auth endpoints, how requests are encoded, where the
    tokens travel and where the answers put them. An implicitly shared value type, read from
    JSON; the JSON is the whole contract (the format is documented in docs/profiles.md and
    docs/profile.schema.json). What the profile says is read by AuthClient and the classes around
    it, not through this class.

    \code
    auto profile = Latchkey::ServerProfile::builtin(QStringLiteral("latchkey"));
    auto custom = Latchkey::ServerProfile::fromFile(QStringLiteral("acme.json"));
    if (!custom.isValid())
        qWarning() << custom.errorString(); // names the key and what was expected
    \endcode
*/
class LATCHKEY_EXPORT ServerProfile
{
public:
    /*! An invalid profile (isValid() is false, errorString() empty). */
    ServerProfile();
    /*! Copies \a other (cheap: the data is shared until one of them changes). */
    ServerProfile(const ServerProfile &other);
    /*! Makes this profile a copy of \a other. */
    ServerProfile &operator=(const ServerProfile &other);
    ~ServerProfile();

    /*! Parses the JSON text \a json. On failure returns an invalid profile whose errorString()
        (and \a error, if given) names the offending key and what was expected. */
    static ServerProfile fromJson(const QByteArray &json, QString *error = nullptr);
    /*! Parses an already parsed JSON object; as fromJson(). */
    static ServerProfile fromJsonObject(const QJsonObject &object, QString *error = nullptr);
    /*! Reads and parses the file at \a path (at most 1 MiB); as fromJson(). */
    static ServerProfile fromFile(const QString &path, QString *error = nullptr);
    /*! A profile compiled into the library, by \a name: see builtinNames(). An unknown name
        gives an invalid profile whose error lists the built-in names. */
    static ServerProfile builtin(const QString &name, QString *error = nullptr);
    /*! The names of the built-in profiles, sorted ("latchkey", "oidc", …). */
    static QStringList builtinNames();
    /*! The built-in profile \a nameOrPath if there is one by that name, else the file at that
        path. */
    static ServerProfile load(const QString &nameOrPath, QString *error = nullptr);
    /*! The built-in "oidc" profile for \a issuer and \a clientId; \a scopes replace its
        default (openid profile email offline_access) when given. */
    static ServerProfile openIdConnect(
        const QUrl &issuer, const QString &clientId, const QStringList &scopes = QStringList());

    /*! Whether the profile was read without error. An invalid profile makes every sign-in of
        an AuthClient fail. */
    bool isValid() const;
    /*! Why the parse that made this profile failed (the same message as the \a error argument
        of fromJson() and the others); empty for a valid profile. */
    QString errorString() const;
    /*! The profile's "name" key. */
    QString name() const;

    /*! Whether the profile has an "oidc" key: sign in through the browser, a device code or
        client credentials (AuthClient::signInWithBrowser() and the others). */
    bool isOpenIdConnect() const;
    /*! Whether the profile has a "login" endpoint: AuthClient::signIn() with an identity and a
        password (an OpenID Connect profile usually has none). */
    bool hasPasswordSignIn() const;

    /*! The human-readable message of a server's error answer \a body (JSON), read at the
        profile's "errors.message" pointers (the first non-empty string); empty if the body
        holds none. For an application's own API calls to the same server, which answer errors
        the way its auth endpoints do. */
    QString errorMessage(const QByteArray &body) const;

    /*! The JSON object the profile was read from. */
    QJsonObject toJson() const;

private:
    friend class ServerProfilePrivate;
    QSharedDataPointer<ServerProfileData> d;
};

} // namespace Latchkey
