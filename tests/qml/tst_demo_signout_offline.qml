// Signing out of the demo while the server is down says what happened: the session is removed
// on this device, and the server could not be told (it stays valid there until it expires).
// Its own file: it stops this process's server.
import QtQuick
import QtTest
import Latchkey
import LatchkeyDemo

Item {
    id: stage
    width: 1120
    height: 740

    TestCase {
        name: "DemoSignOutOffline"
        when: windowShown

        Component {
            id: shellComponent
            AppShell {
                width: 1120
                height: 740
                baseUrl: testServer.baseUrl
                store: Session.Memory
            }
        }

        function events(shell) {
            const texts = [];
            for (let i = 0; i < shell.events.count; ++i)
                texts.push(shell.events.get(i).text);
            return texts;
        }

        function test_signOutWithTheServerDownSaysItWasNotConfirmed() {
            const shell = createTemporaryObject(shellComponent, stage,
                { signInAs: "guest@latchkey.test", signInPassword: "Guest-2026!",
                  startPage: "dashboard" });
            tryVerify(() => shell.session.authenticated && shell.page === "dashboard"
                      && shell.settled, 20000, "signed in");
            testServer.stop();
            const button = findChild(shell, "signOutButton");
            verify(button && button.visible);
            mouseClick(button);
            tryVerify(() => !shell.session.authenticated && !shell.session.busy, 60000);
            tryVerify(() => shell.page === "signin", 20000);
            verify(shell.notice.indexOf("signed out on this device") >= 0, shell.notice);
            verify(shell.notice.indexOf("could not be reached") >= 0, shell.notice);
            const said = events(shell).join(" | ");
            verify(said.indexOf("not confirmed by the server") >= 0, said);
            verify(said.indexOf("revoked on the server") < 0, said);
        }
    }
}
