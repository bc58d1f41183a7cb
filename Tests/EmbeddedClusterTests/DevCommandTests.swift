import GantryTestSupport
import Foundation
import KubeCore
import Testing

/// The command-line contract of `gantry dev` (docs/embedded-cluster.md, "Command line"), checked on the built
/// binary: HTTPS by default, `--insecure-http` for plain HTTP, the startup lines scripts wait for.
@Suite(.serialized)
struct DevCommandTests {
    init() throws {
        try Prerequisite.executable(GantryDev.binary, "the gantry binary (run `swift build --build-tests` first)")
        try Prerequisite.kubectl()
    }

    @Test func servesHTTPSByDefault() async throws {
        let dev = try await GantryDev.start([])
        defer { dev.stop() }
        #expect(dev.url.hasPrefix("https://127.0.0.1:"), "\(dev.output)")
        #expect(dev.output.contains("security: HTTPS"), "\(dev.output)")
        let config = try String(contentsOfFile: dev.kubeconfig, encoding: .utf8)
        #expect(config.contains("certificate-authority-data: ") && config.contains("token: "))
        let r = await runProcess(TestCluster.kubectlPath, ["--kubeconfig", dev.kubeconfig, "get", "namespaces"],
                                 environment: ["HOME": dev.dir, "PATH": "/usr/bin:/bin"])
        #expect(r.ok && r.stdout.contains("kube-system"), "\(r.stderr)")
        let anonymous = await runProcess("/usr/bin/curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", dev.url + "/api/v1/namespaces"])
        #expect(anonymous.stdout == "401")
    }

    @Test func clientCertificateCredentials() async throws {
        let dev = try await GantryDev.start(["--credentials", "client-certificate"])
        defer { dev.stop() }
        #expect(dev.output.contains("the kubeconfig carries the CA and a client certificate"), "\(dev.output)")
        let config = try String(contentsOfFile: dev.kubeconfig, encoding: .utf8)
        #expect(config.contains("client-certificate-data: ") && config.contains("client-key-data: ") && !config.contains("token: "))
        let r = await runProcess(TestCluster.kubectlPath, ["--kubeconfig", dev.kubeconfig, "get", "namespaces"],
                                 environment: ["HOME": dev.dir, "PATH": "/usr/bin:/bin"])
        #expect(r.ok && r.stdout.contains("kube-system"), "\(r.stderr)")
        // Without HTTPS there is no certificate to hand out: refused with the fix named.
        let refused = await runProcess(GantryDev.binary, ["dev", "--no-tls", "--credentials", "client-certificate"])
        #expect(!refused.ok && refused.stderr.contains("--credentials client-certificate needs HTTPS"), "\(refused.stderr)")
    }

    /// `--authorization-mode RBAC`: a ServiceAccount's token may do only what its bindings allow; the admin of the
    /// kubeconfig everything. A mode the server does not know is refused.
    @Test func authorizationModeFlag() async throws {
        let dev = try await GantryDev.start(["--authorization-mode", "RBAC"])
        defer { dev.stop() }
        var r = await dev.kubectl("create", "serviceaccount", "robot")
        #expect(r.ok, "\(r.stderr)")
        r = await dev.kubectl("create", "token", "robot")
        let token = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(r.ok && !token.isEmpty, "\(r.stderr)")
        r = await dev.kubectl("--token", token, "get", "nodes")
        #expect(r.stderr.contains(#"nodes is forbidden: User "system:serviceaccount:default:robot" cannot list resource "nodes" in API group "" at the cluster scope"#),
                "\(r.stderr)")
        r = await dev.kubectl("get", "nodes")
        #expect(r.ok, "\(r.stderr)")
        let refused = await runProcess(GantryDev.binary, ["dev", "--authorization-mode", "Node"])
        #expect(!refused.ok && refused.stderr.contains("--authorization-mode must be AlwaysAllow or RBAC, not Node"), "\(refused.stderr)")
    }

    /// HTTP/2 by default (ALPN), HTTP/1.1 only with --no-http2.
    @Test func http2OptOut() async throws {
        for (args, expected) in [([String](), "2"), (["--no-http2"], "1.1")] {
            let dev = try await GantryDev.start(args)
            defer { dev.stop() }
            let r = await runProcess("/usr/bin/curl", ["-sk", "--http2", "-o", "/dev/null", "-w", "%{http_version}", dev.url + "/version"])
            #expect(r.stdout == expected, "\(args): \(r.stdout) \(r.stderr)")
        }
    }

    /// `--port N` serves on that port; `--data-dir DIR` keeps objects across a stop and a start (on the same
    /// port again); `--faults error=1:503` answers every request with 503 and `latency=` delays answers.
    @Test func portDataDirAndFaultsFlags() async throws {
        let port = try freeLoopbackPort()
        let data = NSTemporaryDirectory() + "gantry-dev-data-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let first = try await GantryDev.start(["--port", String(port), "--data-dir", data])
        #expect(first.url == "https://127.0.0.1:\(port)", "\(first.output)")
        var r = await first.kubectl("create", "configmap", "kept", "--from-literal=a=b")
        #expect(r.ok, "\(r.stderr)")
        first.stop()  // SIGTERM: data is flushed
        let second = try await GantryDev.start(["--port", String(port), "--data-dir", data])
        defer { second.stop() }
        #expect(second.url == "https://127.0.0.1:\(port)", "\(second.output)")
        r = await second.kubectl("get", "configmap", "kept", "-o", "jsonpath={.data.a}")
        #expect(r.ok && r.stdout == "b", "\(r.stdout) \(r.stderr)")

        let faulty = try await GantryDev.start(["--faults", "error=1:503"])
        defer { faulty.stop() }
        let token = try faulty.token
        let refused = await runProcess("/usr/bin/curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \(token)",
                                                         faulty.url + "/api/v1/namespaces"])
        #expect(refused.stdout == "503", "\(refused.stdout) \(refused.stderr)")
        let slow = try await GantryDev.start(["--faults", "latency=1500ms"])
        defer { slow.stop() }
        let timed = await runProcess("/usr/bin/curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "-H", "Authorization: Bearer \(try slow.token)",
                                                       slow.url + "/api/v1/namespaces"])
        let fields = timed.stdout.split(separator: " ")
        #expect(fields.first == "200", "\(timed.stdout) \(timed.stderr)")
        #expect((fields.last.flatMap { Double($0) } ?? 0) >= 1.5, "answered before the injected latency: \(timed.stdout)")
    }

    /// `--event-ttl 5s`: an Event is deleted about five seconds after it was last observed (kube-apiserver's flag, one
    /// hour by default); a value that is not a duration is refused naming the flag.
    @Test func eventTTLFlag() async throws {
        let dev = try await GantryDev.start(["--event-ttl", "5s"])
        defer { dev.stop() }
        var r = await dev.kubectl("apply", "-f", "-", stdin: """
            apiVersion: events.k8s.io/v1
            kind: Event
            metadata: {name: short-lived, namespace: default}
            eventTime: "2026-01-01T00:00:00.000000Z"
            reportingController: example.com/test
            reportingInstance: test
            action: Test
            reason: Tested
            type: Normal
            regarding: {kind: Namespace, name: default}
            """)
        #expect(r.ok, "\(r.stderr)")
        r = await dev.kubectl("get", "events.events.k8s.io", "short-lived", "-o", "name")
        #expect(r.ok, "kept while younger than the TTL: \(r.stderr)")
        #expect(try await eventually(timeout: .seconds(30)) {
            await dev.kubectl("get", "events.events.k8s.io", "short-lived", "-o", "name").stderr.contains("NotFound")
        })
        let refused = await runProcess(GantryDev.binary, ["dev", "--event-ttl", "soon"])
        #expect(!refused.ok && refused.stderr.contains("--event-ttl"), "\(refused.stderr)")
    }

    /// `--data-dir`: a change the data directory cannot take is logged (the file and the error named) and answered
    /// 500, never acknowledged: with curl and with the installed kubectl, 1.27 and 1.33. The journal's place is taken
    /// by a directory, so open(2) fails with EISDIR (a chmod would not stop root, whom the tests run as).
    @Test func dataDirWriteFailuresAreLoggedAndAnswered500() async throws {
        let data = NSTemporaryDirectory() + "gantry-dev-data-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let dev = try await GantryDev.start(["--data-dir", data])
        defer { dev.stop() }
        var r = await dev.kubectl("create", "configmap", "before", "--from-literal=a=b")
        #expect(r.ok, "\(r.stderr)")
        let journal = data + "/cluster.journal"
        try FileManager.default.removeItem(atPath: journal)
        try FileManager.default.createDirectory(atPath: journal, withIntermediateDirectories: false)
        #expect(!dev.log.contains("a change was refused"), "nothing refused yet: \(dev.log)")

        let token = try dev.token
        let posted = await runProcess("/usr/bin/curl", ["-sk", "-w", "\n%{http_code}", "-H", "Authorization: Bearer \(token)",
                                                        "-H", "Content-Type: application/json", "--data-binary", #"{"metadata":{"name":"lost"}}"#,
                                                        dev.url + "/api/v1/namespaces/default/configmaps"])
        let status = try JSONValue.parse(String(posted.stdout[..<(posted.stdout.lastIndex(of: "\n") ?? posted.stdout.endIndex)]))
        #expect(posted.stdout.hasSuffix("\n500") && status["reason"] == "InternalError" && status["code"] == 500, "\(posted.stdout)")
        #expect(status["message"]?.stringValue?.contains("cannot open the data file \(journal): Is a directory") == true, "\(posted.stdout)")
        let logged = try await eventually { dev.log.contains("a change was refused: it could not be stored") }
        let line = dev.log.split(separator: "\n").first { $0.contains("a change was refused") }.map(String.init) ?? ""
        #expect(logged && line.contains(" error ") && line.contains("file=\(journal)") && line.contains("Is a directory")
                && line.contains("key=default/lost"), "the log names the file and the error: \(dev.log)")

        for (i, kubectl) in try ([TestCluster.kubectlPath] + Prerequisite.kubectl127And133()).enumerated() {
            r = await runProcess(kubectl, ["--kubeconfig", dev.kubeconfig, "--cache-dir", dev.dir + "/cache-\(i)",
                                           "create", "configmap", "lost-\(i)", "--from-literal=a=b"],
                                 environment: ["HOME": dev.dir, "PATH": "/usr/bin:/bin"])
            // (`create configmap` words a server error its own way: "error: failed to create configmap: <message>".)
            #expect(!r.ok && r.stderr.contains("Internal error occurred: cannot open the data file \(journal): Is a directory; the change was not made"),
                    "\(kubectl): \(r.stderr)")
        }
        r = await dev.kubectl("get", "configmaps", "-o", "name")
        #expect(r.ok && r.stdout.contains("configmap/before\n") && !r.stdout.contains("lost"), "nothing refused was made: \(r.stdout) \(r.stderr)")
        #expect(dev.log.components(separatedBy: "a change was refused").count - 1 == 4, "one line per refused change: \(dev.log)")

        // Once the journal can be written again, changes are acknowledged again (that they survive a restart:
        // ServerLimitsTests.unstorableChangesAreRefused).
        try FileManager.default.removeItem(atPath: journal)
        r = await dev.kubectl("create", "configmap", "after", "--from-literal=a=b")
        #expect(r.ok, "\(r.stderr)")
    }

    /// `GANTRY_SIM_SPEED=20` makes a script's `after: 60s` pass in about 3 s, and the pod's timestamps advance
    /// as fast (its container ran 60 s by its own clock).
    @Test func simulationSpeedFromTheEnvironment() async throws {
        let dev = try await GantryDev.start(["--nodes", "1x{cpu: 8}"], environment: ["GANTRY_SIM_SPEED": "20"])
        defer { dev.stop() }
        let started = ContinuousClock.now
        var r = await dev.kubectl("apply", "-f", "-", stdin: """
            apiVersion: v1
            kind: Pod
            metadata: {name: quick, annotations: {sim.gantry.dev/script: "{exit: {code: 0, after: 60s}}"}}
            spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}
            """)
        #expect(r.ok, "\(r.stderr)")
        // Bounded by the unsped 60 s: finishing well before it shows the speed-up.
        r = await dev.kubectl("wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/quick", "--timeout=40s")
        #expect(r.ok, "\(r.stderr)")
        #expect(ContinuousClock.now - started < .seconds(40))
        r = await dev.kubectl("get", "pod", "quick", "-o", "jsonpath={.status.containerStatuses[0].state.terminated.startedAt} {.status.containerStatuses[0].state.terminated.finishedAt}")
        let times = r.stdout.split(separator: " ").compactMap { Timestamp.parse(String($0)) }
        #expect(times.count == 2 && times[1].timeIntervalSince(times[0]) >= 59, "\(r.stdout)")
    }

    @Test func insecureHTTPOptOut() async throws {
        for flag in ["--insecure-http", "--no-tls"] {
            let dev = try await GantryDev.start([flag])
            defer { dev.stop() }
            #expect(dev.url.hasPrefix("http://127.0.0.1:"), "\(dev.output)")
            #expect(dev.output.contains("security: plain HTTP"), "\(dev.output)")
            let config = try String(contentsOfFile: dev.kubeconfig, encoding: .utf8)
            #expect(!config.contains("certificate-authority-data"))
            let r = await runProcess("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", dev.url + "/api/v1/namespaces"])
            #expect(r.stdout == "200")
        }
    }
}

/// A `gantry dev` process, started with a kubeconfig in a temporary folder and stopped with SIGTERM.
final class GantryDev: @unchecked Sendable {
    let process: Process
    let dir: String
    let kubeconfig: String
    let url: String
    let output: String

    /// The gantry binary of this checkout (built by `swift build --build-tests`; see `Prerequisite.gantryPath`).
    static let binary = Prerequisite.gantryPath(repoRoot: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path)

    private init(process: Process, dir: String, kubeconfig: String, url: String, output: String) {
        self.process = process
        self.dir = dir
        self.kubeconfig = kubeconfig
        self.url = url
        self.output = output
    }

    /// Starts the server and waits (up to 60 s) for the `export KUBECONFIG=` line that ends the startup hint.
    /// `launcher`: a command that runs the server (e.g. `prlimit --nofile=256 --`), whose process then execs it.
    static func start(_ args: [String], environment: [String: String] = [:], launcher: [String] = []) async throws -> GantryDev {
        let dir = NSTemporaryDirectory() + "gantry-dev-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let kubeconfig = dir + "/kubeconfig"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: launcher.first ?? binary)
        // A bare API server unless the test names its nodes.
        process.arguments = Array(launcher.dropFirst()) + (launcher.isEmpty ? [] : [binary])
            + ["dev", "--kubeconfig", kubeconfig] + (args.contains("--nodes") ? [] : ["--nodes", "off"]) + args
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new } }
        let out = Pipe()
        process.standardOutput = out
        // The server's log (swift-log writes to standard error), kept in a file for `log`: a pipe nobody reads
        // would fill and block the server.
        let logFile = dir + "/server.log"
        guard FileManager.default.createFile(atPath: logFile, contents: nil), let log = FileHandle(forWritingAtPath: logFile) else {
            throw TestFailure("cannot create \(logFile)")
        }
        process.standardError = log
        try process.run()
        let lines: String = await withCheckedContinuation { c in
            DispatchQueue.global().async {
                var text = ""
                let deadline = Date().addingTimeInterval(60)
                while Date() < deadline, !text.contains("export KUBECONFIG=") {
                    let chunk = out.fileHandleForReading.availableData  // blocks until output or EOF
                    if chunk.isEmpty { break }
                    text += String(decoding: chunk, as: UTF8.self)
                }
                c.resume(returning: text)
            }
        }
        let first = lines.split(separator: "\n").first { $0.hasPrefix("gantry dev: serving the Kubernetes API at ") }
        guard let first, lines.contains("export KUBECONFIG=\(kubeconfig)") else {
            process.terminate()
            throw TestFailure("gantry dev did not print its startup lines: \(lines)")
        }
        let url = String(first.dropFirst("gantry dev: serving the Kubernetes API at ".count))
        return GantryDev(process: process, dir: dir, kubeconfig: kubeconfig, url: url, output: lines)
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// SIGKILL: no shutdown path runs (no final flush), as in a crash.
    func kill() {
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// What the server has logged so far (its standard error).
    var log: String { (try? String(contentsOfFile: dir + "/server.log", encoding: .utf8)) ?? "" }

    /// The server's port (from its URL).
    var port: Int { URL(string: url)?.port ?? 0 }

    /// A field of /proc/PID/status (`Threads`, `VmHWM` in kB, …) of the running server.
    func status(_ field: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8) else { return nil }
        let line = text.split(separator: "\n").first { $0.hasPrefix(field + ":") }
        return line?.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) }
    }

    /// How many descriptors the server has open.
    var openDescriptors: Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.processIdentifier)/fd").count) ?? 0 }

    /// The server's descriptors holding connections it accepted from `clientPorts` (IPv4 loopback): its sockets whose
    /// TCP peer is one of those ports, by inode (/proc/PID/net/tcp, /proc/PID/fd). Unlike a count of all descriptors,
    /// no other connection opening or closing meanwhile moves it.
    func acceptedConnections(from clientPorts: Set<Int>) -> Int {
        let pid = process.processIdentifier
        // Read to the end: String(contentsOfFile:) stops after the first page of a /proc file (its size reads 0).
        let bytes = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/\(pid)/net/tcp")).readToEnd()) ?? nil
        let table = String(decoding: bytes ?? Data(), as: UTF8.self)
        var inodes = Set<Substring>()
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count > 9, let local = fields[1].split(separator: ":").last.flatMap({ Int($0, radix: 16) }),
                  let remote = fields[2].split(separator: ":").last.flatMap({ Int($0, radix: 16) }),
                  local == port, clientPorts.contains(remote) else { continue }
            inodes.insert(fields[9])
        }
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
        return fds.filter { fd in
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"),
                  target.hasPrefix("socket:["), target.hasSuffix("]") else { return false }
            return inodes.contains(target.dropFirst(8).dropLast())
        }.count
    }

    /// kubectl with this server's kubeconfig.
    func kubectl(_ args: String..., stdin: String? = nil) async -> CommandResult {
        await runProcess(TestCluster.kubectlPath, ["--kubeconfig", kubeconfig] + args, stdin: stdin,
                         environment: ["HOME": dir, "PATH": "/usr/bin:/bin"])
    }

    /// The bearer token of the kubeconfig written at start.
    var token: String {
        get throws {
            let text = try String(contentsOfFile: kubeconfig, encoding: .utf8)
            guard let line = text.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("token: ") }) else {
                throw TestFailure("no token in \(kubeconfig)")
            }
            return String(line.trimmingCharacters(in: .whitespaces).dropFirst("token: ".count))
        }
    }
}
