import EmbeddedCluster
import GantryAPI
import Foundation
import GantryTestSupport
import KubeClient
import KubeCore
import Testing

/// The `gantry controller` binary as users run it: against the embedded cluster over HTTPS with the kubeconfig
/// `gantry dev` writes, it takes the Lease, reconciles, and on SIGTERM stops, releases the Lease and exits 0.
@Suite(.serialized)
struct ControllerProcessTests {
    init() throws {
        _ = try Prerequisite.gantryBinary(repoRoot: OperatorHarness.repoRoot)
        try Prerequisite.kubectl()
    }

    @Test func sigtermReleasesTheLeaseAndExitsCleanly() async throws {
        try await withCluster(TestCluster(DevClusterOptions(nodes: "1x{gpu: 8}", tls: true))) { cluster async throws in
            let applied = await cluster.kubectl("apply", "-k", OperatorHarness.repoRoot + "/crds")
            #expect(applied.ok, "\(applied.stderr)")
            _ = await cluster.kubectl("wait", "--for=condition=Established", "--timeout=20s", "crd/trainingjobs.gantry.dev")
            let client = try KubeClient(config: KubeConfig.load(path: cluster.kubeconfig, environment: [:]))

            let process = Process()
            process.executableURL = URL(fileURLWithPath: GantryBinary.path)
            process.arguments = ["controller", "--kubeconfig", cluster.kubeconfig, "--health-port", "0", "--identity", "e2e-replica",
                                 "--lease-namespace", "default", "--log-format", "json"]
            let log = cluster.dir + "/controller.log"
            FileManager.default.createFile(atPath: log, contents: nil)
            let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            process.standardOutput = logHandle
            process.standardError = logHandle
            try process.run()
            defer { if process.isRunning { process.terminate() } }

            @Sendable func holder() async -> String? {
                (try? await client.get(Lease.self, namespace: "default", name: "gantry-controller"))?.spec.holderIdentity
            }
            #expect(try await eventually(timeout: .seconds(30)) { await holder() == "e2e-replica" })
            _ = await cluster.kubectl("apply", "-f", OperatorHarness.repoRoot + "/examples/trainingjob-single-gpu.yaml")
            let name = "mnist-baseline"
            #expect(try await eventually(timeout: .seconds(30)) {
                (try? await client.get(.trainingJobs, namespace: "default", name: name))?[path: "status", "phase"] != nil
            }, "the operator reconciles")
            #if canImport(Glibc)
            // At most four malloc arenas (HeapScavenger.limitArenas): glibc's default gave each of its ~12 threads one.
            let heaps = Self.mallocArenaHeaps(pid: process.processIdentifier)
            #expect(heaps <= 3, "\(heaps) heaps of malloc arenas besides the main one; expected ≤ 3 (four arenas)")
            #endif

            kill(process.processIdentifier, SIGTERM)
            let exited = await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
                Thread.detachNewThread {
                    let deadline = Date().addingTimeInterval(30)
                    while process.isRunning && Date() < deadline { usleep(20_000) }
                    c.resume(returning: !process.isRunning)
                }
            }
            #expect(exited, "gantry controller exits within 30 s of SIGTERM")
            #expect(process.terminationStatus == 0)
            #expect(await holder() == "", "the Lease is released, so a successor takes over at once")
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(output.contains("released leadership"), "\(output.suffix(2000))")
            // README's default of --workers: every controller of a process started without the flag runs 8.
            let started = output.split(separator: "\n").filter { $0.contains("caches synced; starting workers") }
            #expect(!started.isEmpty && started.allSatisfy { $0.contains(#""workers":"8""#) }, "\(started.joined(separator: "\n"))")
            // A clean shutdown is not an error (it logged Hummingbird's "Waiting on child channel: CancellationError()").
            let errors = output.split(separator: "\n").filter { $0.contains(#""level":"error""#) || $0.contains(#""level":"critical""#) }
            #expect(errors.isEmpty, "\(errors.joined(separator: "\n"))")
        }
    }

    /// The heaps of glibc's non-main malloc arenas in `pid`: anonymous read-write mappings aligned to their 64 MiB
    /// reservation (HEAP_MAX_SIZE); thread stacks start with their guard page, so they are not counted.
    static func mallocArenaHeaps(pid: Int32) -> Int {
        let maps = (try? String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)) ?? ""
        return maps.split(separator: "\n").filter { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 5, fields[1].hasPrefix("rw"),
                  let start = fields[0].split(separator: "-").first.flatMap({ UInt64($0, radix: 16) }) else { return false }
            return start % (64 << 20) == 0
        }.count
    }
}

/// The gantry binary of this checkout (built by `swift build --build-tests`; see `Prerequisite.gantryPath`).
enum GantryBinary {
    static let path = Prerequisite.gantryPath(repoRoot: OperatorHarness.repoRoot)
}
