// The demo app's pages (module LatchkeyDemo) against a real latchkey-server: the sign-in page
// shows a lockout with its countdown, the register page the password rules, the admin page is
// hidden for a guest (and a forced visit shows the 403), restore greets, and the fault buttons
// end as the issue's walkthrough says.
import QtQuick
import QtTest
import Latchkey
import LatchkeyDemo

// TestCase itself is invisible: the pages live in this visible root so they render, take
// the focus and receive clicks.
Item {
    id: stage
    width: 1120
    height: 740

    TestCase {
        id: test
        name: "DemoPages"
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

        function makeShell(props) {
            const shell = createTemporaryObject(shellComponent, stage, props);
            verify(shell, "AppShell created");
            return shell;
        }
        function child(shell, name) {
            const item = findChild(shell, name);
            verify(item, "an item named " + name);
            return item;
        }
        function events(shell) {
            const texts = [];
            for (let i = 0; i < shell.events.count; ++i)
                texts.push(shell.events.get(i).text);
            return texts;
        }
        function signedInShell(email, password, page) {
            const shell = makeShell({ signInAs: email, signInPassword: password, startPage: page });
            tryVerify(() => shell.session.authenticated && shell.page === page && shell.settled,
                      20000, "signed in on page " + page);
            return shell;
        }

        function test_signInPageShowsLockoutCountdown() {
            const shell = makeShell({ autoStart: false, startPage: "signin" });
            compare(shell.page, "signin");
            const email = testServer.uniqueEmail("page-lock");
            let registered = false;
            shell.session.registered.connect(() => registered = true);
            shell.session.registerAccount(email, "Correct-Horse-9!");
            tryVerify(() => registered, 20000);

            const emailField = child(shell, "emailField");
            const passwordField = child(shell, "passwordField");
            const button = child(shell, "signInButton");
            const error = child(shell, "signInError");
            const countdown = child(shell, "countdown");
            verify(!button.enabled, "nothing typed: cannot submit");

            emailField.text = email;
            for (const attempt of ["Wrong-1", "Wrong-2", "Correct-Horse-9!"]) {
                passwordField.text = attempt;
                passwordField.forceActiveFocus();
                keyClick(Qt.Key_Return); // Enter in the password field signs in
                tryVerify(() => !shell.session.busy && error.text.length > 0, 20000);
            }
            verify(error.text.indexOf("locked") >= 0, error.text);
            verify(/Try again in \d+:\d\d/.test(countdown.text), countdown.text);
            verify(!button.enabled, "locked: the button waits for the countdown");
            // Another account is not locked.
            emailField.text = "someone@else.test";
            passwordField.text = "x";
            verify(button.enabled);
        }

        function test_registerPageListsPasswordRules() {
            const shell = makeShell({ autoStart: false, startPage: "register" });
            compare(shell.page, "register");
            child(shell, "emailField").text = testServer.uniqueEmail("page-weak");
            child(shell, "passwordField").text = "weak";
            child(shell, "confirmField").text = "weak";
            mouseClick(child(shell, "registerButton"));
            const rules = child(shell, "requirements");
            const error = child(shell, "registerError");
            // The rules show before any refusal now: wait for the server's answer itself.
            tryVerify(() => error.text.indexOf("rules") >= 0, 20000, error.text);
            verify(rules.visible);
            verify(rules.children.length > 1, "one line per rule");
        }

        function test_adminHiddenForGuestAndForced403() {
            const guest = signedInShell("guest@latchkey.test", "Guest-2026!", "dashboard");
            compare(guest.tabPages, ["dashboard", "bookings"]);
            compare(findChild(guest, "tab-admin"), null);
            verify(findChild(guest, "tab-bookings"));
            guest.openPage("admin"); // what --page admin does
            const refused = child(guest, "adminError");
            tryVerify(() => refused.text.indexOf("403") >= 0, 20000);
            verify(refused.text.indexOf("Forbidden") >= 0, refused.text);

            const manager = signedInShell("manager@latchkey.test", "Manager-2026!", "admin");
            tryVerify(() => findChild(manager, "tab-admin") !== null);
            tryVerify(() => child(manager, "userList").count >= 2, 20000);
            compare(child(manager, "adminError").text, "");
        }

        function test_restoreWelcomesBack() {
            const first = makeShell({ store: Session.Keychain, signInAs: "guest@latchkey.test",
                                      signInPassword: "Guest-2026!" });
            tryVerify(() => first.page === "dashboard" && first.settled, 20000);
            let flushed = false;
            first.session.flushed.connect(() => flushed = true);
            first.session.flush(); // the rotated refresh token is in the keychain
            tryVerify(() => flushed, 20000);
            first.destroy();

            const second = makeShell({ store: Session.Keychain });
            compare(second.page, "start");
            tryVerify(() => second.page === "dashboard" || !second.session.busy && second.page !== "start", 20000);
            compare(second.page, "dashboard", events(second).join(" | "));
            compare(second.welcome, "Welcome back, Grace Guest.");
            verify(events(second).indexOf("session restored from the keychain (guest@latchkey.test)") >= 0,
                   events(second).join(" | "));
        }

        // Started while the server cannot answer: the kept session shows as offline with a
        // Retry button (never the sign-in form), and recovers by itself when the server is back.
        function test_startWithTheServerDownShowsOfflineAndRecovers() {
            const first = makeShell({ store: Session.Keychain, signInAs: "guest@latchkey.test",
                                      signInPassword: "Guest-2026!" });
            tryVerify(() => first.page === "dashboard" && first.settled, 20000);
            let flushed = false;
            first.session.flushed.connect(() => flushed = true);
            first.session.flush();
            tryVerify(() => flushed, 20000);
            first.destroy();

            // Every attempt of the restore fails (503); the server answers again after them.
            compare(testServer.hook("/test/fail-refresh", { status: 503, count: 4 }), 204);
            const second = makeShell({ store: Session.Keychain });
            tryVerify(() => second.session.authenticated && !second.session.online, 20000,
                      "kept offline: " + events(second).join(" | "));
            compare(second.page, "start");
            compare(child(second, "startTitle").text, "Offline — will reconnect");
            verify(child(second, "retryButton").visible);
            compare(second.session.identity, "guest@latchkey.test");
            tryVerify(() => second.session.online && second.page === "dashboard", 20000,
                      "reconnected: " + events(second).join(" | "));
        }

        function test_expireThenReloadRefreshesOnce() {
            const shell = signedInShell("guest@latchkey.test", "Guest-2026!", "dashboard");
            tryVerify(() => shell.hooksAvailable, 20000);
            mouseClick(child(shell, "expireButton"));
            tryVerify(() => events(shell)[0].indexOf("server: every access token") === 0, 20000);

            shell.openPage("bookings");
            tryVerify(() => shell.page === "bookings" && shell.settled, 20000);
            tryVerify(() => child(shell, "bookingList").count > 0, 20000);
            const refreshes = events(shell).filter(t => t.indexOf("refreshed after a 401") === 0);
            compare(refreshes.length, 1, events(shell).join(" | "));
        }

        function test_revokeEndsOnTheSignInPage() {
            const shell = signedInShell("manager@latchkey.test", "Manager-2026!", "dashboard");
            tryVerify(() => shell.hooksAvailable, 20000);
            mouseClick(child(shell, "revokeButton"));
            tryVerify(() => shell.page === "signin", 20000);
            compare(shell.session.state, AuthClient.SignedOut);
            verify(shell.notice.indexOf("ended your session") >= 0, shell.notice);
            tryVerify(() => child(shell, "signInNotice").text === shell.notice);
        }

        function test_keyboardReachesEveryField() {
            const shell = makeShell({ autoStart: false, startPage: "signin" });
            const emailField = child(shell, "emailField");
            tryVerify(() => emailField.activeFocus, 5000, "the email field has the focus");
            keyClick(Qt.Key_Tab);
            verify(child(shell, "passwordField").activeFocus, "Tab moves to the password");
        }
    }
}
