// Every page of the demo app renders (offscreen) to something that is not blank, also in a
// phone-sized window (400 × 800), where nothing may stick out of what shows it.
import QtQuick
import QtTest
import Latchkey
import LatchkeyDemo

// TestCase itself is invisible: the pages live in this visible root so they render, take
// the focus and receive clicks.
Item {
    id: stage
    width: 1120
    height: 800

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
            verifyNotBlank(image, data.page);
        }

        function test_phoneSizedPage_data() {
            return test_pageIsNotBlank_data();
        }

        // 400 × 800: not blank, and nothing clipped: every visible item lies, across, within
        // the window and within every ancestor that clips (a list, a text field), and no text
        // is wider than its box without eliding.
        function test_phoneSizedPage(data) {
            const props = Object.assign({ width: 400, height: 800 }, data.props);
            const shell = createTemporaryObject(shellComponent, stage, props);
            tryVerify(() => shell.page === data.page && shell.settled, 20000,
                      "page " + data.page + " settled (on " + shell.page + ")");
            waitForRendering(shell);
            const image = grabImage(shell);
            compare(image.width, 400);
            compare(image.height, 800);
            verifyNotBlank(image, data.page);

            const problems = [];
            const describe = item => (item.objectName || item.text || String(item)).toString()
                .slice(0, 60);
            // A control's own decorations (background, indicators) are the style's business:
            // some are drawn clipped on purpose (Fusion's spin box arrows).
            const decorations = item => [item.background, item.indicator,
                                         item.up ? item.up.indicator : undefined,
                                         item.down ? item.down.indicator : undefined]
                                        .filter(d => !!d);
            const walk = (item, clips) => {
                const skip = decorations(item);
                for (let i = 0; i < item.children.length; ++i) {
                    const c = item.children[i];
                    if (!c.visible || c.opacity === 0 || skip.indexOf(c) >= 0)
                        continue;
                    if (c.width > 0 && c.height > 0) {
                        const left = c.mapToItem(shell, 0, 0).x;
                        const right = left + c.width;
                        for (const clip of clips) {
                            if (left < clip.left - 0.5 || right > clip.right + 0.5) {
                                problems.push(describe(c) + " spans " + left.toFixed(0) + ".."
                                              + right.toFixed(0) + " outside " + clip.name + " "
                                              + clip.left.toFixed(0) + ".." + clip.right.toFixed(0));
                                break;
                            }
                        }
                        if (typeof c.text === "string" && c.elide === Text.ElideNone
                                && c.text.length > 0 && c.contentWidth > c.width + 1) {
                            problems.push(describe(c) + ": text " + c.contentWidth.toFixed(0)
                                          + " px wide in " + c.width.toFixed(0) + " px");
                        }
                    }
                    let inner = clips;
                    if (c.clip && c.width > 0) {
                        const left = c.mapToItem(shell, 0, 0).x;
                        inner = clips.concat([{ name: describe(c), left: left, right: left + c.width }]);
                    }
                    walk(c, inner);
                }
            };
            walk(shell, [{ name: "the window", left: 0, right: shell.width }]);
            verify(problems.length === 0, data.page + ": " + problems.join("; "));
        }

        function verifyNotBlank(image, page) {
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
            verify(distinct >= 8, page + ": " + distinct + " colours");
            verify(notWhite / samples > 0.05, page + ": " + notWhite + " of " + samples + " not white");
        }
    }
}
