import Foundation
import KubeClient
import KubeCore

/// Starts `fakeAPIServerSource` with python3 on a free port of 127.0.0.1 and stops it when done.
final class FakeAPIServer: @unchecked Sendable {
    // @unchecked: `process` is only terminated once, from `stop()`.
    let port: Int
    let token: String
    private let process: Process
    /// Closing it (when this object goes) makes the server exit; SIGTERM may be blocked in test runners.
    private let stdin: Pipe

    /// With `tls` (certificate, key, client CA files) the server speaks HTTPS and requires a client certificate.
    static func start(token: String = "test-token", tls: (cert: String, key: String, clientCA: String)? = nil) async throws -> FakeAPIServer {
        try await offPool { try startBlocking(token: token, tls: tls) }
    }

    private static func startBlocking(token: String, tls: (cert: String, key: String, clientCA: String)?) throws -> FakeAPIServer {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kubeclient-fake-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let script = dir.appendingPathComponent("fake_apiserver.py")
        try fakeAPIServerSource.write(to: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, token] + (tls.map { [$0.cert, $0.key, $0.clientCA] } ?? [])
        let out = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardInput = input
        try process.run()
        var line: [UInt8] = []
        while true {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            guard let b = byte.first else { break }
            if b == UInt8(ascii: "\n") { break }
            line.append(b)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            process.terminate()
            throw TestFailure("fake API server did not start")
        }
        return FakeAPIServer(port: port, token: token, process: process, stdin: input)
    }

    private init(port: Int, token: String, process: Process, stdin: Pipe) {
        self.port = port
        self.token = token
        self.process = process
        self.stdin = stdin
    }

    deinit {
        try? stdin.fileHandleForWriting.close()
        kill(process.processIdentifier, SIGKILL)
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func client(token: String? = nil, options: ClientOptions = .init()) throws -> KubeClient {
        try KubeClient(config: KubeConfig(server: url, token: token ?? self.token), options: options)
    }

    /// The server's counters (open streams, request count, recent Authorization headers).
    func stats() async throws -> JSONValue {
        let c = try client()
        return try JSONValue.parse(try await c.raw(method: "GET", path: "/debug/stats").body)
    }

    /// Makes the next `count` API requests answer `code` (with `Retry-After` when given).
    func injectFault(code: Int, count: Int, retryAfter: Int? = nil) async throws {
        let c = try client()
        _ = try await c.raw(method: "GET", path: "/debug/fault/\(code)/\(count)",
                            query: retryAfter.map { [("retryAfter", String($0))] } ?? [])
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Runs blocking work (process start-up, pipe reads) on a thread of its own, so that it never occupies a
/// thread of the Swift concurrency pool that the servers and clients under test need.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}
