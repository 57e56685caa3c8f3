// A base URL with a path: Session.request() joins it with a path as the SDK joins a profile's
// endpoint paths and latchkey-cli its request paths (docs/profiles.md, "Base URLs with a path").
import QtQuick
import QtTest
import Latchkey

TestCase {
    id: test
    name: "BaseUrl"
    when: windowShown

    // Paths relative to <server>/api: "/auth/login" is <server>/api/auth/login.
    readonly property string profileFile:
        decodeURIComponent(Qt.resolvedUrl("prefixed-profile.json").toString().replace(/^file:\/\//, ""))
    readonly property string root: testServer.baseUrl.toString().replace(/\/$/, "")

    Component {
        id: sessionComponent
        Session { profile: test.profileFile; store: Session.Memory }
    }
    Component {
        id: spyComponent
        SignalSpy {}
    }

    function answer(request) {
        let result = null;
        request.then(data => result = { ok: true, data: data },
                     error => result = { ok: false, error: error });
        tryVerify(() => result !== null, 20000);
        verify(result.ok, JSON.stringify(result.error));
        return result.data;
    }

    function test_pathsGoUnderTheBaseUrlPath_data() {
        return [ { tag: "without final slash", base: root + "/api" },
                 { tag: "with final slash", base: root + "/api/" } ];
    }
    function test_pathsGoUnderTheBaseUrlPath(data) {
        const session = createTemporaryObject(sessionComponent, test, { baseUrl: data.base });
        verify(session.ready, "a client for " + data.base + " with " + profileFile);
        const signedIn = createTemporaryObject(spyComponent, test,
                                               { target: session, signalName: "signedIn" });
        session.signIn("guest@latchkey.test", "Guest-2026!"); // <server>/api/auth/login
        signedIn.wait(20000);
        verify(answer(session.get("/bookings")).bookings.length > 0, "<server>/api/bookings");
        verify(answer(session.get("bookings")).bookings.length > 0, "no leading slash: the same");
        verify(answer(session.get(root + "/api/bookings")).bookings.length > 0, "a full URL as is");
    }
}
