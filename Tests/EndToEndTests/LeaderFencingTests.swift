import EmbeddedCluster
import Foundation
import GantryTestSupport
import KubeClient
import KubeCore
import Testing

/// Two `gantry controller` processes with leader election (issue #14). The leader is paused with SIGSTOP, so it
/// cannot renew; the standby takes the Lease once it expired; the paused one, woken with SIGCONT while its work
/// queue and watch buffers still hold work, must send no write and step down (fencing). Each process
/// authenticates as a user of its own, so the API server's request log says who wrote what.
@Suite(.serialized) struct LeaderFencingTests {
    init() throws {
        _ = try Prerequisite.gantryBinary(repoRoot: OperatorHarness.repoRoot)
        try Prerequisite.kubectl()
    }

    /// Short but realistic ratios (client-go's 15/10/2 s scaled down), so the test takes seconds.
    static let lease = (duration: 4.0, renewDeadline: 3.0, retry: 0.5)

    /// A kubeconfig for the cluster whose bearer token authenticates as `user`.
    static func kubeconfig(_ cluster: TestCluster, user: String) throws -> String {
        let token = "\(user)-token-\(UUID().uuidString.prefix(8))"
        cluster.cluster.addToken(token, user: user)
        let yaml = cluster.cluster.kubeconfigYAML().split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.trimmingCharacters(in: .whitespaces).hasPrefix("token: ") ? "    token: \(token)" : String(line)
        }.joined(separator: "\n")
        let path = cluster.dir + "/kubeconfig-\(user)"
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func start(_ cluster: TestCluster, _ identity: String) throws -> ControllerProcess {
        try ControllerProcess(kubeconfig: kubeconfig(cluster, user: identity), logPath: cluster.dir + "/\(identity).log",
                              ["--identity", identity, "--lease-namespace", "default", "--log-format", "json",
                               "--leader-elect-lease-duration", "\(lease.duration)", "--leader-elect-renew-deadline", "\(lease.renewDeadline)",
                               "--leader-elect-retry-period", "\(lease.retry)"])
    }

    @Test func aLeaderPausedPastItsLeaseWritesNothingWhenItWakesAndStepsDown() async throws {
        try await withCluster(TestCluster(DevClusterOptions(nodes: "1x{gpu: 8}", tls: true))) { cluster async throws in
            try await installCRDs(cluster, ["trainingjobs", "platformconfigs"])
            let admin = try KubeClient(config: KubeConfig.load(path: cluster.kubeconfig, environment: [:]))
            @Sendable func holder() async -> String? {
                (try? await admin.get(Lease.self, namespace: "default", name: "gantry-controller"))?.spec.holderIdentity
            }
            @Sendable func pods(_ job: String) async throws -> Int {
                try await admin.list(.pods, namespace: "default").items.filter { $0.controllerReference?.name == job }.count
            }
            @Sendable func requests(_ user: String) -> [RequestRecord] { cluster.cluster.requests().filter { $0.user == user } }
            @Sendable func leaseWrites(_ user: String) -> [RequestRecord] {
                requests(user).filter { $0.method == "PUT" && $0.path.contains("/leases/") && $0.code == 200 }
            }

            // GPU-hours accounted every second: the leader writes the PlatformConfig's status each second, so a
            // replica that wakes up as a former leader has a write due at once (what the fence must refuse).
            let config = await cluster.kubectl(args: ["apply", "-f", "-"], stdin: """
                apiVersion: gantry.dev/v1alpha1
                kind: PlatformConfig
                metadata: {name: default}
                spec:
                  budgets: {accountingPeriodSeconds: 1, namespaces: [{namespace: default, gpuHoursPerMonth: 100}]}
                """)
            #expect(config.ok, "\(config.stderr)")
            let a = try Self.start(cluster, "fence-a")
            defer { a.killIfRunning() }
            #expect(try await eventually(timeout: .seconds(30)) { await holder() == "fence-a" })
            let b = try Self.start(cluster, "fence-b")
            defer { b.killIfRunning() }
            _ = await cluster.kubectl(args: ["apply", "-f", "-"], stdin: KillPointTests.job("before", namespace: "default", replicas: 1, seconds: 600))
            #expect(try await eventually(timeout: .seconds(30)) { try await pods("before") == 1 }, "the leader reconciles")
            #expect(try await eventually(timeout: .seconds(30)) {
                requests("fence-a").contains { $0.method != "GET" && $0.path.contains("/platformconfigs/default") }
            }, "the leader accounts GPU-hours")
            #expect(try await eventually(timeout: .seconds(30)) { requests("fence-b").filter { $0.path.contains("/leases/") }.count >= 2 },
                    "the standby watches the Lease")
            #expect(requests("fence-b").allSatisfy { $0.method == "GET" }, "a standby writes nothing")

            // The leader freezes: its renewals stop. The standby takes over once the lease expired by its own clock.
            a.signal(SIGSTOP)
            #expect(try await eventually(timeout: .seconds(30)) { await holder() == "fence-b" }, "the standby takes over")
            let lastRenewal = try #require(leaseWrites("fence-a").last?.received)
            let takeover = try #require(leaseWrites("fence-b").first?.received)
            // The standby sees the last renewal within one retry period, waits the lease duration from then and
            // tries again within one more retry period; three seconds cover the requests themselves and a test
            // machine loaded by the suites beside this one (the property is a protocol bound, not a speed target).
            let bound = Duration.seconds(Self.lease.duration + 2 * Self.lease.retry + 3)
            print("LeaderFencingTests: took over \(takeover - lastRenewal) after the last renewal (bound \(bound))")
            #expect(takeover - lastRenewal <= bound, "failover within lease + retry: \(takeover - lastRenewal)")

            // Work for the new leader, which the frozen one also has waiting in its watch streams once it wakes.
            _ = await cluster.kubectl(args: ["apply", "-f", "-"], stdin: KillPointTests.job("during", namespace: "default", replicas: 1, seconds: 600))
            #expect(try await eventually(timeout: .seconds(30)) { try await pods("during") == 1 }, "the new leader reconciles")
            // On waking, the frozen replica's renew loop (a lease GET away from stepping down) and its due writes
            // race; holding its next lease read for a few seconds makes the writes come first every time, so the
            // fence, not the step-down, is what stops them (the standby's lease requests are answered at once).
            cluster.cluster.delayNextRequests(1, by: .seconds(5), target: FaultTarget(method: "GET", path: "/leases/", user: "fence-a"))
            let woken = ContinuousClock.now
            a.signal(SIGCONT)
            #expect(try await eventually(timeout: .seconds(30)) { a.output.contains("lost leadership") }, "the woken replica steps down")
            _ = await cluster.kubectl(args: ["apply", "-f", "-"], stdin: KillPointTests.job("after", namespace: "default", replicas: 1, seconds: 600))
            #expect(try await eventually(timeout: .seconds(30)) { try await pods("after") == 1 }, "the new leader goes on")

            #expect(try await eventually(timeout: .seconds(30)) { a.output.contains("fenced") }, "the woken replica had writes due")
            let late = requests("fence-a").filter { $0.received >= woken && $0.method != "GET" }
            #expect(late.isEmpty, "the fenced replica wrote after waking: \(late.map { "\($0.method) \($0.path) \($0.code)" })")
            #expect(await holder() == "fence-b")
            let (during, after) = (try await pods("during"), try await pods("after"))
            #expect(during == 1 && after == 1, "no pod created twice")

            // A term is not resumed: the replica that lost its lease exits non-zero (to be restarted as a
            // standby by its Deployment), as controller-runtime's manager does; the leader stops cleanly.
            #expect(await a.waitForExit(timeout: 60) == 1, "the replica that lost leadership exits")
            #expect(a.output.contains("leader election lost"))
            b.signal(SIGTERM)
            #expect(await b.waitForExit(timeout: 60) == 0)
        }
    }
}
