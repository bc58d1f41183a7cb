import Foundation

/// What a test needs from the machine. A missing prerequisite fails the test naming it: never a silent skip
/// (a skipped check reads as a passed one in a summary). See docs/testing.md.
public enum Prerequisite {
    /// `path` when it is an executable file, else a failure naming `what` and where it was looked for.
    @discardableResult
    public static func executable(_ path: String, _ what: String) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestFailure("missing prerequisite: \(what) is not installed (no executable at \(path))")
        }
        return path
    }

    /// The kubectl the suites drive (`/usr/bin/kubectl`, or `$KUBECTL`).
    @discardableResult
    public static func kubectl() throws -> String {
        try executable(TestCluster.kubectlPath, "kubectl (set $KUBECTL to use another one)")
    }

    /// Where the older kubectl releases live beside the default one (`kubectl.1.27`, …).
    public static let kubectlVersionsFolder = "/usr/lib/google-cloud-sdk/bin"

    /// The paths of `kubectl.<version>` for each version; one failure naming every missing release.
    public static func kubectlReleases(_ versions: [String]) throws -> [String] {
        let paths = versions.map { "\(kubectlVersionsFolder)/kubectl.\($0)" }
        let missing = zip(versions, paths).filter { !FileManager.default.isExecutableFile(atPath: $0.1) }
        guard missing.isEmpty else {
            throw TestFailure("missing prerequisite: kubectl " + missing.map(\.0).joined(separator: ", ")
                              + " (no executable at " + missing.map(\.1).joined(separator: ", ") + ")")
        }
        return paths
    }

    /// The `gantry` binary of this checkout, built by `swift build --build-tests`.
    public static func gantryBinary(repoRoot: String) throws -> String {
        try executable(gantryPath(repoRoot: repoRoot), "the gantry binary (run `swift build --build-tests` first)")
    }

    /// Where that binary is: `$GANTRY_BINARY` if set, else beside the running test binary (so a build with
    /// `--scratch-path DIR` tests DIR's gantry, not another build's), else `.build/debug/gantry`.
    public static func gantryPath(repoRoot: String) -> String {
        if let path = ProcessInfo.processInfo.environment["GANTRY_BINARY"], !path.isEmpty { return path }
        return builtPath("gantry", repoRoot: repoRoot)
    }

    /// An executable target of this package built beside the running test binary (else in `.build/debug`).
    public static func builtExecutable(_ name: String, repoRoot: String) throws -> String {
        try executable(builtPath(name, repoRoot: repoRoot), "the \(name) executable (run `swift build --build-tests` first)")
    }

    private static func builtPath(_ name: String, repoRoot: String) -> String {
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let sibling = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
        }
        return repoRoot + "/.build/debug/" + name
    }
}

/// A fixture that owns servers or processes and must be stopped before the next test starts.
public protocol StoppableFixture: Sendable {
    func stop() async
}

extension TestCluster: StoppableFixture {}

/// Runs `body` with `fixture`, then stops the fixture and waits until it has stopped, whether `body` returned
/// or threw. The replacement for `defer { Task { await fixture.stop() } }`, which left the previous test's
/// servers running while the next test started.
public func withCluster<F: StoppableFixture>(_ fixture: F, _ body: (F) async throws -> Void) async throws {
    do {
        try await body(fixture)
    } catch {
        await fixture.stop()
        throw error
    }
    await fixture.stop()
}

extension Prerequisite {
    /// A Python module importable by `python3` (e.g. the official Kubernetes client), else a failure naming
    /// how to install it.
    public static func pythonModule(_ module: String, install: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import \(module)"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { throw TestFailure("missing prerequisite: python3 (\(error))") }
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw TestFailure("missing prerequisite: the Python module \(module) (`\(install)`; `make test-deps` installs it)")
        }
    }
}
