// Sign in on another device (the OAuth 2.0 device code flow): the code shown large, the page
// where to enter it, and a live countdown to when the code expires; Cancel goes back. Opening
// this page starts the device sign-in; approving the code elsewhere signs in (the shell then
// moves on to the dashboard).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Latchkey

FocusScope {
    id: page

    property var shell
    readonly property var session: shell.session
    readonly property var code: session.deviceCode
    readonly property bool settled: code.isValid || errorText !== ""

    property int errorKind: AuthError.NoError
    property string errorText: ""
    property real nowMs: Date.now()
    property real receivedMs: 0 // when the code arrived, for the progress bar
    readonly property int secondsLeft: code.isValid
        ? Math.max(0, Math.ceil((code.expiresAt.getTime() - nowMs) / 1000)) : 0

    function clock(seconds) {
        const m = Math.floor(seconds / 60), s = seconds % 60;
        return m + ":" + (s < 10 ? "0" : "") + s;
    }
    function start() {
        errorKind = AuthError.NoError;
        errorText = "";
        session.signInWithDevice();
    }
    function cancel() {
        session.cancelSignIn();
        shell.openPage("signin");
    }

    onCodeChanged: {
        nowMs = Date.now();
        if (code.isValid)
            receivedMs = nowMs;
    }

    Component.onCompleted: {
        if (!session.deviceCode.isValid && !session.busy)
            start();
        cancelButton.forceActiveFocus();
    }

    Timer {
        interval: 1000
        repeat: true
        running: page.code.isValid
        onTriggered: page.nowMs = Date.now()
    }

    Connections {
        target: page.session
        function onFailed(operation, error) {
            if (operation !== "signInWithDevice")
                return;
            page.errorKind = error.kind;
            switch (error.kind) {
            case AuthError.Cancelled:
                page.errorText = "";
                break;
            case AuthError.AccessDenied:
                page.errorText = qsTr("The sign-in was refused on the other device.");
                break;
            case AuthError.AuthorizationExpired:
                page.errorText = qsTr("The code expired before it was used.");
                break;
            case AuthError.Network:
                page.errorText = qsTr("Cannot reach the provider at %1: %2")
                                     .arg(page.shell.issuer.toString()).arg(error.message);
                break;
            default:
                page.errorText = error.message;
            }
        }
    }

    Keys.onEscapePressed: page.cancel()

    ScrollView {
        anchors.fill: parent
        contentWidth: availableWidth

        ColumnLayout {
            width: Math.min(parent.width - 48, 480)
            x: (parent.width - width) / 2
            spacing: 14

            Item { Layout.preferredHeight: 28 }
            Label {
                text: qsTr("Sign in on another device")
                font.pixelSize: 26
                Accessible.role: Accessible.Heading
                Accessible.name: text
            }
            Notice {
                objectName: "deviceError"
                Layout.fillWidth: true
                kind: "error"
                text: page.errorText
            }
            RowLayout {
                visible: !page.code.isValid && page.errorText === ""
                spacing: 10
                BusyIndicator {
                    running: parent.visible
                    Layout.preferredWidth: 28
                    Layout.preferredHeight: 28
                }
                Label { text: qsTr("Asking the provider for a code…") }
            }

            ColumnLayout {
                visible: page.code.isValid
                Layout.fillWidth: true
                spacing: 14

                Label {
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                    text: qsTr("On your phone or another computer, open")
                }
                Label {
                    objectName: "verificationUri"
                    Layout.fillWidth: true
                    wrapMode: Text.WrapAnywhere
                    font.pixelSize: 18
                    font.bold: true
                    color: "#1a73e8"
                    text: page.code.verificationUri.toString()
                    Accessible.role: Accessible.StaticText
                    Accessible.name: qsTr("Verification page: %1").arg(text)
                }
                Label {
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                    text: qsTr("and enter this code:")
                }
                Rectangle {
                    Layout.fillWidth: true
                    implicitHeight: userCode.implicitHeight + 28
                    radius: 8
                    color: "#f1f3f4"
                    border.color: "#dadce0"
                    Label {
                        id: userCode
                        objectName: "userCode"
                        anchors.centerIn: parent
                        text: page.code.userCode
                        font.pixelSize: 56
                        font.bold: true
                        font.family: "monospace"
                        font.letterSpacing: 4
                        Accessible.role: Accessible.StaticText
                        Accessible.name: qsTr("Code: %1").arg(text.split("").join(" "))
                    }
                }
                Label {
                    objectName: "deviceCountdown"
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                    font.bold: true
                    text: page.secondsLeft > 0
                          ? qsTr("The code expires in %1 (at %2).").arg(page.clock(page.secondsLeft))
                                .arg(Qt.formatTime(page.code.expiresAt, "hh:mm:ss"))
                          : qsTr("The code has expired.")
                    Accessible.role: Accessible.StaticText
                    Accessible.name: text
                }
                ProgressBar {
                    Layout.fillWidth: true
                    from: 0
                    to: Math.max(1, (page.code.expiresAt.getTime() - page.receivedMs) / 1000)
                    value: page.secondsLeft
                    Accessible.name: qsTr("Time left to enter the code")
                }
                RowLayout {
                    spacing: 10
                    BusyIndicator {
                        running: page.code.isValid
                        Layout.preferredWidth: 24
                        Layout.preferredHeight: 24
                    }
                    Label {
                        Layout.fillWidth: true
                        wrapMode: Text.Wrap
                        color: "#5f6368"
                        text: qsTr("Waiting for you to approve the sign-in there; this window continues by itself.")
                    }
                }
            }

            RowLayout {
                Layout.fillWidth: true
                spacing: 12
                Button {
                    objectName: "openVerificationButton"
                    visible: page.code.isValid
                    flat: true
                    text: qsTr("Open the page on this computer")
                    Accessible.name: text
                    onClicked: Qt.openUrlExternally(page.code.verificationUriComplete.toString() !== ""
                                                    ? page.code.verificationUriComplete
                                                    : page.code.verificationUri)
                }
                Button {
                    objectName: "newCodeButton"
                    visible: page.errorKind === AuthError.AuthorizationExpired
                             || page.errorKind === AuthError.AccessDenied
                    highlighted: true
                    text: qsTr("Get a new code")
                    Accessible.name: text
                    onClicked: page.start()
                }
                Item { Layout.fillWidth: true }
                Button {
                    id: cancelButton
                    objectName: "cancelDeviceButton"
                    text: page.code.isValid ? qsTr("Cancel") : qsTr("Back")
                    Accessible.name: page.code.isValid ? qsTr("Cancel the sign-in on another device")
                                                       : qsTr("Back to sign-in")
                    onClicked: page.cancel()
                }
            }
        }
    }
}
