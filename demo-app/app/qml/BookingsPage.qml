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
    // Answers can come after the page is gone (another tab opened meanwhile): the callbacks
    // check this object, which outlives the page, before they touch it.
    readonly property var lifetime: ({ alive: true })
    Component.onDestruction: lifetime.alive = false

    readonly property var datePattern: /^\d{4}-\d{2}-\d{2}$/
    readonly property bool hotelValid: hotelField.text.trim().length > 0
    readonly property bool datesValid: datePattern.test(checkInField.text)
                                       && datePattern.test(checkOutField.text)
                                       && checkOutField.text > checkInField.text

    function reload() {
        loading = true;
        errorText = "";
        const life = lifetime;
        shell.xhr("GET", "/api/bookings", null, function (status, data) {
            if (!life.alive)
                return;
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
        const life = lifetime;
        shell.xhr("POST", "/api/bookings", body, function (status, data) {
            if (!life.alive)
                return;
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
        anchors.margins: page.width < 500 ? 12 : 24
        spacing: 12

        RowLayout {
            Layout.fillWidth: true
            Label {
                text: qsTr("Your bookings")
                font.pixelSize: 24
                Layout.fillWidth: true
                elide: Text.ElideRight
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
                    objectName: "noBookings"
                    anchors.centerIn: parent
                    // Not under a load error: then nothing is known about the bookings.
                    visible: list.count === 0 && !page.loading && page.errorText === ""
                    text: qsTr("No bookings yet")
                    color: "#80868b"
                }
            }
        }

        GroupBox {
            title: qsTr("Book a stay")
            Layout.fillWidth: true
            GridLayout {
                id: form
                anchors.fill: parent
                // Narrow (a phone): two columns, the hotel on a row of its own.
                columns: page.width < 640 ? 2 : 5
                columnSpacing: 10
                rowSpacing: 6
                ColumnLayout {
                    Layout.columnSpan: form.columns === 2 ? 2 : 1
                    Layout.fillWidth: true
                    spacing: 2
                    Label { text: qsTr("Hotel") }
                    TextField {
                        id: hotelField
                        objectName: "hotelField"
                        Layout.fillWidth: true
                        placeholderText: qsTr("Harbour View")
                        placeholderTextColor: "#9aa0a6"
                        Accessible.name: qsTr("Hotel")
                    }
                }
                ColumnLayout {
                    Layout.fillWidth: form.columns === 2
                    spacing: 2
                    Label { text: qsTr("Check-in") }
                    TextField {
                        id: checkInField
                        objectName: "checkInField"
                        Layout.preferredWidth: 120
                        Layout.fillWidth: form.columns === 2
                        placeholderText: "2027-03-01"
                        inputMask: "9999-99-99;_"
                        text: "2027-03-01"
                        Accessible.name: qsTr("Check-in date, year-month-day")
                    }
                }
                ColumnLayout {
                    Layout.fillWidth: form.columns === 2
                    spacing: 2
                    Label { text: qsTr("Check-out") }
                    TextField {
                        id: checkOutField
                        objectName: "checkOutField"
                        Layout.preferredWidth: 120
                        Layout.fillWidth: form.columns === 2
                        placeholderText: "2027-03-04"
                        inputMask: "9999-99-99;_"
                        text: "2027-03-04"
                        Accessible.name: qsTr("Check-out date, year-month-day")
                    }
                }
                ColumnLayout {
                    spacing: 2
                    Label { text: qsTr("Guests") }
                    SpinBox {
                        id: guestsBox
                        objectName: "guestsBox"
                        from: 1
                        to: 8
                        value: 2
                        editable: true
                        Accessible.name: qsTr("Number of guests")
                    }
                }
                Button {
                    objectName: "bookButton"
                    Layout.alignment: Qt.AlignBottom
                    Layout.fillWidth: form.columns === 2
                    text: qsTr("Book")
                    highlighted: true
                    enabled: !page.saving
                    Accessible.name: qsTr("Book the stay")
                    onClicked: page.book()
                }
                Label {
                    objectName: "bookingFormError"
                    Layout.columnSpan: form.columns
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                    // Always there (empty when all is well), so the form does not move.
                    color: "#d93025"
                    text: !page.tried || (page.hotelValid && page.datesValid) ? ""
                          : !page.hotelValid ? qsTr("Name the hotel.")
                          : qsTr("Dates are year-month-day, and check-out comes after check-in.")
                }
            }
        }
    }
}
