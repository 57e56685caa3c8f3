#pragma once

#include "latchkeyqml_export.h"

#include <latchkey/serverprofile.h>

#include <QJSValue>
#include <QObject>
#include <QPointer>
#include <QUrl>
#include <QVariantMap>
#include <QtQml/qqmlregistration.h>

class QJSEngine;
class QNetworkAccessManager;
class QNetworkReply;

namespace Latchkey {

/*!
    One JSON request made with Session.request() (or get(), post()): promise-like.

    \code{.js}
    session.get("/api/bookings").then(function (data, status) { model = data.bookings },
                                      function (error) { message = error.message })
    \endcode

    On success `data` is the parsed JSON answer (or its text, or null when empty). On failure
    `error` is `{kind, status, message, data}`: kind "Http" (the server answered with an error
    status; message from the body as the profile's error pointers say), "Network", or the
    AuthError kind name when the session failed the request ("SessionExpired", "NotSignedIn",
    …). Callbacks run from the event loop, also when then() is called after the end. The object
    stays alive while the request runs.
*/
class LATCHKEYQML_EXPORT ApiRequest : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("Returned by Session.request(), get() and post().")
    /*! Whether the request ended. */
    Q_PROPERTY(bool done READ isFinished NOTIFY finished FINAL)
    /*! Whether it ended with an answer below 400 (error is empty). */
    Q_PROPERTY(bool ok READ isOk NOTIFY finished FINAL)
    /*! The HTTP status of the answer; 0 before the end and when there was no answer. */
    Q_PROPERTY(int status READ status NOTIFY finished FINAL)
    /*! The parsed JSON answer (or its text, or null when empty), as given to then(). */
    Q_PROPERTY(QVariant data READ data NOTIFY finished FINAL)
    /*! `{kind, status, message, data}` on failure, empty otherwise. */
    Q_PROPERTY(QVariantMap error READ error NOTIFY finished FINAL)
    /*! The URL requested (the path joined to Session.baseUrl). */
    Q_PROPERTY(QUrl url READ url CONSTANT FINAL)

public:
    /*! Made by Session::request() only: sends \a method to \a url with \a body through \a nam;
        \a keeper holds the object while it runs. */
    ApiRequest(QJSEngine *engine, const ServerProfile &profile, QNetworkAccessManager *nam,
        const QByteArray &method, const QUrl &url, const QByteArray &body, QObject *keeper);
    ~ApiRequest() override;

    /*! The C++ accessors of the properties above: see each property. */
    ///@{
    bool isFinished() const { return m_finished; }
    bool isOk() const { return m_finished && m_error.isEmpty(); }
    int status() const { return m_status; }
    QVariant data() const { return m_data; }
    QVariantMap error() const { return m_error; }
    QUrl url() const { return m_url; }
    ///@}

    /*! Calls \a onSuccess(data, status) or \a onError(error) once the request ends. */
    Q_INVOKABLE Latchkey::ApiRequest *then(
        const QJSValue &onSuccess, const QJSValue &onError = QJSValue());
    /*! Aborts the request: it fails with kind "Cancelled". */
    Q_INVOKABLE void abort();

Q_SIGNALS:
    /*! The request ended (done is true); succeeded() or failed() follows at once. */
    void finished();
    /*! It ended well: \a data as the data property, \a status the HTTP status. */
    void succeeded(const QVariant &data, int status);
    /*! It failed: \a error as the error property. */
    void failed(const QVariantMap &error);

private:
    void onReplyFinished();
    void fail(const QString &kind, const QString &message);
    void complete();
    void runCallbacks();

    QPointer<QJSEngine> m_engine;
    ServerProfile m_profile;
    QUrl m_url;
    QPointer<QNetworkReply> m_reply;
    bool m_finished = false;
    int m_status = 0;
    QVariant m_data;
    QVariantMap m_error;
    QList<QPair<QJSValue, QJSValue>> m_callbacks;
};

} // namespace Latchkey
