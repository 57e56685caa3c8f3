// Sign in: field validation, a busy indicator, and the server's refusals as a person needs
// them — wrong credentials, an account locked (with a countdown to lockedUntil), rate limited
// (with the wait), the server unreachable. With an OpenID Connect profile: "Sign in with your
// browser" (then a wait for the browser, with Cancel) and "Sign in on another device" (the
// device page); the password form only when the profile has a password login.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Latchkey

FocusScope {
    id: page

    property var shell
    readonly property var session: shell.session
    readonly property bool settled: !session.busy || shell.browserWaiting
    readonly property bool passwordForm: session.supportsPasswordSignIn || !session.ready
    readonly property bool browserForm: session.supportsBrowserSignIn

    // The last refusal, kept apart from session.lastError so the countdowns survive typing.
    property int errorKind: AuthError.NoError
    property string errorText: ""
    /*! The email a refusal of that account was for (wrong password, attempts left, locked):
        such a message is shown only while the field still holds that email. */
    property string errorEmail: ""
    property int attemptsLeft: -1
    property string lockedEmail: ""
    property real lockedUntilMs: 0
    property real retryAtMs: 0
    property real nowMs: Date.now()

    readonly property string email: emailField.text.trim()
    readonly property bool emailValid: /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)
    readonly property bool passwordValid: passwordField.text.length > 0
    readonly property int lockSeconds: lockedEmail.toLowerCase() === email.toLowerCase()
                                       ? Math.max(0, Math.ceil((lockedUntilMs - nowMs) / 1000)) : 0
    readonly property int waitSeconds: Math.max(0, Math.ceil((retryAtMs - nowMs) / 1000))
    readonly property bool errorShown: errorText !== ""
        && (errorEmail === "" || errorEmail.toLowerCase() === email.toLowerCase())
    readonly property string attemptsText: !errorShown || errorKind !== AuthError.InvalidCredentials
        || attemptsLeft < 0 ? ""
        : attemptsLeft === 0 ? qsTr("That was the last attempt: the account is locked now.")
        : attemptsLeft === 1 ? qsTr("1 attempt left before the account is locked.")
        : qsTr("%1 attempts left before the account is locked.").arg(attemptsLeft)
    readonly property bool canSubmit: emailValid && passwordValid && !session.busy
                                      && lockSeconds === 0 && waitSeconds === 0

    function clock(seconds) {
        const m = Math.floor(seconds / 60), s = seconds % 60;
        return m + ":" + (s < 10 ? "0" : "") + s;
    }
    function submit() {
        emailField.touched = passwordField.touched = true;
        if (!canSubmit)
            return;
        errorKind = AuthError.NoError;
        errorText = "";
        errorEmail = "";
        attemptsLeft = -1;
        shell.notice = "";
        session.signIn(email, passwordField.text);
    }
    function signInWithBrowser() {
        errorKind = AuthError.NoError;
        errorText = "";
        shell.notice = "";
        session.signInWithBrowser();
    }

    Timer {
        interval: 1000
        repeat: true
        running: page.lockedUntilMs > page.nowMs || page.retryAtMs > page.nowMs
        onTriggered: page.nowMs = Date.now()
    }

    Connections {
        target: page.session
        function onFailed(operation, error) {
            if (operation === "signInWithBrowser") {
                page.errorKind = error.kind;
                page.errorEmail = "";
                page.attemptsLeft = -1;
                switch (error.kind) {
                case AuthError.Cancelled:
                    page.errorText = "";
                    break;
                case AuthError.AccessDenied:
                    page.errorText = qsTr("The sign-in was refused at the provider (%1).").arg(error.message);
                    break;
                case AuthError.AuthorizationExpired:
                    page.errorText = qsTr("The browser did not come back in time. Try again.");
                    break;
                case AuthError.Network:
                    page.errorText = qsTr("Cannot reach the provider at %1: %2")
                                         .arg(page.shell.issuer.toString()).arg(error.message);
                    break;
                default:
                    page.errorText = error.message;
                }
                return;
            }
            if (operation !== "signIn")
                return;
            page.nowMs = Date.now();
            page.errorKind = error.kind;
            page.errorEmail = "";
            page.attemptsLeft = -1;
            switch (error.kind) {
            case AuthError.InvalidCredentials:
                page.errorEmail = page.email;
                page.attemptsLeft = error.attemptsLeft;
                page.errorText = qsTr("Wrong email or password. (The server says: “%1”.)").arg(error.message);
                break;
            case AuthError.AccountLocked:
                page.errorEmail = page.email;
                page.lockedEmail = page.email;
                page.lockedUntilMs = error.lockedUntil.getTime();
                page.errorText = qsTr("This account is locked after too many failed sign-ins.");
                break;
            case AuthError.RateLimited:
                page.retryAtMs = Date.now() + Math.max(1, error.retryAfter) * 1000;
                page.errorText = qsTr("Too many sign-in attempts from this computer.");
                break;
            case AuthError.Network:
                page.errorText = qsTr("Cannot reach the server at %1: %2")
                                     .arg(page.shell.baseUrl.toString()).arg(error.message);
                break;
            case AuthError.Server:
                page.errorText = qsTr("The server failed (HTTP %1). Try again in a moment.").arg(error.httpStatus);
                break;
            default:
                page.errorText = error.message;
            }
            passwordField.selectAll();
            passwordField.forceActiveFocus();
        }
    }

    Component.onCompleted: {
        if (!passwordForm) {
            browserButton.forceActiveFocus();
        } else if (shell.prefillEmail) {
            emailField.text = shell.prefillEmail;
            shell.prefillEmail = "";
            passwordField.forceActiveFocus();
        } else {
            emailField.forceActiveFocus();
        }
    }

    ScrollView {
        anchors.fill: parent
        contentWidth: availableWidth

        ColumnLayout {
            width: Math.min(parent.width - 48, 420)
            x: (parent.width - width) / 2
            spacing: 12

            Item { Layout.preferredHeight: 28 }
            Label {
                text: qsTr("Sign in")
                font.pixelSize: 26
                Accessible.role: Accessible.Heading
                Accessible.name: text
            }
            Label {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                color: "#5f6368"
                text: page.passwordForm
                      ? qsTr("to %1. Your password goes to the server once; the session is kept in the system keychain.")
                          .arg(page.shell.baseUrl.toString())
                      : qsTr("with your account at %1. You sign in on the provider's own page, in your browser or on another device; this app never sees your password. The session is kept in the system keychain.")
                          .arg(page.shell.issuer.toString())
            }

            ColumnLayout {
                objectName: "passwordForm"
                visible: page.passwordForm
                Layout.fillWidth: true
                spacing: 12

                Label { text: qsTr("Email"); font.bold: true }
                TextField {
                    id: emailField
                    objectName: "emailField"
                    property bool touched: false
                    Layout.fillWidth: true
                    // Not an address: an empty field must not look filled in.
                    placeholderText: qsTr("Your email address")
                    placeholderTextColor: "#a8adb3"
                    inputMethodHints: Qt.ImhEmailCharactersOnly | Qt.ImhNoAutoUppercase
                    enabled: !page.session.busy
                    Accessible.name: qsTr("Email")
                    onEditingFinished: touched = true
                    onAccepted: passwordField.forceActiveFocus()
                    KeyNavigation.tab: passwordField
                }
                Label { // always there (empty when all is well): the form does not move
                    objectName: "emailMessage"
                    Layout.fillWidth: true
                    Layout.topMargin: -8
                    text: !emailField.touched || page.emailValid ? ""
                          : page.email === "" ? qsTr("Enter your email address.") : qsTr("This is not an email address.")
                    color: "#d93025"
                }
                Label { text: qsTr("Password"); font.bold: true }
                TextField {
                    id: passwordField
                    objectName: "passwordField"
                    property bool touched: false
                    Layout.fillWidth: true
                    echoMode: TextInput.Password
                    enabled: !page.session.busy
                    Accessible.name: qsTr("Password")
                    Accessible.passwordEdit: true
                    onEditingFinished: touched = true
                    onAccepted: page.submit()
                }
                Label {
                    objectName: "passwordMessage"
                    Layout.fillWidth: true
                    Layout.topMargin: -8
                    text: passwordField.touched && !page.passwordValid ? qsTr("Enter your password.") : ""
                    color: "#d93025"
                }
                RowLayout {
                    Layout.fillWidth: true
                    spacing: 12
                    Button {
                        objectName: "signInButton"
                        text: qsTr("Sign in")
                        highlighted: true
                        enabled: page.canSubmit
                        Accessible.name: qsTr("Sign in")
                        onClicked: page.submit()
                    }
                    BusyIndicator {
                        running: page.session.busy
                        visible: running
                        Layout.preferredHeight: 32
                        Layout.preferredWidth: 32
                        Accessible.name: qsTr("Signing in")
                    }
                    Item { Layout.fillWidth: true }
                    Button {
                        objectName: "toRegisterButton"
                        flat: true
                        text: qsTr("Create an account…")
                        Accessible.name: qsTr("Create an account")
                        onClicked: page.shell.openPage("register")
                    }
                }
                Label {
                    Layout.fillWidth: true
                    Layout.topMargin: 16
                    wrapMode: Text.Wrap
                    color: "#80868b"
                    font.pixelSize: 12
                    text: qsTr("Demo accounts (latchkey-server --seed-demo): guest@latchkey.test / Guest-2026! and manager@latchkey.test / Manager-2026!")
                }
            }

            ColumnLayout {
                objectName: "oidcForm"
                visible: page.browserForm
                Layout.fillWidth: true
                Layout.topMargin: page.passwordForm ? 8 : 0
                spacing: 12

                Label {
                    visible: page.passwordForm
                    text: qsTr("or")
                    color: "#5f6368"
                    Layout.alignment: Qt.AlignHCenter
                }
                Button {
                    id: browserButton
                    objectName: "browserSignInButton"
                    Layout.fillWidth: true
                    text: qsTr("Sign in with your browser")
                    highlighted: !page.passwordForm
                    enabled: !page.session.busy
                    Accessible.name: text
                    onClicked: page.signInWithBrowser()
                    KeyNavigation.tab: deviceButton
                }
                Button {
                    id: deviceButton
                    objectName: "deviceSignInButton"
                    Layout.fillWidth: true
                    text: qsTr("Sign in on another device")
                    enabled: !page.session.busy
                    Accessible.name: text
                    onClicked: page.shell.openPage("device")
                }
                Rectangle {
                    objectName: "browserWaiting"
                    visible: page.shell.browserWaiting
                    Layout.fillWidth: true
                    implicitHeight: waitColumn.implicitHeight + 24
                    radius: 6
                    color: "#e8f0fe"
                    border.color: "#4a7bd0"
                    Accessible.role: Accessible.AlertMessage
                    Accessible.name: waitLabel.text
                    ColumnLayout {
                        id: waitColumn
                        anchors.fill: parent
                        anchors.margins: 12
                        spacing: 8
                        RowLayout {
                            spacing: 10
                            BusyIndicator {
                                running: page.shell.browserWaiting
                                Layout.preferredWidth: 28
                                Layout.preferredHeight: 28
                            }
                            Label {
                                id: waitLabel
                                Layout.fillWidth: true
                                wrapMode: Text.Wrap
                                text: qsTr("Finish signing in in your browser. This window continues by itself once the provider sends you back.")
                            }
                        }
                        RowLayout {
                            spacing: 8
                            Button {
                                objectName: "reopenBrowserButton"
                                flat: true
                                text: qsTr("Open the page again")
                                Accessible.name: text
                                onClicked: Qt.openUrlExternally(page.shell.authorizationUrl)
                            }
                            Item { Layout.fillWidth: true }
                            Button {
                                objectName: "cancelBrowserButton"
                                text: qsTr("Cancel")
                                Accessible.name: qsTr("Cancel the browser sign-in")
                                onClicked: page.session.cancelSignIn()
                            }
                        }
                    }
                }
                Button {
                    objectName: "providerSignOutButton"
                    visible: page.session.endSessionUrl.toString() !== "" && !page.session.authenticated
                    flat: true
                    text: qsTr("Also sign out of the provider in the browser")
                    Accessible.name: text
                    onClicked: Qt.openUrlExternally(page.session.endSessionUrl)
                }
            }

            // The messages come under the forms: the fields and the buttons never move when one
            // appears or goes.
            Notice {
                objectName: "signInNotice"
                Layout.fillWidth: true
                kind: "info"
                text: page.errorShown ? "" : page.shell.notice
            }
            Notice {
                objectName: "signInError"
                Layout.fillWidth: true
                kind: page.errorKind === AuthError.AccountLocked || page.errorKind === AuthError.RateLimited
                      ? "warning" : "error"
                text: !page.errorShown ? ""
                      : page.attemptsText === "" ? page.errorText
                      : page.errorText + "\n" + page.attemptsText
            }
            Label {
                objectName: "countdown"
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                font.bold: true
                visible: text.length > 0
                Accessible.role: Accessible.StaticText
                Accessible.name: text
                text: page.lockSeconds > 0
                      ? qsTr("Try again in %1 (locked until %2).").arg(page.clock(page.lockSeconds))
                            .arg(Qt.formatTime(new Date(page.lockedUntilMs), "hh:mm:ss"))
                      : page.waitSeconds > 0 ? qsTr("Wait %1 s before the next attempt.").arg(page.waitSeconds)
                      : (page.errorKind === AuthError.AccountLocked && page.errorShown)
                        || page.errorKind === AuthError.RateLimited
                      ? qsTr("You can try again now.") : ""
            }
        }
    }
}
