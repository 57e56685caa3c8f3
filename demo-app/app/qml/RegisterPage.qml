// Create an account: field validation, then the server's answer — the password rules it
// enforces (listed one by one), an email already taken, or the account created.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Latchkey

FocusScope {
    id: page

    property var shell
    readonly property var session: shell.session
    readonly property bool settled: !session.busy && !working

    property bool working: false
    property bool tried: false
    property string errorText: ""
    property var requirements: []
    property bool taken: false

    readonly property string email: emailField.text.trim()
    readonly property bool emailValid: /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)
    readonly property bool passwordValid: passwordField.text.length > 0
    readonly property bool confirmValid: confirmField.text === passwordField.text
    readonly property bool canSubmit: emailValid && passwordValid && confirmValid && !working

    function submit() {
        tried = true;
        if (!canSubmit)
            return;
        errorText = "";
        requirements = [];
        taken = false;
        working = true;
        const fields = {};
        if (firstField.text.trim())
            fields.firstName = firstField.text.trim();
        if (lastField.text.trim())
            fields.lastName = lastField.text.trim();
        session.registerAccount(email, passwordField.text, fields);
    }

    Connections {
        target: page.session
        function onRegistered(user) {
            page.working = false;
            page.shell.log(qsTr("account created: %1").arg(user.email || page.email));
            page.shell.prefillEmail = page.email;
            page.shell.notice = qsTr("Account created for %1. Sign in with your new password.").arg(page.email);
            page.shell.openPage("signin");
        }
        function onFailed(operation, error) {
            if (operation !== "register")
                return;
            page.working = false;
            switch (error.kind) {
            case AuthError.PasswordPolicy:
                page.errorText = qsTr("The password does not meet the server's rules:");
                page.requirements = error.requirements;
                passwordField.forceActiveFocus();
                break;
            case AuthError.AlreadyExists:
                page.taken = true;
                page.errorText = qsTr("An account with this email exists already.");
                break;
            default:
                page.errorText = error.message;
            }
        }
    }

    Component.onCompleted: firstField.forceActiveFocus()

    ScrollView {
        anchors.fill: parent
        contentWidth: availableWidth

        ColumnLayout {
            width: Math.min(parent.width - 48, 440)
            x: (parent.width - width) / 2
            spacing: 10

            Item { Layout.preferredHeight: 20 }
            Label {
                text: qsTr("Create an account")
                font.pixelSize: 26
                Accessible.role: Accessible.Heading
                Accessible.name: text
            }
            Notice {
                objectName: "registerError"
                Layout.fillWidth: true
                kind: "error"
                text: page.errorText
            }
            ColumnLayout {
                objectName: "requirements"
                visible: page.requirements.length > 0
                Layout.fillWidth: true
                Layout.leftMargin: 12
                spacing: 4
                Accessible.role: Accessible.List
                Accessible.name: qsTr("Password requirements not met")
                Repeater {
                    model: page.requirements
                    Label {
                        required property string modelData
                        Layout.fillWidth: true
                        wrapMode: Text.Wrap
                        color: "#b3261e"
                        text: "✗ " + modelData
                        Accessible.role: Accessible.ListItem
                        Accessible.name: modelData
                    }
                }
            }
            Button {
                visible: page.taken
                text: qsTr("Sign in instead")
                Accessible.name: qsTr("Sign in instead")
                onClicked: {
                    page.shell.prefillEmail = page.email;
                    page.shell.openPage("signin");
                }
            }
            RowLayout {
                Layout.fillWidth: true
                spacing: 10
                ColumnLayout {
                    Layout.fillWidth: true
                    Label { text: qsTr("First name (optional)"); font.bold: true }
                    TextField {
                        id: firstField
                        objectName: "firstNameField"
                        Layout.fillWidth: true
                        enabled: !page.working
                        Accessible.name: qsTr("First name")
                    }
                }
                ColumnLayout {
                    Layout.fillWidth: true
                    Label { text: qsTr("Last name (optional)"); font.bold: true }
                    TextField {
                        id: lastField
                        objectName: "lastNameField"
                        Layout.fillWidth: true
                        enabled: !page.working
                        Accessible.name: qsTr("Last name")
                    }
                }
            }
            Label { text: qsTr("Email"); font.bold: true }
            TextField {
                id: emailField
                objectName: "emailField"
                Layout.fillWidth: true
                enabled: !page.working
                inputMethodHints: Qt.ImhEmailCharactersOnly | Qt.ImhNoAutoUppercase
                Accessible.name: qsTr("Email")
            }
            Label {
                visible: page.tried && !page.emailValid
                text: qsTr("Enter a valid email address.")
                color: "#d93025"
            }
            Label { text: qsTr("Password"); font.bold: true }
            TextField {
                id: passwordField
                objectName: "passwordField"
                Layout.fillWidth: true
                echoMode: TextInput.Password
                enabled: !page.working
                Accessible.name: qsTr("Password")
                Accessible.passwordEdit: true
            }
            Label { text: qsTr("Password again"); font.bold: true }
            TextField {
                id: confirmField
                objectName: "confirmField"
                Layout.fillWidth: true
                echoMode: TextInput.Password
                enabled: !page.working
                Accessible.name: qsTr("Password again")
                Accessible.passwordEdit: true
                onAccepted: page.submit()
            }
            Label {
                visible: page.tried && (!page.passwordValid || !page.confirmValid)
                text: !page.passwordValid ? qsTr("Choose a password.") : qsTr("The two passwords differ.")
                color: "#d93025"
            }
            RowLayout {
                spacing: 12
                Button {
                    objectName: "registerButton"
                    text: qsTr("Create account")
                    highlighted: true
                    enabled: !page.working
                    Accessible.name: qsTr("Create account")
                    onClicked: page.submit()
                }
                BusyIndicator {
                    running: page.working
                    visible: running
                    Layout.preferredHeight: 32
                    Layout.preferredWidth: 32
                    Accessible.name: qsTr("Creating the account")
                }
                Item { Layout.fillWidth: true }
                Button {
                    flat: true
                    text: qsTr("Back to sign in")
                    Accessible.name: qsTr("Back to sign in")
                    onClicked: page.shell.openPage("signin")
                }
            }
        }
    }
}
