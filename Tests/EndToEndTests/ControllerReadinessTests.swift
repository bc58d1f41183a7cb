import EmbeddedCluster
import Foundation
import GantryTestSupport
import KubeClient
import KubeCore
import Testing

/// Two `gantry controller` replicas with leader election, as deploy/ runs them: readiness means "caches
/// synced, or standing by as a non-leader" (controller-runtime's), so a 2-replica Deployment shows 2/2 Ready
/// (issue #8, item 12).
@Suite(.serialized)
struct ControllerReadinessTests {
    init() throws {
        _ = try Prerequisite.gantryBinary(repoRoot: OperatorHarness.repoRoot)
        try Prerequisite.kubectl()
    }

    @Test func theStandbyIsReadyAndTheLeaderOnlyOnceItsCachesSynced() async throws {
        // No CRDs yet: the leader cannot sync its caches until the test installs them.
        try await withCluster(TestCluster.bare(DevClusterOptions(tls: true))) { cluster async throws in
            let client = try KubeClient(config: KubeConfig.load(path: cluster.kubeconfig, environment: [:]))
            @Sendable func holder() async -> String? {
                (try? await client.get(Lease.self, namespace: "default", name: "gantry-controller"))?.spec.holderIdentity
            }
            func replica(_ name: String) throws -> ControllerProcess {
                try ControllerProcess(kubeconfig: cluster.kubeconfig, logPath: cluster.dir + "/\(name).log",
                                      ["--identity", name, "--lease-namespace", "default", "--log-format", "json"])
            }

            let leader = try replica("replica-a")
            defer { leader.killIfRunning() }
            #expect(try await eventually(timeout: .seconds(30)) { await holder() == "replica-a" })
            let standby = try replica("replica-b")
            defer { standby.killIfRunning() }

            #expect(try await eventually(timeout: .seconds(30)) { await standby.probe("/readyz") == 200 },
                    "a standby replica is ready: \(standby.output.suffix(2000))")
            #expect(await holder() == "replica-a", "the standby did not take the lease")
            #expect(await leader.probe("/healthz") == 200)
            #expect(await leader.probe("/readyz") == 503, "the leader is not ready while its caches cannot sync")

            let applied = await cluster.kubectl("apply", "-k", OperatorHarness.repoRoot + "/crds")
            #expect(applied.ok, "\(applied.stderr)")
            #expect(try await eventually(timeout: .seconds(60)) { await leader.probe("/readyz") == 200 },
                    "the leader is ready once its caches synced: \(leader.output.suffix(2000))")
            #expect(leader.output.contains("caches synced"))
            #expect(await standby.probe("/readyz") == 200)

            for replica in [leader, standby] { replica.signal(SIGTERM) }
            for replica in [leader, standby] {
                let status = await replica.waitForExit(timeout: 60)
                #expect(status == 0, "exit status \(String(describing: status)): \(replica.output.suffix(2000))")
                #expect(replica.errorLines.isEmpty, "\(replica.errorLines.joined(separator: "\n"))")
            }
        }
    }
}
