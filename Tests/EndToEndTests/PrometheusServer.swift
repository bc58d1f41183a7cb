import Foundation
import GantryTestSupport

/// Debian's `prometheus` server, started by a test: a config of its own scraping one target every second,
/// storage in a temporary folder, a free loopback port. (The Debian service the package installs, if it runs,
/// listens on 9090 with its own config and storage: nothing here touches it.)
final class PrometheusServer: Sendable {
    static let binary = "/usr/bin/prometheus"
    let process: Process
    let port: Int
    let dir: String

    /// Starts scraping `target` (host:port, path /metrics) and waits until the server is ready.
    static func start(scraping target: String, in parent: String) async throws -> PrometheusServer {
        try Prerequisite.executable(binary, "Prometheus (Debian package prometheus; `make test-deps` installs it)")
        let dir = parent + "/prometheus"
        try FileManager.default.createDirectory(atPath: dir + "/data", withIntermediateDirectories: true)
        let config = """
            global: {scrape_interval: 1s, evaluation_interval: 1s}
            scrape_configs:
              - job_name: gantry
                static_configs: [{targets: ['\(target)']}]
            """
        try config.write(toFile: dir + "/prometheus.yml", atomically: true, encoding: .utf8)
        let port = try freeLoopbackPort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--config.file=\(dir)/prometheus.yml", "--storage.tsdb.path=\(dir)/data",
                             "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn"]
        FileManager.default.createFile(atPath: dir + "/prometheus.log", contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/prometheus.log"))
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let server = PrometheusServer(process: process, port: port, dir: dir)
        let ready = try await eventually(timeout: .seconds(30)) {
            let r = await runProcess("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", "http://127.0.0.1:\(port)/-/ready"])
            return r.stdout == "200" || !process.isRunning
        }
        guard ready, process.isRunning else {
            await server.stop()
            throw TestFailure("prometheus did not become ready: \(server.log.suffix(2000))")
        }
        return server
    }

    private init(process: Process, port: Int, dir: String) {
        self.process = process
        self.port = port
        self.dir = dir
    }

    var log: String { (try? String(contentsOfFile: dir + "/prometheus.log", encoding: .utf8)) ?? "" }

    /// The samples of an instant query through the HTTP API (`/api/v1/query`): labels and value of each.
    func query(_ expr: String) async throws -> [(labels: [String: String], value: Double)] {
        let r = await runProcess("/usr/bin/curl", ["-s", "--max-time", "10", "--data-urlencode", "query=\(expr)",
                                                   "http://127.0.0.1:\(port)/api/v1/query"])
        guard r.ok, let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else {
            throw TestFailure("query \(expr) failed (\(r.status)): \(r.stderr)")
        }
        guard object["status"] as? String == "success", let data = object["data"] as? [String: Any] else {
            throw TestFailure("query \(expr): \(r.stdout)")
        }
        switch data["resultType"] as? String {
        case "vector":
            return (data["result"] as? [[String: Any]] ?? []).map { sample in
                let value = (sample["value"] as? [Any])?.last as? String
                return (sample["metric"] as? [String: String] ?? [:], value.flatMap(Double.init) ?? .nan)
            }
        case "scalar":
            let value = (data["result"] as? [Any])?.last as? String
            return [([:], value.flatMap(Double.init) ?? .nan)]
        default:
            throw TestFailure("query \(expr): a \(data["resultType"] ?? "?") result, not an instant vector or scalar")
        }
    }

    /// Stops the server and waits for it (SIGTERM; it flushes its head block), off the concurrency pool.
    func stop() async {
        guard process.isRunning else { return }
        process.terminate()
        let process = self.process
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                process.waitUntilExit()
                c.resume()
            }
        }
    }
}
