// The demo app with the built-in "oidc" profile against a real OpenID provider (testOidc,
// tests/support/oidc): the sign-in page offers the browser and another device instead of a
// password form; the browser sign-in goes through with the headless user agent in place of the
// person's browser (Session.openUrlsExternally false, openUrlRequested handed to it); the device
// page shows the code large with its countdown, and approving it elsewhere signs in.
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
        name: "DemoOidc"
        when: windowShown

        Component {
            id: shellComponent
            AppShell {
                width: 1120
                height: 740
                profile: "oidc"
                clientId: "latchkey-native"
                store: Session.Memory
                openUrlsExternally: false
                autoStart: false
                startPage: "signin"
            }
        }
        SignalSpy {
            id: userAgent
            target: testOidc
            signalName: "userAgentFinished"
        }

        function initTestCase() {
            verify(testOidc.start(), "the OpenID provider: " + testOidc.errorString);
        }
        function init() {
            userAgent.clear();
        }
        // The provider's issuer; its userinfo endpoint (/me) is the demo's API.
        function makeShell(props) {
            const all = { issuer: testOidc.issuer, baseUrl: testOidc.issuer };
            for (const key in props || {})
                all[key] = props[key];
            const shell = createTemporaryObject(shellComponent, stage, all);
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
        function userAgentOutput() {
            return userAgent.count > 0 ? userAgent.signalArguments[0][1] : "(the user agent did not end)";
        }

        function test_signInPageOffersBrowserAndDeviceWithoutPasswordForm() {
            const shell = makeShell();
            compare(shell.page, "signin");
            verify(shell.session.supportsBrowserSignIn);
            verify(shell.session.supportsDeviceSignIn);
            verify(!shell.session.supportsPasswordSignIn);
            verify(child(shell, "browserSignInButton").visible);
            verify(child(shell, "deviceSignInButton").visible);
            verify(!child(shell, "passwordForm").visible, "no password login in the profile");
            compare(shell.tabPages, ["dashboard"]);
        }

        function test_browserSignInShowsTheIdentity() {
            const shell = makeShell();
            let opened = [];
            shell.session.openUrlRequested.connect(url => {
                opened.push(url.toString());
                testOidc.authorize(url); // the browser: alice signs in and consents
            });
            mouseClick(child(shell, "browserSignInButton"));
            tryVerify(() => shell.session.authenticated && shell.page === "dashboard" && shell.settled,
                      20000, "signed in: " + events(shell).join(" | ") + " / " + userAgentOutput());
            compare(opened.length, 1);
            verify(opened[0].indexOf(testOidc.issuer.toString() + "/auth?") === 0, opened[0]);
            tryVerify(() => userAgent.count === 1, 20000);
            compare(userAgent.signalArguments[0][0], 0, userAgentOutput());

            compare(shell.session.identity, "alice@example.com");
            compare(child(shell, "identity").text, "alice@example.com");
            compare(child(shell, "who").text, "Alice"); // the provider's "name" claim
            compare(shell.authorizationUrl.toString(), "", "no longer waiting for the browser");
            // The API: the provider's userinfo through an authorized XMLHttpRequest.
            const userinfo = child(shell, "userinfo");
            tryVerify(() => userinfo.text.indexOf("\"email\": \"alice@example.com\"") >= 0, 20000,
                      userinfo.text);
            verify(events(shell).indexOf("signed in as alice@example.com") >= 0,
                   events(shell).join(" | "));
        }

        function test_browserSignInRefusedSaysSo() {
            const shell = makeShell();
            shell.session.openUrlRequested.connect(url => testOidc.authorize(url, ["--deny"]));
            mouseClick(child(shell, "browserSignInButton"));
            const error = child(shell, "signInError");
            tryVerify(() => error.text.length > 0, 20000, userAgentOutput());
            verify(error.text.indexOf("refused") >= 0, error.text);
            compare(shell.session.lastError.kind, AuthError.AccessDenied);
            compare(shell.page, "signin");
            verify(!shell.session.authenticated);
            verify(!child(shell, "browserWaiting").visible);
            // The browser was sent back to the app, which answered it.
            tryVerify(() => userAgent.count === 1, 20000);
            compare(userAgent.signalArguments[0][0], 0, userAgentOutput());
        }

        function test_browserSignInWaitsAndCancels() {
            const shell = makeShell();
            mouseClick(child(shell, "browserSignInButton")); // nobody answers in the browser
            const waiting = child(shell, "browserWaiting");
            tryVerify(() => waiting.visible, 20000, events(shell).join(" | "));
            verify(shell.settled, "waiting for the person counts as settled");
            mouseClick(child(shell, "cancelBrowserButton"));
            tryVerify(() => !shell.session.busy && !waiting.visible, 20000);
            compare(shell.session.state, AuthClient.SignedOut);
            compare(child(shell, "signInError").text, "", "cancelling is no error");
            compare(shell.session.lastError.kind, AuthError.NoError);
        }

        function test_deviceCodeShownThenApprovedSignsIn() {
            const shell = makeShell();
            mouseClick(child(shell, "deviceSignInButton"));
            compare(shell.page, "device");
            const userCode = child(shell, "userCode");
            tryVerify(() => shell.session.deviceCode.isValid && userCode.text.length > 0, 20000,
                      events(shell).join(" | "));
            const code = shell.session.deviceCode;
            compare(userCode.text, code.userCode);
            verify(userCode.font.pixelSize >= 48, "the code is shown large");
            compare(child(shell, "verificationUri").text, code.verificationUri.toString());
            verify(code.verificationUri.toString().indexOf(testOidc.issuer.toString()) === 0);
            const countdown = child(shell, "deviceCountdown");
            verify(/The code expires in \d+:\d\d/.test(countdown.text), countdown.text);
            verify(code.expiresAt.getTime() > Date.now());
            tryVerify(() => shell.settled, 5000, "the page waits for the person: settled");

            testOidc.approveDevice(code.verificationUri, code.userCode); // on the phone
            tryVerify(() => shell.session.authenticated && shell.page === "dashboard", 20000,
                      events(shell).join(" | ") + " / " + userAgentOutput());
            verify(!shell.session.deviceCode.isValid, "the code is gone once used");
            tryVerify(() => userAgent.count === 1, 20000);
            compare(userAgent.signalArguments[0][0], 0, userAgentOutput());
            compare(child(shell, "identity").text, "alice@example.com");
        }

        function test_deviceCancelGoesBack() {
            const shell = makeShell({ startPage: "device" });
            compare(shell.page, "device");
            tryVerify(() => shell.session.deviceCode.isValid, 20000, events(shell).join(" | "));
            mouseClick(child(shell, "cancelDeviceButton"));
            compare(shell.page, "signin");
            tryVerify(() => !shell.session.busy && !shell.session.deviceCode.isValid, 20000);
            compare(shell.session.state, AuthClient.SignedOut);
        }

        function test_expiredDeviceCodeOffersANewOne() {
            const shell = makeShell({ startPage: "device" });
            tryVerify(() => shell.session.deviceCode.isValid, 20000, events(shell).join(" | "));
            const first = shell.session.deviceCode.userCode;
            testOidc.expireDeviceCodes();
            const error = child(shell, "deviceError");
            tryVerify(() => error.text.indexOf("expired") >= 0, 20000, error.text);
            compare(shell.session.lastError.kind, AuthError.AuthorizationExpired);
            const again = child(shell, "newCodeButton");
            verify(again.visible);
            mouseClick(again);
            tryVerify(() => shell.session.deviceCode.isValid
                      && shell.session.deviceCode.userCode !== first, 20000);
            compare(error.text, "");
        }
    }
}
