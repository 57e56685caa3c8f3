// The user's bookings over plain XMLHttpRequest (authorized by the engine's network access
// manager factory): list them, create one.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Latchkey

FocusScope {
    id: page

    property var shell
    readonly property var session: shell.session
    readonly property bool settled: !loading && !saving

    property bool loading: false
    property bool saving: false
    property string errorText: ""
    property string doneText: ""
    property bool tried: false

    readonly property var datePattern: /^\d{4}-\d{2}-\d{2}$/
    readonly property bool hotelValid: hotelField.text.trim().length > 0
    readonly property bool datesValid: datePattern.test(checkInField.text)
                                       && datePattern.test(checkOutField.text)
                                       && checkOutField.text > checkInField.text

    function reload() {
        loading = true;
        errorText = "";
        shell.xhr("GET", "/api/bookings", null, function (status, data) {
            loading = false;
            if (status === 200 && data && data.bookings) {
                bookings.clear();
                for (const b of data.bookings)
                    bookings.append({ id: b.id, hotel: b.hotel, checkIn: b.checkIn,
                                      checkOut: b.checkOut, guests: b.guests });
            } else {
                errorText = qsTr("Could not load the bookings: %1").arg(shell.describe(status, data));
            }
        });
    }
    function book() {
        tried = true;
        doneText = "";
        if (!hotelValid || !datesValid)
            return;
        saving = true;
        errorText = "";
        const body = { hotel: hotelField.text.trim(), checkIn: checkInField.text,
                       checkOut: checkOutField.text, guests: guestsBox.value };
        shell.xhr("POST", "/api/bookings", body, function (status, data) {
            saving = false;
            if (status === 201 && data && data.booking) {
                const b = data.booking;
                bookings.insert(0, { id: b.id, hotel: b.hotel, checkIn: b.checkIn,
                                     checkOut: b.checkOut, guests: b.guests });
                doneText = qsTr("Booked %1, %2 to %3.").arg(b.hotel).arg(b.checkIn).arg(b.checkOut);
                hotelField.text = "";
                tried = false;
            } else {
                errorText = qsTr("The booking was not made: %1").arg(shell.describe(status, data));
            }
        });
    }

    Component.onCompleted: reload()

    ListModel { id: bookings }

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 24
        spacing: 12

        RowLayout {
            Layout.fillWidth: true
            Label {
                text: qsTr("Your bookings")
                font.pixelSize: 24
                Layout.fillWidth: true
                Accessible.role: Accessible.Heading
                Accessible.name: text
            }
            BusyIndicator {
                running: page.loading
                visible: running
                Layout.preferredWidth: 28
                Layout.preferredHeight: 28
                Accessible.name: qsTr("Loading the bookings")
            }
            Button {
                objectName: "reloadButton"
                text: qsTr("Reload")
                enabled: !page.loading
                Accessible.name: qsTr("Reload the bookings")
                onClicked: page.reload()
            }
        }
        Notice {
            objectName: "bookingsError"
            Layout.fillWidth: true
            kind: "error"
            text: page.errorText
        }
        Notice {
            Layout.fillWidth: true
            kind: "success"
            text: page.doneText
        }

        Frame {
            Layout.fillWidth: true
            Layout.fillHeight: true
            padding: 0
            ListView {
                id: list
                objectName: "bookingList"
                anchors.fill: parent
                clip: true
                model: bookings
                activeFocusOnTab: true
                keyNavigationEnabled: true
                Accessible.role: Accessible.List
                Accessible.name: qsTr("Bookings")
                ScrollBar.vertical: ScrollBar {}
                delegate: Rectangle {
                    id: row
                    required property int index
                    required property string hotel
                    required property string checkIn
                    required property string checkOut
                    required property int guests
                    width: ListView.view.width
                    height: 48
                    color: ListView.isCurrentItem && list.activeFocus ? "#e3e8f0"
                         : index % 2 ? "#fafbfc" : "#ffffff"
                    Accessible.role: Accessible.ListItem
                    Accessible.name: qsTr("%1, %2 to %3, %n guest(s)", "", row.guests)
                                         .arg(row.hotel).arg(row.checkIn).arg(row.checkOut)
                    RowLayout {
                        anchors.fill: parent
                        anchors.leftMargin: 14
                        anchors.rightMargin: 14
                        Label {
                            text: row.hotel
                            font.bold: true
                            Layout.fillWidth: true
                            elide: Text.ElideRight
                        }
                        Label {
                            text: qsTr("%1 → %2").arg(row.checkIn).arg(row.checkOut)
                            color: "#3c4043"
                        }
                        Label {
                            text: qsTr("%n guest(s)", "", row.guests)
                            color: "#5f6368"
                            Layout.preferredWidth: 80
                            horizontalAlignment: Text.AlignRight
                        }
                    }
                }
                Label {
                    anchors.centerIn: parent
                    visible: list.count === 0 && !page.loading
                    text: qsTr("No bookings yet")
                    color: "#80868b"
                }
            }
        }

        GroupBox {
            title: qsTr("Book a stay")
            Layout.fillWidth: true
            GridLayout {
                anchors.fill: parent
                columns: 5
                columnSpacing: 10
                Label { text: qsTr("Hotel") }
                Label { text: qsTr("Check-in") }
                Label { text: qsTr("Check-out") }
                Label { text: qsTr("Guests") }
                Item { Layout.preferredWidth: 1 }
                TextField {
                    id: hotelField
                    objectName: "hotelField"
                    Layout.fillWidth: true
                    placeholderText: qsTr("Harbour View")
                    Accessible.name: qsTr("Hotel")
                }
                TextField {
                    id: checkInField
                    objectName: "checkInField"
                    Layout.preferredWidth: 120
                    placeholderText: "2027-03-01"
                    inputMask: "9999-99-99;_"
                    text: "2027-03-01"
                    Accessible.name: qsTr("Check-in date, year-month-day")
                }
                TextField {
                    id: checkOutField
                    objectName: "checkOutField"
                    Layout.preferredWidth: 120
                    placeholderText: "2027-03-04"
                    inputMask: "9999-99-99;_"
                    text: "2027-03-04"
                    Accessible.name: qsTr("Check-out date, year-month-day")
                }
                SpinBox {
                    id: guestsBox
                    objectName: "guestsBox"
                    from: 1
                    to: 8
                    value: 2
                    editable: true
                    Accessible.name: qsTr("Number of guests")
                }
                Button {
                    objectName: "bookButton"
                    text: qsTr("Book")
                    highlighted: true
                    enabled: !page.saving
                    Accessible.name: qsTr("Book the stay")
                    onClicked: page.book()
                }
                Label {
                    Layout.columnSpan: 5
                    visible: page.tried && (!page.hotelValid || !page.datesValid)
                    color: "#d93025"
                    text: !page.hotelValid ? qsTr("Name the hotel.")
                                           : qsTr("Dates are year-month-day, and check-out comes after check-in.")
                }
            }
        }
    }
}
