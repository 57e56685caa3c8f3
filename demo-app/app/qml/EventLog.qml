// What the SDK and the app did, newest first: auth events, requests, injected faults.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

Pane {
    id: panel

    property alias model: list.model
    signal clearRequested

    padding: 0
    Accessible.role: Accessible.Pane
    Accessible.name: qsTr("Event log")

    background: Rectangle { color: "#f6f7f9"; border.color: "#dadce0" }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0
        RowLayout {
            Layout.fillWidth: true
            Layout.margins: 10
            Label {
                text: qsTr("Events")
                font.bold: true
                font.pixelSize: 16
                Layout.fillWidth: true
            }
            Button {
                text: qsTr("Clear")
                flat: true
                enabled: list.count > 0
                Accessible.name: qsTr("Clear the event log")
                onClicked: panel.clearRequested()
            }
        }
        ListView {
            id: list
            objectName: "eventList"
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            spacing: 2
            activeFocusOnTab: true
            keyNavigationEnabled: true
            Accessible.role: Accessible.List
            Accessible.name: qsTr("Events, newest first")
            ScrollBar.vertical: ScrollBar {}
            delegate: Rectangle {
                id: entry
                required property string time
                required property string text
                required property string kind
                required property int index
                width: ListView.view.width
                height: line.implicitHeight + 8
                color: ListView.isCurrentItem && list.activeFocus ? "#e3e8f0" : "transparent"
                Accessible.role: Accessible.ListItem
                Accessible.name: entry.time + " " + entry.text
                RowLayout {
                    id: line
                    anchors.left: parent.left
                    anchors.right: parent.right
                    anchors.verticalCenter: parent.verticalCenter
                    anchors.leftMargin: 10
                    anchors.rightMargin: 10
                    spacing: 8
                    Rectangle {
                        Layout.alignment: Qt.AlignTop
                        Layout.topMargin: 5
                        width: 8
                        height: 8
                        radius: 4
                        color: entry.kind === "sdk" ? "#1a73e8" : entry.kind === "server"
                             ? "#e8710a" : entry.kind === "warn" ? "#d93025" : "#80868b"
                    }
                    Label {
                        Layout.alignment: Qt.AlignTop
                        text: entry.time
                        font.family: "monospace"
                        color: "#5f6368"
                    }
                    Label {
                        Layout.fillWidth: true
                        text: entry.text
                        wrapMode: Text.Wrap
                        textFormat: Text.PlainText
                    }
                }
            }
            Label {
                anchors.centerIn: parent
                visible: list.count === 0
                text: qsTr("Nothing yet")
                color: "#80868b"
            }
        }
    }
}
