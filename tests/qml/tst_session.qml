// The Session type against a real latchkey-server: sign in, bindings, errors, register, the
// request helper, restore from the keychain, sign out.
import QtQuick
import QtTest
import Latchkey

TestCase {
    id: test
    name: "Session"
    when: windowShown

    readonly property string guest: "guest@latchkey.test"
    readonly property string guestPassword: "Guest-2026!"

    Component {
        id: sessionComponent
        Session {
            profile: "latchkey"
            baseUrl: testServer.baseUrl
        }
    }
    Component {
        id: spyComponent
        SignalSpy {}
    }

    function makeSession(props) {
        const session = createTemporaryObject(sessionComponent, test, props || {});
        verify(session, "Session created");
        verify(session.ready, "a client for " + testServer.baseUrl);
        return session;
    }
    function spy(target, signalName) {
        return createTemporaryObject(spyComponent, test, { target: target, signalName: signalName });
    }
    function signInGuest(session) {
        const signedIn = spy(session, "signedIn");
        session.signIn(guest, guestPassword);
        signedIn.wait(20000);
        compare(session.state, AuthClient.SignedIn);
    }

    function test_signInBindsEverything() {
        const session = makeSession();
        compare(session.state, AuthClient.SignedOut);
        verify(!session.authenticated);
        const states = [];
        session.stateChanged.connect(() => states.push(session.state));
        const busy = spy(session, "busyChanged");

        signInGuest(session);
        compare(states, [AuthClient.SigningIn, AuthClient.SignedIn]);
        verify(busy.count >= 2, "busy went on and off");
        verify(!session.busy);
        verify(session.authenticated);
        compare(session.identity, guest);
        compare(session.user.email, guest);
        compare(session.user.firstName, "Grace");
        compare(session.roles, ["guest"]);
        verify(session.hasRole("guest"));
        verify(!session.hasRole("manager"));
        verify(session.hasPermission("bookings:read"));
        // 900 s access tokens: the expiry is ahead, within 15 minutes.
        const left = session.expiresAt.getTime() - Date.now();
        verify(left > 800 * 1000 && left <= 901 * 1000, "expires in " + left + " ms");
        compare(session.lastError.kind, AuthError.NoError);
    }

    function test_wrongPasswordFillsLastError() {
        const session = makeSession();
        const failed = spy(session, "failed");
        // An account of its own: two failures lock it on this server (--lockout-threshold 2).
        session.signIn(testServer.uniqueEmail("nobody"), "Wrong-password-1");
        failed.wait(20000);
        compare(failed.signalArguments[0][0], "signIn");
        compare(session.lastError.kind, AuthError.InvalidCredentials);
        compare(session.lastError.message, "Invalid Credentials");
        compare(session.lastError.httpStatus, 401);
        compare(session.state, AuthClient.SignedOut);
        session.clearError();
        compare(session.lastError.kind, AuthError.NoError);
    }

    function test_lockoutHasLockedUntil() {
        const session = makeSession();
        const email = testServer.uniqueEmail("locked");
        const registered = spy(session, "registered");
        session.registerAccount(email, "Correct-Horse-9!");
        registered.wait(20000);

        const failed = spy(session, "failed");
        session.signIn(email, "Wrong-password-1");
        failed.wait(20000);
        session.signIn(email, "Wrong-password-2");
        failed.wait(20000);
        compare(session.lastError.kind, AuthError.InvalidCredentials);
        // Locked now, even with the right password.
        session.signIn(email, "Correct-Horse-9!");
        failed.wait(20000);
        compare(session.lastError.kind, AuthError.AccountLocked);
        compare(session.lastError.httpStatus, 423);
        const until = session.lastError.lockedUntil;
        verify(until instanceof Date && !isNaN(until.getTime()), "lockedUntil is a date");
        verify(until.getTime() > Date.now(), "locked until a future time: " + until);
    }

    function test_registerReportsPasswordRequirements() {
        const session = makeSession();
        const failed = spy(session, "failed");
        session.registerAccount(testServer.uniqueEmail("weak"), "short");
        failed.wait(20000);
        compare(failed.signalArguments[0][0], "register");
        compare(session.lastError.kind, AuthError.PasswordPolicy);
        verify(session.lastError.requirements.length > 0, "requirements listed");
        verify(session.lastError.requirements.join(" ").length > 10);

        const registered = spy(session, "registered");
        const email = testServer.uniqueEmail("fresh");
        session.registerAccount(email, "Correct-Horse-9!", { firstName: "Fresh", lastName: "User" });
        registered.wait(20000);
        compare(registered.signalArguments[0][0].email, email);
        compare(session.lastError.kind, AuthError.NoError);
        compare(session.state, AuthClient.SignedOut); // registering does not sign in

        session.registerAccount(email, "Correct-Horse-9!");
        failed.wait(20000);
        compare(session.lastError.kind, AuthError.AlreadyExists);
    }

    function test_requestHelper() {
        const session = makeSession();
        signInGuest(session);

        let listed = null;
        const list = session.get("/api/bookings").then(data => listed = data);
        tryVerify(() => listed !== null, 20000);
        verify(list.done && list.ok);
        compare(list.status, 200);
        verify(listed.bookings.length > 0, "the guest has demo bookings");

        let created = null;
        session.post("/api/bookings", { hotel: "QML Inn", checkIn: "2027-05-01",
                         checkOut: "2027-05-03", guests: 2 })
            .then((data, status) => created = { data: data, status: status });
        tryVerify(() => created !== null, 20000);
        compare(created.status, 201);
        compare(created.data.booking.hotel, "QML Inn");

        let refused = null;
        session.request("GET", "/api/admin/users").then(() => fail("a guest listed users"),
                                                       error => refused = error);
        tryVerify(() => refused !== null, 20000);
        compare(refused.kind, "Http");
        compare(refused.status, 403);
        compare(refused.message, "Forbidden: insufficient permissions.");

        // then() after the end still calls back, from the event loop.
        let late = null;
        list.then(data => late = data);
        compare(late, null);
        tryVerify(() => late !== null);
    }

    function test_restoreFromTheKeychain() {
        const first = makeSession();
        signInGuest(first);
        // The keychain writes of the sign-in (the token, then the last identity) are done: the
        // restore reads them.
        const flushed = spy(first, "flushed");
        first.flush();
        flushed.wait(20000);

        const second = makeSession();
        compare(second.state, AuthClient.SignedOut);
        const restored = spy(second, "restored");
        second.restore();
        compare(second.state, AuthClient.Restoring);
        verify(second.busy);
        restored.wait(20000);
        compare(second.state, AuthClient.SignedIn);
        compare(second.identity, guest);
        compare(second.user.firstName, "Grace");
    }

    function test_signOut() {
        const session = makeSession();
        signInGuest(session);
        const signedOut = spy(session, "signedOut");
        session.signOut();
        signedOut.wait(20000);
        compare(session.state, AuthClient.SignedOut);
        compare(session.roles, []);
        verify(isNaN(session.expiresAt.getTime()), "no expiry when signed out");
        compare(session.lastError.kind, AuthError.NoError);

        // Nothing left to restore: failed("restore", NotSignedIn), and no error to show.
        const failed = spy(session, "failed");
        session.restore();
        failed.wait(20000);
        compare(failed.signalArguments[0][1].kind, AuthError.NotSignedIn);
        compare(session.lastError.kind, AuthError.NoError);
    }

    function test_expiredWhenTheServerRevokes() {
        const session = makeSession({ store: Session.Memory });
        signInGuest(session);
        const expired = spy(session, "expired");
        compare(testServer.hook("/test/revoke-sessions", { email: guest }), 204);
        compare(testServer.hook("/test/expire-access-tokens", { email: guest }), 204);
        let error = null;
        session.get("/api/ping").then(() => fail("answered after revocation"), e => error = e);
        expired.wait(20000);
        tryVerify(() => error !== null, 20000);
        compare(error.kind, "SessionExpired");
        compare(session.state, AuthClient.SignedOut);
        compare(session.lastError.kind, AuthError.SessionExpired);
    }

    function test_unconfiguredSessionSaysSo() {
        const session = createTemporaryObject(sessionComponent, test, { baseUrl: "" });
        verify(!session.ready);
        const failed = spy(session, "failed");
        session.signIn(guest, guestPassword);
        failed.wait();
        compare(session.lastError.kind, AuthError.Protocol);

        const bad = createTemporaryObject(sessionComponent, test, { profile: "no-such-profile" });
        verify(!bad.ready);
        compare(bad.lastError.kind, AuthError.Protocol);
        verify(bad.lastError.message.indexOf("no-such-profile") >= 0, bad.lastError.message);
    }

    // A password profile offers the password only; the OpenID sign-ins fail as a configuration
    // error (the "oidc" profile's side is tst_demo_oidc.qml, against a real provider).
    function test_signInOptionsFollowTheProfile() {
        const session = makeSession();
        verify(session.supportsPasswordSignIn);
        verify(!session.supportsBrowserSignIn);
        verify(!session.supportsDeviceSignIn);
        compare(session.deviceCode.isValid, false);
        compare(session.endSessionUrl.toString(), "");
        const failed = spy(session, "failed");
        session.signInWithBrowser();
        failed.wait();
        compare(failed.signalArguments[0][0], "signInWithBrowser");
        compare(session.lastError.kind, AuthError.Protocol);
        verify(session.lastError.message.indexOf("oidc") >= 0, session.lastError.message);

        // issuer and clientId fill the built-in "oidc" profile.
        const oidc = createTemporaryObject(sessionComponent, test, {
            profile: "oidc", issuer: "http://127.0.0.1:9/", clientId: "an-app" });
        verify(oidc.ready, oidc.lastError.message);
        verify(oidc.supportsBrowserSignIn);
        verify(!oidc.supportsPasswordSignIn);
        verify(oidc.openUrlsExternally, "the desktop's browser by default");
    }
}
