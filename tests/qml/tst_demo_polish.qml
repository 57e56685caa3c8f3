// The demo app's rough edges, as a person trying it meets them: messages that outlive what they
// were about, forms that jump when a message appears, the attempts left before a lockout, the
// password rules before a refusal, the latency switch across tabs, a page left during a load,
// the selected tab, Ctrl+Q and the window's title. Against a real latchkey-server (lockout after
// two failures: tst_qml.cpp).
import QtQuick
import QtTest
import Latchkey
import LatchkeyDemo

Item {
    id: stage
    width: 1120
    height: 740

    TestCase {
        id: test
        name: "DemoPolish"
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
        Component {
            id: windowComponent
            Main {
                visible: false
                baseUrl: testServer.baseUrl
                store: Session.Memory
                startPage: "start"
            }
        }
        Component {
            id: spyComponent
            SignalSpy {}
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
        function register(shell, email, password) {
            let registered = false;
            shell.session.registered.connect(() => registered = true);
            shell.session.registerAccount(email, password);
            tryVerify(() => registered, 20000, "registered " + email);
        }
        // Every item under root, depth first.
        function descendants(root) {
            const all = [];
            const walk = item => {
                for (let i = 0; i < item.children.length; ++i) {
                    all.push(item.children[i]);
                    walk(item.children[i]);
                }
            };
            walk(root);
            return all;
        }
        function visibleTexts(root) {
            return descendants(root).filter(i => i.visible && typeof i.text === "string"
                                                 && i.elide !== undefined && i.text !== "")
                                    .map(i => i.text);
        }
        function yOf(item, shell) {
            return item.mapToItem(shell, 0, 0).y;
        }
        // WCAG relative luminance and contrast ratio of two colours.
        function luminance(c) {
            const lin = v => v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
            return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
        }
        function contrast(a, b) {
            const la = luminance(a), lb = luminance(b);
            return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
        }

        function cleanup() {
            testServer.hook("/test/latency", { ms: 0 });
        }

        // Wrong passwords count down to the lockout; the messages about an account go once
        // another email is typed.
        function test_signInShowsAttemptsLeftAndForgetsThemForAnotherEmail() {
            const shell = makeShell({ autoStart: false, startPage: "signin" });
            const email = testServer.uniqueEmail("polish-lock");
            register(shell, email, "Correct-Horse-9!");
            const emailField = child(shell, "emailField");
            const passwordField = child(shell, "passwordField");
            const error = child(shell, "signInError");
            const countdown = child(shell, "countdown");

            emailField.text = email;
            passwordField.text = "Wrong-1";
            passwordField.forceActiveFocus();
            keyClick(Qt.Key_Return);
            tryVerify(() => !shell.session.busy && error.text.length > 0, 20000);
            verify(error.text.indexOf("Wrong email or password") >= 0, error.text);
            verify(error.text.indexOf("1 attempt left before the account is locked") >= 0, error.text);

            passwordField.text = "Wrong-2";
            passwordField.forceActiveFocus();
            keyClick(Qt.Key_Return);
            tryVerify(() => !shell.session.busy && error.text.indexOf("last attempt") >= 0, 20000,
                      error.text);

            passwordField.text = "Correct-Horse-9!";
            passwordField.forceActiveFocus();
            keyClick(Qt.Key_Return);
            tryVerify(() => !shell.session.busy && error.text.indexOf("is locked") >= 0, 20000,
                      error.text);
            verify(/Try again in \d+:\d\d/.test(countdown.text), countdown.text);

            // Another email: nothing said about the locked account stays.
            emailField.text = "someone@else.test";
            compare(error.text, "");
            compare(countdown.text, "");
            verify(!error.visible);
            // Back to the locked one: its lockout is shown again.
            emailField.text = email;
            verify(/Try again in \d+:\d\d/.test(countdown.text), countdown.text);
        }

        // The fields and the button stay where they are when a validation line or the server's
        // refusal appears (measured in the page's coordinates).
        function test_signInFormDoesNotMoveWhenAnErrorAppears() {
            const shell = makeShell({ autoStart: false, startPage: "signin" });
            tryVerify(() => shell.settled);
            const emailField = child(shell, "emailField");
            const passwordField = child(shell, "passwordField");
            const button = child(shell, "signInButton");
            waitForRendering(shell);
            const before = [yOf(emailField, shell), yOf(passwordField, shell), yOf(button, shell)];

            passwordField.forceActiveFocus();
            keyClick(Qt.Key_Return); // nothing typed: a line under each field
            verify(child(shell, "emailMessage").text.length > 0);
            verify(child(shell, "passwordMessage").text.length > 0);
            compare([yOf(emailField, shell), yOf(passwordField, shell), yOf(button, shell)], before);

            emailField.text = testServer.uniqueEmail("polish-nobody");
            passwordField.text = "Wrong-1";
            passwordField.forceActiveFocus();
            keyClick(Qt.Key_Return);
            const error = child(shell, "signInError");
            tryVerify(() => !shell.session.busy && error.text.length > 0, 20000);
            compare([yOf(emailField, shell), yOf(passwordField, shell), yOf(button, shell)], before);
        }

        // The server's rules are listed before anything is refused; a refusal marks the broken
        // ones; a new password makes the marks and the error go.
        function test_registerListsRulesFirstAndClearsStaleMarks() {
            const shell = makeShell({ autoStart: false, startPage: "register" });
            tryVerify(() => shell.settled, 20000);
            const rules = child(shell, "requirements");
            verify(rules.visible, "the rules are shown before any refusal");
            const listed = visibleTexts(rules);
            verify(listed.length >= 5, listed.join(" | "));
            verify(listed.every(t => t.indexOf("✗") < 0), listed.join(" | "));

            const passwordField = child(shell, "passwordField");
            const confirmField = child(shell, "confirmField");
            const button = child(shell, "registerButton");
            waitForRendering(shell);
            const before = [yOf(passwordField, shell), yOf(confirmField, shell), yOf(button, shell)];

            mouseClick(button); // nothing typed: validation lines
            compare([yOf(passwordField, shell), yOf(confirmField, shell), yOf(button, shell)], before);

            child(shell, "emailField").text = testServer.uniqueEmail("polish-weak");
            passwordField.text = "weak";
            confirmField.text = "weak";
            mouseClick(button);
            const error = child(shell, "registerError");
            tryVerify(() => shell.settled && error.text.indexOf("rules") >= 0, 20000);
            const marked = visibleTexts(rules);
            verify(marked.some(t => t.indexOf("✗") === 0), marked.join(" | "));
            compare([yOf(passwordField, shell), yOf(confirmField, shell), yOf(button, shell)], before);

            // A password that meets every rule: nothing says it does not.
            passwordField.text = "Correct-Horse-9!";
            confirmField.text = "Correct-Horse-9!";
            const after = visibleTexts(rules);
            verify(after.every(t => t.indexOf("✗") < 0), after.join(" | "));
            compare(error.text, "");
        }

        function test_latencySwitchKeepsItsStateAcrossTabs() {
            const shell = signedInShell("guest@latchkey.test", "Guest-2026!", "dashboard");
            tryVerify(() => shell.hooksAvailable, 20000);
            let latency = child(shell, "latencySwitch");
            verify(!latency.checked);
            mouseClick(latency);
            tryVerify(() => events(shell)[0] === "server: every answer now comes 2 s late", 20000,
                      events(shell).join(" | "));

            shell.openPage("bookings");
            tryVerify(() => shell.page === "bookings" && shell.settled, 20000);
            shell.openPage("dashboard");
            tryVerify(() => shell.page === "dashboard" && shell.settled, 20000);
            latency = child(shell, "latencySwitch");
            verify(latency.checked, "still on: the server still delays every answer");

            mouseClick(latency);
            tryVerify(() => events(shell)[0] === "server: no added latency", 20000);
            verify(!latency.checked);
        }

        // Leaving the bookings while they load: the late answer finds no page and says nothing.
        function test_leavingBookingsDuringALoadWarnsNothing() {
            failOnWarning(/Invalid write to global property/);
            failOnWarning(/TypeError/);
            const shell = signedInShell("guest@latchkey.test", "Guest-2026!", "dashboard");
            compare(testServer.hook("/test/latency", { ms: 1500 }), 204);
            shell.openPage("bookings");
            tryVerify(() => shell.pending > 0, 5000, "the bookings are loading");
            shell.openPage("dashboard");
            tryVerify(() => shell.pending === 0, 20000, "the answer came");
            verify(events(shell).some(t => t.indexOf("GET /api/bookings → 200") === 0),
                   events(shell).join(" | "));
        }

        // A load that failed says so, and only that: not also "No bookings yet".
        function test_loadErrorIsNotAlsoNoBookings() {
            const shell = signedInShell("guest@latchkey.test", "Guest-2026!", "dashboard");
            compare(testServer.hook("/test/expire-access-tokens", { email: "guest@latchkey.test" }), 204);
            compare(testServer.hook("/test/fail-refresh", { status: 503, count: 4 }), 204);
            shell.openPage("bookings");
            const error = child(shell, "bookingsError");
            tryVerify(() => error.text.indexOf("Could not load the bookings") === 0, 30000,
                      events(shell).join(" | "));
            tryVerify(() => shell.settled, 20000);
            compare(child(shell, "bookingList").count, 0);
            const texts = visibleTexts(shell);
            verify(texts.indexOf("No bookings yet") < 0, texts.join(" | "));
        }

        // Signed out, the email field is empty, and its placeholder does not read as a value.
        function test_emptyEmailFieldDoesNotLookFilledIn() {
            const shell = makeShell({ autoStart: false, startPage: "signin" });
            const emailField = child(shell, "emailField");
            compare(emailField.text, "");
            verify(!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(emailField.placeholderText),
                   "the placeholder is no address: " + emailField.placeholderText);
            // Lighter than the text, clearly: no more than half the text's contrast.
            const background = Qt.color("white");
            verify(contrast(emailField.placeholderTextColor, background)
                   <= contrast(emailField.color, background) / 2,
                   "placeholder " + emailField.placeholderTextColor + " vs text " + emailField.color);
        }

        // The page shown is the tab that stands out: its background against the others' (WCAG
        // contrast ratio), sampled away from the text.
        function test_selectedTabStandsOut() {
            const shell = signedInShell("guest@latchkey.test", "Guest-2026!", "dashboard");
            const selected = child(shell, "tab-dashboard");
            const other = child(shell, "tab-bookings");
            tryVerify(() => selected.checked && !other.checked);
            waitForRendering(shell);
            const image = grabImage(shell);
            const a = selected.mapToItem(shell, 3, 3), b = other.mapToItem(shell, 3, 3);
            const pa = image.pixel(Math.round(a.x), Math.round(a.y));
            const pb = image.pixel(Math.round(b.x), Math.round(b.y));
            const ratio = contrast(pa, pb);
            verify(ratio >= 2, "selected " + pa + " vs " + pb + ": contrast " + ratio.toFixed(2));
        }

        function test_ctrlQAsksToQuit() {
            const shell = makeShell({ autoStart: false, startPage: "signin" });
            const spy = createTemporaryObject(spyComponent, test,
                                              { target: shell, signalName: "quitRequested" });
            verify(spy.valid, "AppShell has quitRequested");
            keySequence("Ctrl+Q");
            compare(spy.count, 1);
        }

        // The platform adds the application's name to a title that does not end with it: the
        // title ends with it, so it is said once.
        function test_windowTitleNamesTheAppOnce() {
            const window = createTemporaryObject(windowComponent, stage);
            verify(window);
            const name = Qt.application.displayName;
            verify(window.title.endsWith(name), window.title + " / " + name);
            compare(window.title.split(name).length - 1, 1, window.title);
            verify(window.title.indexOf(testServer.baseUrl.toString()) >= 0, window.title);
        }
    }
}
