// Create an account: the server's password rules listed from the start (GET
// /api/auth/password-policy), field validation, then the server's answer — the rules the
// password broke marked, an email already taken, or the account created.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Latchkey

FocusScope {
    id: page

    property var shell
    readonly property var session: shell.session
    readonly property bool settled: !session.busy && !working && !policyLoading

    property bool working: false
    property bool tried: false
    property string errorText: ""
    property var requirements: [] // the rules the refused password broke
    property string refusedPassword: "" // the password they were broken by
    property var policy: [] // every rule, from the server; empty when it does not say
    property bool policyLoading: false
    property bool taken: false
    /*! The refusal is about the password still in the field (not one typed since). */
    readonly property bool refusalCurrent: requirements.length > 0
                                           && refusedPassword === passwordField.text
    /*! The rules shown: the server's, and any it broke that the list lacks. */
    readonly property var rules: policy.concat(requirements.filter(r => policy.indexOf(r) < 0))
    readonly property var lifetime: ({ alive: true })
    Component.onDestruction: lifetime.alive = false

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
        refusedPassword = "";
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
                page.errorText = qsTr("The password does not meet the server's rules (marked ✗ above).");
                page.requirements = error.requirements;
                page.refusedPassword = passwordField.text;
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

    Component.onCompleted: {
        firstField.forceActiveFocus();
        policyLoading = true;
        const life = lifetime;
        shell.xhr("GET", "/api/auth/password-policy", null, function (status, data) {
            if (!life.alive)
                return;
            policyLoading = false;
            if (status === 200 && data && Array.isArray(data.requirements))
                policy = data.requirements;
        });
    }

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
            Label { // always there (empty when all is well): the form does not move
                objectName: "emailMessage"
                Layout.fillWidth: true
                text: page.tried && !page.emailValid ? qsTr("Enter a valid email address.") : ""
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
            ColumnLayout {
                objectName: "requirements"
                visible: page.rules.length > 0
                Layout.fillWidth: true
                Layout.leftMargin: 4
                spacing: 2
                Accessible.role: Accessible.List
                Accessible.name: page.refusalCurrent ? qsTr("Password rules, those not met marked")
                                                     : qsTr("Password rules")
                Repeater {
                    model: page.rules
                    Label {
                        required property string modelData
                        readonly property bool broken: page.refusalCurrent
                                                       && page.requirements.indexOf(modelData) >= 0
                        Layout.fillWidth: true
                        wrapMode: Text.Wrap
                        font.pixelSize: 12
                        color: broken ? "#b3261e" : page.refusalCurrent ? "#188038" : "#5f6368"
                        text: (broken ? "✗ " : page.refusalCurrent ? "✓ " : "• ") + modelData
                        Accessible.role: Accessible.ListItem
                        Accessible.name: (broken ? qsTr("not met: ") : "") + modelData
                    }
                }
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
                objectName: "passwordMessage"
                Layout.fillWidth: true
                text: !page.tried || (page.passwordValid && page.confirmValid) ? ""
                      : !page.passwordValid ? qsTr("Choose a password.") : qsTr("The two passwords differ.")
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
            // Under the form: nothing above moves when a message appears.
            Notice {
                objectName: "registerError"
                Layout.fillWidth: true
                kind: "error"
                // A refusal of the password is stale once another one is typed.
                text: page.requirements.length > 0 && !page.refusalCurrent ? "" : page.errorText
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
        }
    }
}
