// The user list, for role manager only: its tab is shown to managers only, and a guest who
// opens the page anyway (latchkey-demo --page admin) gets the server's 403 as a message. Uses
// Session.request(), the JSON helper of `import Latchkey`.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Latchkey

FocusScope {
    id: page

    property var shell
    readonly property var session: shell.session
    readonly property bool settled: !loading

    property bool loading: false
    property string errorText: ""

    function reload() {
        loading = true;
        errorText = "";
        const started = Date.now();
        session.get("/api/admin/users").then(function (data, status) {
            loading = false;
            shell.log(qsTr("GET /api/admin/users → %1 (%2 ms)").arg(status).arg(Date.now() - started), "http");
            users.clear();
            for (const u of data.users)
                users.append({ email: u.email, name: [u.firstName, u.lastName].join(" ").trim(),
                               roles: (u.roles || []).join(", ") });
        }, function (error) {
            loading = false;
            shell.log(qsTr("GET /api/admin/users → %1").arg(error.status || error.kind), "http");
            errorText = error.status === 403
                ? qsTr("The server refused: “%1” (HTTP 403). This page is for managers; you are signed in as %2 (%3).")
                      .arg(error.message).arg(session.identity).arg(session.roles.join(", "))
                : qsTr("Could not load the users: %1").arg(error.message);
        });
    }

    Component.onCompleted: reload()

    ListModel { id: users }

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 24
        spacing: 12

        RowLayout {
            Layout.fillWidth: true
            Label {
                text: qsTr("Users")
                font.pixelSize: 24
                Layout.fillWidth: true
                Accessible.role: Accessible.Heading
                Accessible.name: qsTr("Users (managers only)")
            }
            Button {
                text: qsTr("Reload")
                enabled: !page.loading
                Accessible.name: qsTr("Reload the users")
                onClicked: page.reload()
            }
        }
        Notice {
            objectName: "adminError"
            Layout.fillWidth: true
            kind: "error"
            text: page.errorText
        }
        Item {
            visible: page.errorText !== ""
            Layout.fillHeight: true
        }
        Frame {
            Layout.fillWidth: true
            Layout.fillHeight: true
            visible: page.errorText === ""
            padding: 0
            ListView {
                id: list
                objectName: "userList"
                anchors.fill: parent
                clip: true
                model: users
                activeFocusOnTab: true
                keyNavigationEnabled: true
                Accessible.role: Accessible.List
                Accessible.name: qsTr("Users")
                delegate: Rectangle {
                    id: row
                    required property int index
                    required property string email
                    required property string name
                    required property string roles
                    width: ListView.view.width
                    height: 44
                    color: ListView.isCurrentItem && list.activeFocus ? "#e3e8f0"
                         : index % 2 ? "#fafbfc" : "#ffffff"
                    Accessible.role: Accessible.ListItem
                    Accessible.name: qsTr("%1, %2, roles %3").arg(row.name).arg(row.email).arg(row.roles)
                    RowLayout {
                        anchors.fill: parent
                        anchors.leftMargin: 14
                        anchors.rightMargin: 14
                        Label { text: row.name; font.bold: true; elide: Text.ElideRight; Layout.preferredWidth: Math.min(180, row.width * 0.3) }
                        Label { text: row.email; Layout.fillWidth: true; elide: Text.ElideRight }
                        Label { text: row.roles; color: "#5f6368" }
                    }
                }
            }
        }
    }
}
