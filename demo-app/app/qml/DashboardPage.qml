// Who is signed in, their roles, the access token's remaining lifetime as a live countdown
// (never the token itself), and the fault buttons when the server has test hooks. Signed in
// at an OpenID provider only (shell.oidcOnly), its userinfo endpoint (/me) is the API shown.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Latchkey

FocusScope {
    id: page

    property var shell
    readonly property var session: shell.session
    readonly property bool settled: avatar.status !== Image.Loading
    property var userinfo: null
    property string userinfoError: ""

    Component.onCompleted: {
        if (!shell.oidcOnly)
            return;
        // An authorized XMLHttpRequest to the provider's userinfo endpoint.
        shell.xhr("GET", "/me", null, function (status, data) {
            if (status === 200)
                page.userinfo = data;
            else
                page.userinfoError = page.shell.describe(status, data);
        });
    }

    property real nowMs: Date.now()
    readonly property bool hasExpiry: !isNaN(session.expiresAt.getTime())
    readonly property int secondsLeft: hasExpiry
        ? Math.max(0, Math.floor((session.expiresAt.getTime() - nowMs) / 1000)) : 0

    function clock(seconds) {
        const m = Math.floor(seconds / 60), s = seconds % 60;
        return m + ":" + (s < 10 ? "0" : "") + s;
    }

    Timer {
        interval: 1000
        repeat: true
        running: page.hasExpiry
        onTriggered: page.nowMs = Date.now()
    }

    ScrollView {
        anchors.fill: parent
        contentWidth: availableWidth

        ColumnLayout {
            x: 24
            width: parent.width - 48
            spacing: 16

            Item { Layout.preferredHeight: 4 }
            Notice {
                objectName: "welcome"
                Layout.fillWidth: true
                kind: "success"
                closable: true
                text: page.shell.welcome
                onClosed: page.shell.welcome = ""
            }

            RowLayout {
                spacing: 20
                Image {
                    id: avatar
                    objectName: "avatar"
                    visible: !page.shell.oidcOnly
                    Layout.preferredWidth: 96
                    Layout.preferredHeight: 96
                    sourceSize: Qt.size(96, 96)
                    cache: false
                    source: page.shell.oidcOnly ? ""
                          : page.shell.apiUrl("/api/user/avatar") + "?who="
                            + encodeURIComponent(page.session.identity) + "&size=96"
                    Accessible.role: Accessible.Graphic
                    Accessible.name: qsTr("Your avatar, served from a protected URL")
                }
                ColumnLayout {
                    spacing: 4
                    Label {
                        objectName: "who"
                        text: page.shell.displayName
                        font.pixelSize: 24
                        Accessible.role: Accessible.Heading
                        Accessible.name: qsTr("Signed in as %1").arg(text)
                    }
                    Label {
                        objectName: "identity"
                        text: page.session.identity
                        color: "#5f6368"
                    }
                    Flow {
                        objectName: "roles"
                        spacing: 6
                        Layout.topMargin: 4
                        Accessible.role: Accessible.List
                        Accessible.name: qsTr("Roles: %1").arg(page.session.roles.join(", "))
                        Repeater {
                            model: page.session.roles
                            Rectangle {
                                required property string modelData
                                radius: 10
                                color: modelData === "manager" ? "#fce8e6" : "#e6f4ea"
                                border.color: modelData === "manager" ? "#d93025" : "#34a853"
                                implicitWidth: roleLabel.implicitWidth + 18
                                implicitHeight: roleLabel.implicitHeight + 6
                                Label {
                                    id: roleLabel
                                    anchors.centerIn: parent
                                    text: parent.modelData
                                }
                            }
                        }
                    }
                }
            }

            GroupBox {
                title: qsTr("Access token")
                Layout.fillWidth: true
                ColumnLayout {
                    anchors.fill: parent
                    spacing: 8
                    Label {
                        objectName: "tokenCountdown"
                        font.pixelSize: 20
                        text: page.hasExpiry ? qsTr("expires in %1").arg(page.clock(page.secondsLeft))
                                             : qsTr("no known expiry (opaque token: 401s drive refreshes)")
                        Accessible.role: Accessible.StaticText
                        Accessible.name: text
                    }
                    ProgressBar {
                        Layout.fillWidth: true
                        visible: page.hasExpiry
                        from: 0
                        to: Math.max(1, page.shell.tokenLifetimeMs / 1000)
                        value: page.secondsLeft
                        Accessible.name: qsTr("Remaining lifetime of the access token")
                    }
                    Label {
                        Layout.fillWidth: true
                        wrapMode: Text.Wrap
                        color: "#5f6368"
                        text: qsTr("The SDK refreshes it shortly before it expires and after any 401; it lives in memory only and is never shown. The refresh token is in the system keychain. Permissions: %1.")
                                  .arg(page.session.permissions.join(", ") || qsTr("none"))
                    }
                }
            }

            GroupBox {
                objectName: "userinfoBox"
                title: qsTr("The API: GET %1").arg(page.shell.apiUrl("/me"))
                visible: page.shell.oidcOnly
                Layout.fillWidth: true
                ColumnLayout {
                    anchors.fill: parent
                    spacing: 6
                    Label {
                        Layout.fillWidth: true
                        wrapMode: Text.Wrap
                        color: "#5f6368"
                        text: qsTr("The provider's userinfo endpoint, called with XMLHttpRequest: the session's access token is added by the engine's network access manager.")
                    }
                    Label {
                        objectName: "userinfo"
                        Layout.fillWidth: true
                        wrapMode: Text.Wrap
                        font.family: "monospace"
                        text: page.userinfo ? JSON.stringify(page.userinfo, null, 2)
                            : page.userinfoError !== "" ? page.userinfoError : qsTr("Loading…")
                    }
                }
            }

            FaultPanel {
                Layout.fillWidth: true
                visible: page.shell.hooksAvailable
                shell: page.shell
            }
            Label {
                visible: !page.shell.hooksAvailable && !page.shell.oidcOnly
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                color: "#80868b"
                text: qsTr("Fault buttons appear when the server runs with --test-hooks.")
            }
            Item { Layout.preferredHeight: 8 }
        }
    }
}
