// `import Latchkey` from an install prefix, by a program that does not link the module
// (qmltestrunner -import <prefix>/lib/qml): the plugin, qmldir and type info are installed.
import QtQuick
import QtTest
import Latchkey

TestCase {
    name: "InstalledModule"

    Session {
        id: session
        profile: "latchkey"
        baseUrl: "http://127.0.0.1:9"
        store: Session.Memory
    }

    function test_sessionComesFromTheInstalledPlugin() {
        verify(session.ready);
        verify(session.supportsPasswordSignIn);
        compare(session.state, AuthClient.SignedOut);
        compare(session.lastError.kind, AuthError.NoError);
    }
}
