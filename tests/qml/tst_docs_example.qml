// The example app of docs/qml.md, taken from the page itself, signs in and shows the avatar.
import QtQuick
import QtQuick.Controls
import QtTest
import Latchkey

Item {
    id: stage
    width: 420
    height: 300

    TestCase {
        name: "DocsExample"
        when: windowShown

        function readDocs() {
            const request = new XMLHttpRequest();
            request.open("GET", Qt.resolvedUrl("../../docs/qml.md"), false); // QML_XHR_ALLOW_FILE_READ
            request.send();
            return request.responseText;
        }

        function test_exampleSignsIn() {
            const docs = readDocs();
            const match = /```qml\n(import QtQuick\n[\s\S]*?ApplicationWindow[\s\S]*?)```/.exec(docs);
            verify(match, "docs/qml.md has the example app");
            const code = match[1].replace('"http://127.0.0.1:8080"',
                                          '"' + testServer.baseUrl.toString().replace(/\/$/, "") + '"');
            const window = Qt.createQmlObject(code, stage, "docs/qml.md");
            verify(window);
            let fields = [], button = null, image = null, label = null;
            const walk = item => {
                for (let i = 0; i < item.children.length; ++i) {
                    const c = item.children[i];
                    // Controls are matched by their API and not looked into.
                    if ("echoMode" in c) fields.push(c); // TextField
                    else if ("autoRepeat" in c) button = c; // Button
                    else if ("fillMode" in c) image = c; // Image
                    else if ("textFormat" in c) label = c; // Label
                    else walk(c);
                }
            };
            walk(window.contentItem);
            compare(fields.length, 2);
            verify(button && image && label);
            fields[0].text = "guest@latchkey.test";
            fields[1].text = "Guest-2026!";
            tryVerify(() => button.enabled, 20000); // the restore has finished
            button.clicked();
            tryCompare(label, "text", "Hello Grace", 20000);
            tryCompare(image, "status", Image.Ready, 20000);
            window.destroy();
        }
    }
}
