// The first page: the session is being restored from the keychain. Normally left at once (to
// the dashboard or the sign-in page); with --page start it stays and shows the outcome.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Latchkey

FocusScope {
    id: page

    property var shell
    readonly property var session: shell.session
    readonly property bool settled: !session.busy && startAvatar.status !== Image.Loading

    ColumnLayout {
        anchors.centerIn: parent
        width: Math.min(parent.width - 48, 460)
        spacing: 18

        BusyIndicator {
            Layout.alignment: Qt.AlignHCenter
            running: page.session.busy
            visible: running
            Accessible.name: qsTr("Restoring your session")
        }
        Image {
            id: startAvatar
            Layout.alignment: Qt.AlignHCenter
            visible: page.session.authenticated && !page.shell.oidcOnly
            sourceSize: Qt.size(96, 96)
            cache: false
            source: page.session.authenticated && !page.shell.oidcOnly
                    ? page.shell.apiUrl("/api/user/avatar") + "?who="
                      + encodeURIComponent(page.session.identity)
                    : ""
            Accessible.role: Accessible.Graphic
            Accessible.name: qsTr("Your avatar")
        }
        Label {
            objectName: "startTitle"
            Layout.fillWidth: true
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.Wrap
            font.pixelSize: 24
            text: page.session.busy ? qsTr("Restoring your session…")
                : page.session.authenticated && !page.session.online
                  ? qsTr("Offline — will reconnect")
                : page.session.authenticated ? qsTr("Welcome back, %1").arg(page.shell.displayName)
                : qsTr("No saved session")
        }
        Label {
            Layout.fillWidth: true
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.Wrap
            color: "#5f6368"
            text: page.session.busy
                  ? qsTr("Reading the refresh token from the system keychain and asking %1 for a new access token.")
                        .arg(page.shell.baseUrl.toString())
                  : page.session.authenticated && !page.session.online
                  ? qsTr("%1 cannot be reached. Your session is kept: signed in as %2, it reconnects by itself when the server is back.")
                        .arg(page.shell.baseUrl.toString()).arg(page.session.identity)
                  : page.session.authenticated
                  ? qsTr("Signed in again with the refresh token kept in the system keychain.")
                  : qsTr("Nothing is stored in the keychain for %1.").arg(page.shell.baseUrl.toString())
        }
        Notice {
            Layout.fillWidth: true
            kind: "warning"
            text: page.shell.notice
        }
        Button {
            objectName: "retryButton"
            Layout.alignment: Qt.AlignHCenter
            visible: !page.session.busy && page.session.authenticated && !page.session.online
            text: qsTr("Retry")
            Accessible.name: text
            onClicked: page.session.restore()
        }
        Button {
            Layout.alignment: Qt.AlignHCenter
            visible: !page.session.busy && page.session.online
            focus: true
            highlighted: true
            text: page.session.authenticated ? qsTr("Continue") : qsTr("Sign in")
            Accessible.name: text
            onClicked: page.shell.openPage(page.session.authenticated ? "dashboard" : "signin")
        }
    }
}
