// QML's own networking through the factory the Session installs: XMLHttpRequest (GUI thread)
// and Image (a loader thread) to the API's origin are authorized, get through a 401 after the
// server expired every access token, and together cause exactly one refresh.
import QtQuick
import QtTest
import Latchkey

TestCase {
    id: test
    name: "Network"
    when: windowShown
    width: 300
    height: 300

    readonly property string guest: "guest@latchkey.test"
    readonly property string refreshOk: 'latchkey_refresh_total{result="ok"}'
    property int imageRound: 0

    Session {
        id: session
        profile: "latchkey"
        baseUrl: testServer.baseUrl
        store: Session.Memory
    }
    SignalSpy { id: signedIn; target: session; signalName: "signedIn" }
    SignalSpy { id: refreshed; target: session; signalName: "refreshed" }

    Image {
        id: image
        cache: false
        asynchronous: true
    }

    function url(path) {
        return testServer.baseUrl.toString().replace(/\/$/, "") + path;
    }
    function xhr(method, path, body) {
        const result = { done: false, status: 0, body: "" };
        const request = new XMLHttpRequest();
        request.onreadystatechange = function () {
            if (request.readyState === XMLHttpRequest.DONE) {
                result.status = request.status;
                result.body = request.responseText;
                result.done = true;
            }
        };
        request.open(method, typeof path === "string" && path.startsWith("http") ? path : url(path));
        if (body !== undefined)
            request.setRequestHeader("Content-Type", "application/json");
        request.send(body === undefined ? null : JSON.stringify(body));
        return result;
    }
    function loadImage(path) {
        image.source = "";
        image.source = url(path) + "?round=" + (++imageRound);
    }

    function init() {
        if (session.state !== AuthClient.SignedIn) {
            session.signIn(guest, "Guest-2026!");
            signedIn.wait(20000);
            compare(session.state, AuthClient.SignedIn);
        }
        refreshed.clear();
    }

    function test_xhrAndImageAreAuthorized() {
        const bookings = xhr("GET", "/api/bookings");
        tryVerify(() => bookings.done, 20000);
        compare(bookings.status, 200);
        verify(JSON.parse(bookings.body).bookings.length > 0);

        loadImage("/api/user/avatar");
        tryCompare(image, "status", Image.Ready, 20000);
        compare(image.implicitWidth, 192);
        compare(refreshed.count, 0);
    }

    function test_throughA401WithOneRefresh() {
        const before = testServer.metric(refreshOk);
        verify(before >= 0, "/metrics has " + refreshOk);
        compare(testServer.hook("/test/expire-access-tokens", { email: guest }), 204);

        // Both at once: the XHR on this thread, the picture on the image loader's thread.
        const bookings = xhr("GET", "/api/bookings");
        const echo = xhr("POST", "/api/echo", { replayed: "body" });
        loadImage("/api/user/avatar");

        tryVerify(() => bookings.done && echo.done, 20000);
        tryCompare(image, "status", Image.Ready, 20000);
        compare(bookings.status, 200);
        compare(echo.status, 200);
        compare(JSON.parse(echo.body).replayed, "body"); // the body went out again
        compare(image.implicitWidth, 192);

        compare(testServer.metric(refreshOk), before + 1);
        compare(refreshed.count, 1);
        compare(refreshed.signalArguments[0][0], AuthClient.Unauthorized);
        compare(session.state, AuthClient.SignedIn);
    }

    function test_imageAloneGetsThroughA401() {
        const before = testServer.metric(refreshOk);
        compare(testServer.hook("/test/expire-access-tokens", { email: guest }), 204);
        loadImage("/api/user/avatar");
        tryCompare(image, "status", Image.Ready, 20000);
        compare(testServer.metric(refreshOk), before + 1);
        refreshed.wait(20000);
        compare(refreshed.signalArguments[0][0], AuthClient.Unauthorized);
    }

    function test_otherOriginsGetNoToken() {
        // localhost is another origin than 127.0.0.1 (same server): no token, so a 401.
        const other = xhr("GET", url("/api/bookings").replace("127.0.0.1", "localhost"));
        tryVerify(() => other.done, 20000);
        compare(other.status, 401);
        compare(refreshed.count, 0);
    }

    function test_signedOutRequestsCarryNoToken() {
        const session2 = Qt.createQmlObject(
            'import Latchkey; Session { profile: "latchkey"; store: Session.Memory }', test);
        session2.baseUrl = testServer.baseUrl;
        // Both sessions serve this origin; the first registered one (signed in) answers.
        const ping = xhr("GET", "/api/ping");
        tryVerify(() => ping.done, 20000);
        compare(ping.status, 200);
        session2.destroy();

        session.signOut();
        tryCompare(session, "state", AuthClient.SignedOut, 20000);
        const refused = xhr("GET", "/api/ping");
        tryVerify(() => refused.done, 20000);
        compare(refused.status, 401);
    }
}
