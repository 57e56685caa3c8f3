// A message in a coloured box: kind "info", "success", "warning" or "error". Read out by
// screen readers as an alert; hidden while empty.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

Rectangle {
    id: notice

    property string text
    property string kind: "info"
    property bool closable: false
    signal closed

    visible: text.length > 0
    implicitWidth: row.implicitWidth + 24
    implicitHeight: visible ? row.implicitHeight + 18 : 0
    radius: 6
    color: kind === "error" ? "#fdecea" : kind === "warning" ? "#fff4e5"
         : kind === "success" ? "#e8f5e9" : "#e8f0fe"
    border.color: kind === "error" ? "#d93025" : kind === "warning" ? "#e8a317"
                : kind === "success" ? "#34a853" : "#4a7bd0"

    Accessible.role: Accessible.AlertMessage
    Accessible.name: text

    RowLayout {
        id: row
        anchors.fill: parent
        anchors.margins: 9
        anchors.leftMargin: 12
        Label {
            Layout.fillWidth: true
            text: notice.text
            wrapMode: Text.Wrap
            color: "#202124"
            textFormat: Text.PlainText
        }
        ToolButton {
            visible: notice.closable
            text: "✕"
            Accessible.name: qsTr("Dismiss message")
            onClicked: notice.closed()
        }
    }
}
