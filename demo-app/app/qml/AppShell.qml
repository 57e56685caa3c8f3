// Everything of latchkey-demo but the window: the Session, navigation between the pages, the
// event log, and small helpers the pages share (XHR to the API, the server's test hooks).
// Tests create it inside their own window.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Latchkey

FocusScope {
    id: root

    // Configuration
    property url baseUrl
    property string profile: "latchkey"
    property int store: Session.Keychain
    /*! An OpenID Connect profile ("oidc"): the provider, the client registered there, and
        optionally the scopes (a list of strings; empty: the profile's). */
    property url issuer
    property string clientId
    property var scopes: []
    /*! False: the browser sign-in does not open the system browser; the URL comes through
        session.openUrlRequested only (tests hand it to a headless user agent). */
    property bool openUrlsExternally: true
    /*! The page to show instead of the default one: start (stays there), signin, register,
        device (starts a device sign-in), dashboard, bookings, admin (opened even for a guest:
        the server's 403 is shown). */
    property string startPage: ""
    /*! Sign in at start instead of restoring (screenshots, QA). */
    property string signInAs: ""
    property string signInPassword: ""
    property bool autoStart: true

    // State
    readonly property alias session: session
    readonly property alias events: eventModel
    property string page: "start"
    property bool hooksAvailable: false
    property string notice: "" // why the sign-in page is shown (expired, signed out, …)
    property string welcome: "" // "Welcome back, …" after a restore
    property string prefillEmail: ""
    /*! The provider's sign-in page of the browser sign-in in progress; empty when none. */
    property url authorizationUrl
    readonly property bool browserWaiting: authorizationUrl.toString() !== ""
    /*! Only an OpenID provider, no password form: its userinfo (/me) is the API. */
    readonly property bool oidcOnly: session.supportsBrowserSignIn && !session.supportsPasswordSignIn
    property real tokenLifetimeMs: 0 // of the current access token, for the dashboard's gauge
    property int pending: 0 // requests in flight through xhr()
    /*! The latency the server adds (its /test/latency hook), kept here: the fault panel is
        created anew with each visit to the dashboard. */
    property int latencyMs: 0
    /*! A narrow window (a phone): the event log goes under the page, the header shrinks. */
    readonly property bool compact: width < 720
    /*! Ctrl+Q (the platform's Quit): the window quits. */
    signal quitRequested
    readonly property bool isManager: session.roles.indexOf("manager") >= 0
    readonly property var tabPages: oidcOnly ? ["dashboard"]
                                  : isManager ? ["dashboard", "bookings", "admin"]
                                  : ["dashboard", "bookings"]
    readonly property var signedInPages: ["dashboard", "bookings", "admin"]
    readonly property string displayName: {
        const u = session.user;
        const name = [u.firstName || "", u.lastName || ""].join(" ").trim();
        return name || u.name || session.identity; // u.name: an OpenID provider's claim
    }
    /*! Nothing in flight: the page is loaded, its data is in, no sign-in or refresh runs (but
        a sign-in that waits for the person, in the browser or on another device). */
    readonly property bool settled: (!session.busy || browserWaiting || session.deviceCode.isValid)
        && pending === 0 && !!pageLoader.item
        && pageLoader.status === Loader.Ready
        && (pageLoader.item.settled === undefined || pageLoader.item.settled)

    function openPage(name) {
        if (signedInPages.indexOf(name) >= 0 && !session.authenticated)
            name = "signin";
        page = name;
    }
    function syncTabs() {
        tabs.setCurrentIndex(tabPages.indexOf(page));
    }
    onPageChanged: Qt.callLater(syncTabs)
    onTabPagesChanged: Qt.callLater(syncTabs)

    function log(text, kind) {
        eventModel.insert(0, { time: Qt.formatTime(new Date(), "hh:mm:ss"), text: text,
                               kind: kind || "sdk" });
        if (eventModel.count > 300)
            eventModel.remove(300, eventModel.count - 300);
    }
    function apiUrl(path) {
        return baseUrl.toString().replace(/\/+$/, "") + path;
    }
    /*! XMLHttpRequest to the API: authorized by the engine's network access manager factory.
        done(status, data) with the parsed JSON answer; every request is logged. */
    function xhr(method, path, body, done, quiet) {
        const request = new XMLHttpRequest();
        const started = Date.now();
        pending += 1;
        request.onreadystatechange = function () {
            if (request.readyState !== XMLHttpRequest.DONE)
                return;
            pending -= 1;
            let data = null;
            try {
                data = request.responseText ? JSON.parse(request.responseText) : null;
            } catch (e) {
                data = request.responseText;
            }
            if (!quiet) {
                log(qsTr("%1 %2 → %3 (%4 ms)").arg(method).arg(path)
                        .arg(request.status ? request.status : qsTr("no answer"))
                        .arg(Date.now() - started), "http");
            }
            if (done)
                done(request.status, data);
        };
        request.open(method, apiUrl(path));
        if (body !== undefined && body !== null) {
            request.setRequestHeader("Content-Type", "application/json");
            request.send(JSON.stringify(body));
        } else {
            request.send();
        }
    }
    /*! What a person should read for a failed request. */
    function describe(status, data) {
        if (!status)
            return session.authenticated ? qsTr("The server could not be reached.")
                                         : qsTr("You are not signed in any more.");
        const message = data && data.message ? data.message : qsTr("HTTP %1").arg(status);
        return qsTr("%1 (HTTP %2)").arg(message).arg(status);
    }
    /*! POST to one of the server's /test/* hooks (latchkey-server --test-hooks). */
    function hook(path, body, done) {
        xhr("POST", path, body || {}, function (status) {
            if (status !== 204)
                log(qsTr("server hook %1 failed (HTTP %2)").arg(path).arg(status), "warn");
            if (done)
                done(status === 204);
        }, true);
    }
    function reasonText(reason) {
        switch (reason) {
        case AuthClient.Proactive:
            return qsTr("refreshed proactively: a new access token before the old one expired");
        case AuthClient.Unauthorized:
            return qsTr("refreshed after a 401: new access token, the request was replayed");
        case AuthClient.Freshness:
            return qsTr("refreshed proactively: a request found the token about to expire");
        case AuthClient.Restore:
            return qsTr("new access token from the stored refresh token");
        case AuthClient.Reconnect:
            return qsTr("reached the server again: the kept session is confirmed");
        case AuthClient.Resume:
            return qsTr("refreshed after a sleep: the token was checked, not trusted");
        }
        return qsTr("refreshed");
    }
    function afterSignIn() {
        const target = signedInPages.indexOf(startPage) >= 0 ? startPage : "dashboard";
        startPage = "";
        return target;
    }
    function afterSignedOut() {
        const target = startPage === "register" || startPage === "device" ? startPage : "signin";
        startPage = "";
        return target;
    }
    function setLatency(ms) {
        const before = latencyMs;
        latencyMs = ms;
        hook("/test/latency", { ms: ms }, ok => {
            if (!ok) {
                latencyMs = before;
                return;
            }
            log(ms ? qsTr("server: every answer now comes %1 s late").arg(ms / 1000)
                   : qsTr("server: no added latency"), "server");
        });
    }
    function start() {
        latencyMs = 0;
        xhr("POST", "/test/latency", { ms: 0 }, function (status) {
            hooksAvailable = status === 204;
        }, true);
        page = "start";
        if (signInAs.length > 0)
            session.signIn(signInAs, signInPassword);
        else
            session.restore();
    }

    Component.onCompleted: {
        if (autoStart)
            start();
        else
            openPage(startPage || "signin");
    }

    Session {
        id: session
        profile: root.profile
        baseUrl: root.baseUrl
        store: root.store
        issuer: root.issuer
        clientId: root.clientId
        scopes: root.scopes
        openUrlsExternally: root.openUrlsExternally

        onOpenUrlRequested: url => {
            root.authorizationUrl = url;
            root.log(openUrlsExternally ? qsTr("opened the provider's sign-in page in the browser")
                                        : qsTr("the provider's sign-in page is to be opened"));
        }
        onDeviceCodeChanged: {
            if (deviceCode.isValid)
                root.log(qsTr("device code %1: waiting for its approval at %2")
                             .arg(deviceCode.userCode).arg(deviceCode.verificationUri));
        }
        onSignedIn: {
            root.authorizationUrl = "";
            root.log(qsTr("signed in as %1").arg(identity));
            root.notice = "";
            if (root.page !== "start" || root.startPage !== "start")
                root.openPage(root.afterSignIn());
        }
        onRestored: {
            root.log(qsTr("session restored from the keychain (%1)").arg(identity));
            root.welcome = qsTr("Welcome back, %1.").arg(root.displayName);
            if (root.startPage !== "start")
                root.openPage(root.afterSignIn());
        }
        onRefreshed: reason => {
            if (reason !== AuthClient.Restore)
                root.log(root.reasonText(reason));
        }
        onRefreshRetrying: (error, attempt, retryInMs) => root.log(
            qsTr("refresh attempt %1 failed: %2; trying again in %3 ms")
                .arg(attempt).arg(error.message).arg(retryInMs), "warn")
        onRefreshFailed: error => root.log(
            qsTr("refresh failed: %1; the session is kept, the next request tries again")
                .arg(error.message), "warn")
        onExpired: error => {
            root.log(qsTr("session expired: %1").arg(error.message), "warn");
            root.notice = qsTr("The server ended your session (%1). Please sign in again.")
                               .arg(error.message);
            root.welcome = "";
            root.openPage("signin");
        }
        onSignedOut: {
            // Removed here first; whether the server revoked it comes with the reply (a
            // failure: onFailed, "signOut").
            root.log(qsTr("signed out: the session is removed from this device"));
            root.welcome = "";
            if (root.notice === "")
                root.notice = qsTr("You are signed out.");
            root.openPage("signin");
        }
        onOnlineChanged: {
            if (!online || !authenticated)
                return; // only a kept session the server now confirmed
            root.log(qsTr("back online: the server confirmed the session"));
            root.notice = "";
            if (root.page === "start" && root.startPage !== "start")
                root.openPage(root.afterSignIn());
        }
        onFailed: (operation, error) => {
            if (operation === "signInWithBrowser" || operation === "signInWithDevice") {
                root.authorizationUrl = "";
                root.log(error.kind === AuthError.Cancelled ? qsTr("sign-in cancelled")
                         : qsTr("sign-in failed: %1").arg(error.message), "warn");
                return;
            }
            if (operation === "restore" && authenticated && !online) {
                // The server could not be reached: the session is kept, shown as offline with
                // a Retry button (the start page), never as the sign-in form.
                root.log(qsTr("offline: %1; the session is kept and will reconnect")
                             .arg(error.message), "warn");
                root.openPage("start");
            } else if (operation === "restore") {
                if (error.kind === AuthError.NotSignedIn) {
                    root.log(qsTr("no saved session to restore"));
                } else {
                    root.log(qsTr("restore failed: %1").arg(error.message), "warn");
                    root.notice = error.kind === AuthError.SessionExpired
                        ? qsTr("Your saved session has expired or was revoked. Please sign in again.")
                        : qsTr("Could not restore your session: %1").arg(error.message);
                }
                if (root.startPage !== "start")
                    root.openPage(root.afterSignedOut());
            } else if (operation === "signIn" && root.page === "start") {
                root.log(qsTr("sign-in failed: %1").arg(error.message), "warn");
                root.openPage("signin");
            } else if (operation === "signOut") {
                const unconfirmed = error.kind === AuthError.Network || error.kind === AuthError.Server;
                root.log(unconfirmed
                         ? qsTr("sign-out not confirmed by the server (%1): removed on this device only; the session stays valid on the server until it expires")
                               .arg(error.message)
                         : qsTr("sign-out: %1").arg(error.message), "warn");
                if (unconfirmed)
                    root.notice = qsTr("You are signed out on this device. The server could not be reached to end the session there, so it stays valid until it expires.");
            }
        }
        onExpiresAtChanged: {
            if (!isNaN(expiresAt.getTime()))
                root.tokenLifetimeMs = expiresAt.getTime() - Date.now();
        }
    }

    ListModel { id: eventModel }

    Shortcut {
        sequences: [StandardKey.Quit, "Ctrl+Q"]
        context: Qt.ApplicationShortcut
        onActivated: root.quitRequested()
    }
    Shortcut {
        sequences: ["Ctrl+1"]
        enabled: session.authenticated
        onActivated: root.openPage("dashboard")
    }
    Shortcut {
        sequences: ["Ctrl+2"]
        enabled: session.authenticated
        onActivated: root.openPage("bookings")
    }
    Shortcut {
        sequences: ["Ctrl+3"]
        enabled: session.authenticated && root.isManager
        onActivated: root.openPage("admin")
    }

    Rectangle {
        anchors.fill: parent
        color: "#ffffff"
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        ToolBar {
            Layout.fillWidth: true
            implicitHeight: 52
            background: Rectangle { color: "#1f2a44" }
            RowLayout {
                anchors.fill: parent
                anchors.leftMargin: root.compact ? 8 : 16
                anchors.rightMargin: root.compact ? 8 : 12
                spacing: root.compact ? 6 : 14
                Label {
                    objectName: "appTitle"
                    // Signed in on a narrow window the tabs need the room.
                    visible: !(root.compact && session.authenticated)
                    text: qsTr("Latchkey demo")
                    color: "white"
                    font.bold: true
                    font.pixelSize: 18
                }
                TabBar {
                    id: tabs
                    objectName: "tabs"
                    visible: session.authenticated
                    Layout.alignment: Qt.AlignBottom
                    spacing: 2
                    background: null
                    Accessible.name: qsTr("Pages")
                    Repeater {
                        model: root.tabPages
                        TabButton {
                            id: tabButton
                            required property string modelData
                            required property int index
                            objectName: "tab-" + modelData
                            width: implicitWidth + (root.compact ? 4 : 16)
                            implicitHeight: 44
                            text: modelData === "dashboard" ? qsTr("Dashboard")
                                : modelData === "bookings" ? qsTr("Bookings") : qsTr("Admin")
                            Accessible.name: qsTr("%1 page (Ctrl+%2)").arg(text).arg(index + 1)
                            onClicked: root.openPage(modelData)
                            // The page shown: a lighter tab, bold white text and a bar under
                            // it; the others: dimmed text on the header's colour.
                            contentItem: Label {
                                text: tabButton.text
                                horizontalAlignment: Text.AlignHCenter
                                verticalAlignment: Text.AlignVCenter
                                color: tabButton.checked ? "white" : "#b8c2d9"
                                font.bold: tabButton.checked
                                font.pixelSize: 15
                            }
                            background: Rectangle {
                                color: tabButton.checked ? "#4a6499"
                                     : tabButton.hovered ? "#2c3b5e" : "transparent"
                                Rectangle {
                                    anchors.left: parent.left
                                    anchors.right: parent.right
                                    anchors.bottom: parent.bottom
                                    height: 4
                                    color: "#8ab4f8"
                                    visible: tabButton.checked
                                }
                            }
                        }
                        // TabBar overwrites a currentIndex binding as buttons come and go.
                        onItemAdded: Qt.callLater(root.syncTabs)
                    }
                }
                Item { Layout.fillWidth: true }
                Image {
                    id: headerAvatar
                    visible: session.authenticated && !root.oidcOnly && !root.compact
                    Layout.preferredWidth: 32
                    Layout.preferredHeight: 32
                    sourceSize: Qt.size(32, 32)
                    cache: false
                    source: session.authenticated && !root.oidcOnly
                            ? root.apiUrl("/api/user/avatar") + "?who=" + encodeURIComponent(session.identity)
                            : ""
                    Accessible.role: Accessible.Graphic
                    Accessible.name: qsTr("Your avatar")
                }
                Label {
                    visible: session.authenticated && !root.compact
                    text: root.displayName
                    color: "white"
                    elide: Text.ElideRight
                    Layout.maximumWidth: 220
                }
                BusyIndicator {
                    objectName: "busy"
                    running: session.busy || root.pending > 0
                    visible: running
                    Layout.preferredWidth: 28
                    Layout.preferredHeight: 28
                    Accessible.name: qsTr("Working")
                }
                Button {
                    objectName: "signOutButton"
                    visible: session.authenticated
                    enabled: !session.busy
                    text: qsTr("Sign out")
                    Accessible.name: qsTr("Sign out")
                    onClicked: session.signOut()
                }
            }
        }

        // Side by side; on a narrow window the event log goes under the page. Placed by hand:
        // Qt 6.4's layouts did not lay out again a child hidden or moved while the window had
        // no size yet.
        Item {
            id: body
            Layout.fillWidth: true
            Layout.fillHeight: true
            readonly property real logWidth: root.compact ? width : Math.min(360, width * 0.32)
            readonly property real logHeight: root.compact ? Math.round(height * 0.28) : height

            Loader {
                id: pageLoader
                objectName: "pageLoader"
                x: 0
                y: 0
                width: root.compact ? body.width : body.width - body.logWidth
                height: root.compact ? body.height - body.logHeight : body.height
                focus: true
                sourceComponent: {
                    switch (root.page) {
                    case "start": return startComponent;
                    case "register": return registerComponent;
                    case "device": return deviceComponent;
                    case "dashboard": return dashboardComponent;
                    case "bookings": return bookingsComponent;
                    case "admin": return adminComponent;
                    }
                    return signInComponent;
                }
            }
            EventLog {
                objectName: "eventLog"
                x: root.compact ? 0 : body.width - body.logWidth
                y: root.compact ? body.height - body.logHeight : 0
                width: body.logWidth
                height: body.logHeight
                model: eventModel
                onClearRequested: eventModel.clear()
            }
        }
    }

    Component { id: startComponent; StartPage { shell: root } }
    Component { id: signInComponent; SignInPage { shell: root } }
    Component { id: registerComponent; RegisterPage { shell: root } }
    Component { id: deviceComponent; DevicePage { shell: root } }
    Component { id: dashboardComponent; DashboardPage { shell: root } }
    Component { id: bookingsComponent; BookingsPage { shell: root } }
    Component { id: adminComponent; AdminPage { shell: root } }
}
