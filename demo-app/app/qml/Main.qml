// latchkey-demo's window: AppShell does the work; main.cpp sets these properties from the
// command line.
import QtQuick
import QtQuick.Controls
import Latchkey

ApplicationWindow {
    id: window

    property url baseUrl: "http://127.0.0.1:8080"
    property string profile: "latchkey"
    property url issuer
    property string clientId: ""
    property var scopes: []
    property int store: Session.Keychain
    property string startPage: ""
    property string signInAs: ""
    property string signInPassword: ""
    readonly property bool settled: shell.settled
    readonly property string page: shell.page

    width: 1120
    height: 740
    minimumWidth: 360 // a phone held upright works (400 × 800)
    minimumHeight: 480
    visible: true
    // Ends with the application's display name, so the platform does not add it once more.
    title: qsTr("%1 — %2").arg(baseUrl.toString()).arg(Qt.application.displayName)

    AppShell {
        id: shell
        anchors.fill: parent
        focus: true
        baseUrl: window.baseUrl
        profile: window.profile
        issuer: window.issuer
        clientId: window.clientId
        scopes: window.scopes
        store: window.store
        startPage: window.startPage
        signInAs: window.signInAs
        signInPassword: window.signInPassword
        onQuitRequested: window.close()
    }
}
