// Every page of the demo app renders (offscreen) to something that is not blank.
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
        name: "DemoScreenshots"
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

        function test_pageIsNotBlank_data() {
            return [
                { tag: "start", page: "start", props: { startPage: "start" } },
                { tag: "signin", page: "signin", props: { startPage: "signin" } },
                { tag: "register", page: "register", props: { startPage: "register" } },
                { tag: "dashboard", page: "dashboard", props: { startPage: "dashboard",
                  signInAs: "guest@latchkey.test", signInPassword: "Guest-2026!" } },
                { tag: "bookings", page: "bookings", props: { startPage: "bookings",
                  signInAs: "guest@latchkey.test", signInPassword: "Guest-2026!" } },
                { tag: "admin", page: "admin", props: { startPage: "admin",
                  signInAs: "manager@latchkey.test", signInPassword: "Manager-2026!" } },
            ];
        }

        function test_pageIsNotBlank(data) {
            const shell = createTemporaryObject(shellComponent, stage, data.props);
            tryVerify(() => shell.page === data.page && shell.settled, 20000,
                      "page " + data.page + " settled (on " + shell.page + ")");
            waitForRendering(shell);
            const image = grabImage(shell);
            compare(image.width, 1120);
            compare(image.height, 740);
            // Not blank: many colours, and a good part of the window is not the background.
            const colours = {};
            let notWhite = 0, samples = 0;
            for (let y = 2; y < image.height; y += 7) {
                for (let x = 2; x < image.width; x += 7) {
                    const c = image.pixel(x, y);
                    colours[c.toString()] = true;
                    if (c.r < 0.97 || c.g < 0.97 || c.b < 0.97)
                        ++notWhite;
                    ++samples;
                }
            }
            const distinct = Object.keys(colours).length;
            verify(distinct >= 8, data.page + ": " + distinct + " colours");
            verify(notWhite / samples > 0.05, data.page + ": " + notWhite + " of " + samples + " not white");
        }
    }
}
