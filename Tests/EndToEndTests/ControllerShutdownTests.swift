import EmbeddedCluster
import Foundation
import GantryTestSupport
import Testing

/// `gantry controller` where its caches cannot sync (CRDs missing, server unreachable): SIGTERM still ends it
/// at once with status 0, it backs off its LIST retries, says what is missing and how to fix it, and a clean
/// shutdown logs no error (issue #8, item 11).
@Suite(.serialized)
struct ControllerShutdownTests {
    init() throws { _ = try Prerequisite.gantryBinary(repoRoot: OperatorHarness.repoRoot) }

    /// The operator's LISTs of TrainingJobs (not its watches), in arrival order.
    static func trainingJobLists(_ cluster: DevCluster) -> [RequestRecord] {
        cluster.requests().filter {
            $0.method == "GET" && $0.path == "/apis/gantry.dev/v1alpha1/trainingjobs" && !$0.query.contains("watch=")
                && ($0.userAgent ?? "").hasPrefix("gantry/")
        }
    }

    @Test func withoutCRDsItBacksOffNamesTheFixAndStillStopsOnSIGTERM() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(tls: true))) { cluster async throws in
            let controller = try ControllerProcess(kubeconfig: cluster.kubeconfig, logPath: cluster.dir + "/controller.log",
                                                   ["--identity", "no-crds", "--lease-namespace", "default"])
            defer { controller.killIfRunning() }

            // It leads, then cannot list its kinds: the log says which CRD is missing and the command that installs it.
            // Each kind's informer reports its own CRD, in whatever order their LISTs fail: wait for TrainingJob's.
            #expect(try await eventually(timeout: .seconds(30)) {
                controller.output.split(separator: "\n").contains { $0.contains("kubectl apply -k crds/") && $0.contains("trainingjobs.gantry.dev") }
            }, "\(controller.output.suffix(3000))")
            let output = controller.output
            #expect(output.contains("trainingjobs.gantry.dev") && output.contains("not installed"), "\(output.suffix(3000))")
            #expect(output.contains(" warning "), "at the default log level, as a warning")

            // The LIST retries space out (jittered exponential backoff from ~0.8 s): five lists take at least
            // 0.8 · (0.8 + 1.6 + 3.2 + 6.4) ≈ 9.6 s, where a fixed 0.8 s delay took under 4 s.
            let dev = cluster.cluster
            #expect(try await eventually(timeout: .seconds(60)) { Self.trainingJobLists(dev).count >= 5 })
            let lists = Self.trainingJobLists(dev).prefix(5).map(\.received)
            let gaps = zip(lists.dropFirst(), lists).map { $0 - $1 }
            #expect(gaps.count == 4 && lists[4] - lists[0] >= .seconds(8), "gaps between LISTs: \(gaps)")
            #expect(gaps.count == 4 && gaps[3] > gaps[0] * 2, "each retry waits longer: \(gaps)")
            // A warning per streak and minute, not one per retry.
            let warnings = controller.output.split(separator: "\n").filter { $0.contains("trainingjobs.gantry.dev") && $0.contains(" warning ") }
            #expect(warnings.count <= 2, "\(warnings.joined(separator: "\n"))")

            controller.signal(SIGTERM)
            let status = await controller.waitForExit(timeout: 60)
            #expect(status == 0, "SIGTERM ends a process whose caches never synced (exit status \(String(describing: status)))")
            #expect(controller.errorLines.isEmpty, "\(controller.errorLines.joined(separator: "\n"))")
        }
    }

    @Test func anUnreachableServerDoesNotHoldTheProcessAfterSIGTERM() async throws {
        let cluster = try await TestCluster.bare(DevClusterOptions(tls: true))
        let kubeconfig = cluster.dir + "/kubeconfig"
        let dir = cluster.dir
        await cluster.cluster.stop()  // the kubeconfig now names a port nobody listens on
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let controller = try ControllerProcess(kubeconfig: kubeconfig, logPath: dir + "/controller.log", ["--no-leader-elect"])
        defer { controller.killIfRunning() }
        // Stopping before any cache synced: wait until it has tried (and failed) to list.
        #expect(try await eventually(timeout: .seconds(30)) { controller.output.contains("list failed") },
                "\(controller.output.suffix(3000))")
        controller.signal(SIGTERM)
        let status = await controller.waitForExit(timeout: 60)
        #expect(status == 0, "exit status \(String(describing: status)); log: \(controller.output.suffix(2000))")
        #expect(controller.errorLines.isEmpty, "\(controller.errorLines.joined(separator: "\n"))")
    }
}
