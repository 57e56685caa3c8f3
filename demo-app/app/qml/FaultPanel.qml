// Faults injected through latchkey-server's --test-hooks endpoints, so the SDK's reactions can
// be watched in the event log.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Latchkey

GroupBox {
    id: panel

    property var shell
    readonly property var session: shell.session
    readonly property string email: session.identity

    title: qsTr("Fault injection (server test hooks)")
    Accessible.name: title

    GridLayout {
        anchors.fill: parent
        columns: panel.width < 520 ? 1 : 2 // narrow: each explanation under its button
        columnSpacing: 12
        rowSpacing: 8

        Button {
            objectName: "expireButton"
            Layout.fillWidth: true
            text: qsTr("Expire my access token now")
            Accessible.name: text
            enabled: panel.session.authenticated
            onClicked: panel.shell.hook("/test/expire-access-tokens", { email: panel.email }, ok => {
                if (ok)
                    panel.shell.log(qsTr("server: every access token of %1 is rejected from now on; the next request gets a 401")
                                        .arg(panel.email), "server");
            })
        }
        Label {
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            color: "#5f6368"
            text: qsTr("Then reload the bookings: one 401, one refresh, the request replayed.")
        }

        Button {
            objectName: "revokeButton"
            Layout.fillWidth: true
            text: qsTr("Revoke my session on the server")
            Accessible.name: text
            enabled: panel.session.authenticated
            onClicked: {
                const who = panel.email;
                panel.shell.hook("/test/revoke-sessions", { email: who }, ok => {
                    if (!ok)
                        return;
                    panel.shell.log(qsTr("server: every refresh token of %1 revoked").arg(who), "server");
                    // Make the SDK find out now: its access token stops working too, so the
                    // next request needs a refresh, which the server rejects.
                    panel.shell.hook("/test/expire-access-tokens", { email: who }, () => {
                        panel.shell.log(qsTr("server: access tokens of %1 expired; calling the API").arg(who), "server");
                        panel.shell.xhr("GET", "/api/ping");
                    });
                });
            }
        }
        Label {
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            color: "#5f6368"
            text: qsTr("The refresh is rejected: the session ends and you land on the sign-in page.")
        }

        Button {
            objectName: "failRefreshButton"
            Layout.fillWidth: true
            text: qsTr("Fail the next refresh with 503")
            Accessible.name: text
            onClicked: panel.shell.hook("/test/fail-refresh", { status: 503, count: 1 }, ok => {
                if (ok)
                    panel.shell.log(qsTr("server: the next refresh answers 503 once (the SDK retries it with backoff)"), "server");
            })
        }
        Label {
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            color: "#5f6368"
            text: qsTr("A blip, not a rejection: the session is kept.")
        }

        Switch {
            objectName: "latencySwitch"
            Layout.fillWidth: true
            text: qsTr("Add 2 s of latency")
            Accessible.name: text
            // The shell keeps the state: this panel is created anew on every visit.
            checked: panel.shell.latencyMs > 0
            onToggled: {
                panel.shell.setLatency(checked ? 2000 : 0);
                checked = Qt.binding(() => panel.shell.latencyMs > 0);
            }
        }
        Button {
            objectName: "pingButton"
            Layout.fillWidth: true
            text: qsTr("Call the API now (GET /api/ping)")
            Accessible.name: text
            enabled: panel.session.authenticated
            onClicked: panel.shell.xhr("GET", "/api/ping")
        }
    }
}
