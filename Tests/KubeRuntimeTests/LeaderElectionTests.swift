import Foundation
import Synchronization
import Testing
import EmbeddedCluster
import GantryTestSupport
import KubeClient
import KubeCore
@testable import KubeRuntime

/// Leader election over a real Lease on the embedded API server, through libcurl.
@Suite(.serialized) struct LeaderElectionTests {
    static func options(_ identity: String) -> LeaderElector.Options {
        var o = LeaderElector.Options(namespace: "default", name: "gantry-test", identity: identity)
        o.leaseDuration = .seconds(3)
        o.renewDeadline = .seconds(2)
        o.retryPeriod = .milliseconds(200)
        return o
    }

    static func holder(_ client: KubeClient) async -> String? {
        (try? await client.get(.leases, namespace: "default", name: "gantry-test"))?[path: "spec", "holderIdentity"]?.stringValue
    }

    @Test func handOverOnCleanShutdownAndOnlyOneLeads() async throws {
        try await withCluster(TestCluster(DevClusterOptions(nodes: "off"))) { cluster async throws in
            let client = try KubeClient(config: KubeConfig.load(path: cluster.kubeconfig))
            let tracker = LeadTracker()
            let a = Task { await LeaderElector(client: client, options: Self.options("a")).run { await tracker.lead("a") } }
            #expect(try await eventually(timeout: .seconds(10)) { tracker.leaders == ["a"] })
            let clientB = try KubeClient(config: KubeConfig.load(path: cluster.kubeconfig), options: ClientOptions(userAgent: "elector-b"))
            let b = Task { await LeaderElector(client: clientB, options: Self.options("b")).run { await tracker.lead("b") } }
            // b reads the Lease held by a several times (every retryPeriod) without taking it.
            #expect(try await eventually(timeout: .seconds(10)) {
                cluster.cluster.requests().filter { $0.userAgent == "elector-b" && $0.path.contains("/leases/") }.count >= 3
            })
            #expect(tracker.leaders == ["a"])
            #expect(await Self.holder(client) == "a")

            // a shuts down cleanly: it releases the lease, so b takes over at once rather than after leaseDuration.
            a.cancel()
            await a.value
            #expect(try await eventually(timeout: .seconds(2)) { tracker.leaders == ["b"] })
            #expect(await Self.holder(client) == "b")
            let lease = try await client.get(.leases, namespace: "default", name: "gantry-test")
            #expect(lease[path: "spec", "leaseTransitions"]?.intValue == 1)
            #expect(!tracker.overlapped)
            b.cancel()
            await b.value
        }
    }

    @Test func aLeaderThatCannotRenewStopsLeadingAtOnce() async throws {
        try await withCluster(TestCluster(DevClusterOptions(nodes: "off"))) { cluster async throws in
            let client = try KubeClient(config: KubeConfig.load(path: cluster.kubeconfig))
            let state = Mutex((started: false, stopped: false))
            let a = Task {
                await LeaderElector(client: client, options: Self.options("a")).run {
                    state.withLock { $0.started = true }
                    while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(20)) }
                    state.withLock { $0.stopped = true }
                }
            }
            #expect(try await eventually(timeout: .seconds(10)) { state.withLock { $0.started } })
            // Another replica takes the lease (as after a network partition): a's renewals now fail.
            var lease = try await client.get(.leases, namespace: "default", name: "gantry-test")
            lease[path: "spec", "holderIdentity"] = "intruder"
            lease[path: "spec", "renewTime"] = .string(Timestamp.formatMicro(Date()))
            _ = try await client.update(.leases, lease)
            #expect(try await eventually(timeout: .seconds(5)) { state.withLock { $0.stopped } })
            // The term is over: run returns false by itself (not re-contending), so the process can exit.
            #expect(await a.value == false, "a lost term is reported, not resumed")
        }
    }

    /// Fencing: `holdsLease` turns false `renewDeadline` after the last successful renew was sent, by the clock
    /// alone, while the renew loop is still busy failing; a client fenced by it then sends no write at all.
    @Test func theWriteFenceClosesAtTheRenewDeadlineWhateverTheRenewLoopIsDoing() async throws {
        try await withCluster(TestCluster(DevClusterOptions(nodes: "off"))) { cluster async throws in
            let clock = ManualClock()
            let client = try KubeClient(config: KubeConfig.load(path: cluster.kubeconfig))
            let elector = LeaderElector(client: client, options: Self.options("a"), clock: clock)
            var fencedOptions = ClientOptions(userAgent: "fenced-writer")
            fencedOptions.writeFence = { elector.holdsLease }
            let writer = try KubeClient(config: KubeConfig.load(path: cluster.kubeconfig), options: fencedOptions)
            #expect(!elector.holdsLease, "no lease before leading")
            let leading = Task { await elector.run { while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(20)) } } }
            #expect(try await eventually { elector.holdsLease })
            var map: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "data": ["k": "v"]]
            map.name = "while-leading"
            _ = try await writer.create(.configMaps, map, namespace: "default")

            // Every lease request fails from now on: renewals stop succeeding, as for a leader cut off or paused.
            cluster.cluster.failNextRequests(100_000, code: 503, target: FaultTarget(path: "/leases/"))
            clock.advance(by: .milliseconds(1_900))
            #expect(elector.holdsLease, "within the renew deadline (2 s) the lease still holds")
            clock.advance(by: .milliseconds(100))
            #expect(!elector.holdsLease, "at the renew deadline the fence closes, whatever the renew loop is doing")
            map.name = "after-the-deadline"
            await #expect(throws: KubeClientError.fenced(method: "POST", path: "/api/v1/namespaces/default/configmaps")) {
                _ = try await writer.create(.configMaps, map, namespace: "default")
            }
            #expect(try await writer.list(.configMaps, namespace: "default").items.count >= 1, "reads still go through")
            let writes = cluster.cluster.requests().filter { $0.userAgent == "fenced-writer" && $0.method == "POST" }
            #expect(writes.count == 1, "the fenced write never reached the server: \(writes.map(\.path))")
            leading.cancel()
            await leading.value
        }
    }
}

/// Who is leading right now, and whether two ever led at once.
final class LeadTracker: Sendable {
    private let state = Mutex((leaders: Set<String>(), overlapped: false))
    var leaders: Set<String> { state.withLock { $0.leaders } }
    var overlapped: Bool { state.withLock { $0.overlapped } }

    func lead(_ me: String) async {
        state.withLock { s in
            if !s.leaders.isEmpty { s.overlapped = true }
            s.leaders.insert(me)
        }
        while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(20)) }
        state.withLock { _ = $0.leaders.remove(me) }
    }
}
