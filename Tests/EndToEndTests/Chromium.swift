import Foundation
import GantryTestSupport

/// Debian's headless `chromium` (Makefile TEST_PACKAGES), loading a page as a user's browser does: the DOM it
/// built, or a screenshot. Each run gets a profile folder of its own.
enum Chromium {
    static let path = ProcessInfo.processInfo.environment["CHROMIUM"] ?? "/usr/bin/chromium"

    static func require() throws {
        try Prerequisite.executable(path, "chromium (Debian's package; `make test-deps` installs it)")
    }

    static func arguments(profile: String) -> [String] {
        ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)"]
    }

    /// The DOM after the page loaded (`--dump-dom`).
    static func dom(_ url: String, profile: String) async -> CommandResult {
        await runProcess(path, arguments(profile: profile) + ["--dump-dom", url])
    }

    /// A PNG of the page in a 1280×900 window.
    static func screenshot(_ url: String, to file: String, profile: String) async -> CommandResult {
        await runProcess(path, arguments(profile: profile) + ["--screenshot=\(file)", "--window-size=1280,900", "--hide-scrollbars", url])
    }
}
