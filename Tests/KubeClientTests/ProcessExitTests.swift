import Foundation
import GantryTestSupport
import Testing

/// A process linking KubeClient's libcurl may exit while another thread is still inside OpenSSL: the curl loop
/// closing TLS connections as `kubectl gantry logs -f` returned crashed it with SIGSEGV in CRYPTO_THREAD_read_lock
/// (once in CI), because OpenSSL's atexit handler had freed its locks under the thread.
@Suite struct ProcessExitTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// The probe exits while a thread digests with OpenSSL in a loop. Without the shim keeping OpenSSL's state until
    /// the end, about one exit in three crashed; twenty clean exits in a row rule that out.
    @Test func exitingWhileAThreadIsInsideOpenSSLEndsCleanly() async throws {
        let probe = try Prerequisite.builtExecutable("OpenSSLExitProbe", repoRoot: Self.repoRoot)
        for attempt in 1...20 {
            let run = await runProcess(probe, [])
            try #require(run.status == 0, "attempt \(attempt) ended with status \(run.status): \(run.stderr)")
        }
    }
}
