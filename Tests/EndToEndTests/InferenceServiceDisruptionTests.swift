import Foundation
import Testing
import GantryAPI
import GantryTestSupport
import KubeCore

/// The PodDisruptionBudget on the active colour through the real path (issue #10): the Eviction API that
/// `kubectl drain` uses refuses to take a second serving pod while the first one's replacement is not Ready, the
/// alias keeps a ready endpoint throughout, and the budget follows the alias on a swap.
@Suite(.serialized) struct InferenceServiceDisruptionTests {
    typealias IS = InferenceServiceTests
    /// Three GPU nodes: a drained node's pod has somewhere to go.
    static let nodes = "3x{gpu: 2}"
    static let refused = "Cannot evict pod as it would violate the pod's disruption budget."

    static func evict(_ h: OperatorHarness, _ pod: String) async -> CommandResult {
        await h.cluster.kubectl(args: ["create", "--raw", "/api/v1/namespaces/default/pods/\(pod)/eviction", "-f", "-"],
                                stdin: #"{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"\#(pod)","namespace":"default"}}"#)
    }

    static func budget(_ h: OperatorHarness, _ name: String) async throws -> JSONValue {
        try await h.get(.podDisruptionBudgets, "default", name) ?? .null
    }

    /// The disruption controller has counted `healthy` ready pods of the budget's current spec.
    static func counted(_ h: OperatorHarness, _ name: String, healthy: Int, allowed: Int) async throws -> Bool {
        let budget = try await budget(h, name)
        let status = budget["status"] ?? .null
        return status["observedGeneration"]?.intValue == budget.generation
            && status["currentHealthy"]?.intValue == Int64(healthy) && status["disruptionsAllowed"]?.intValue == Int64(allowed)
    }

    /// The alias's ready addresses every 20 ms until cancelled: how many samples, and how many had none.
    static func sampleAlias(_ h: OperatorHarness, _ name: String) -> Task<(samples: Int, empty: Int), Never> {
        Task {
            var samples = 0, empty = 0
            while !Task.isCancelled {
                if let ready = try? await IS.readyAddresses(h, name) {
                    samples += 1
                    if ready == 0 { empty += 1 }
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return (samples, empty)
        }
    }

    static func servingPods(_ h: OperatorHarness, _ name: String) async throws -> [JSONValue] {
        try await IS.pods(h, name).filter { $0.deletionTimestamp == nil }.sorted { ($0.name ?? "") < ($1.name ?? "") }
    }

    static func ready(_ pod: JSONValue) -> Bool {
        pod[path: "status", "conditions"]?.arrayValue?.contains { $0["type"] == "Ready" && $0["status"] == "True" } ?? false
    }

    @Test func theSecondEvictionWaitsForTheFirstReplacementAndTheBudgetFollowsTheSwap() async throws {
        try await withOperator(nodes: Self.nodes) { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: IS.manifest("steady", image: "acme/llm-serving:1", rollout: "{scaleDownDelaySeconds: 0}"))
            #expect(try await eventually(timeout: .seconds(60)) { try await IS.ready(h, "steady") })
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.counted(h, "steady", healthy: 2, allowed: 1) })
            let budget = try await Self.budget(h, "steady")
            // maxUnavailable is unset (Gantry sends null to clear an older version's; the embedded cluster keeps the
            // null where kube-apiserver would drop it on decode).
            #expect(budget[path: "spec", "minAvailable"] == 1 && (budget[path: "spec", "maxUnavailable"] ?? .null) == .null, "\(budget["spec"] ?? .null)")
            #expect(try await eventually(timeout: .seconds(10)) { try await IS.readyAddresses(h, "steady") == 2 })

            let sampler = Self.sampleAlias(h, "steady")
            let pods = try await Self.servingPods(h, "steady")
            let (first, second) = (try #require(pods.first), try #require(pods.last))
            #expect(pods.count == 2)
            var r = await Self.evict(h, first.name ?? "")
            #expect(r.ok, "the first eviction is within the budget: \(r.stderr)")
            // At once, the second is refused: the first spent the one disruption, and its replacement is not Ready.
            r = await Self.evict(h, second.name ?? "")
            #expect(!r.ok && r.stderr.contains(Self.refused), "\(r.stderr)")
            #expect(try await h.get(.pods, "default", second.name ?? "")?.deletionTimestamp == nil, "the refused pod stays")
            let replacement = try await h.get(.pods, "default", first.name ?? "")
            #expect(replacement.map { $0.uid == first.uid ? $0.deletionTimestamp != nil : !Self.ready($0) } ?? true,
                    "the first pod is going or its replacement is not Ready yet")

            // Gantry replaces the evicted pod; once it is Ready the budget allows the next eviction.
            #expect(try await eventually(timeout: .seconds(60)) {
                let now = try await Self.servingPods(h, "steady")
                return now.count == 2 && now.allSatisfy(Self.ready) && !now.contains { $0.uid == first.uid }
            })
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.counted(h, "steady", healthy: 2, allowed: 1) })
            r = await Self.evict(h, second.name ?? "")
            #expect(r.ok, "\(r.stderr)")
            #expect(try await eventually(timeout: .seconds(60)) {
                let now = try await Self.servingPods(h, "steady")
                return now.count == 2 && now.allSatisfy(Self.ready) && !now.contains { $0.uid == second.uid }
            })
            sampler.cancel()
            let sampled = await sampler.value
            #expect(sampled.samples > 20 && sampled.empty == 0, "alias without a ready endpoint in \(sampled.empty) of \(sampled.samples) samples")

            // After a swap the budget guards the new colour, and still only one of its pods may go.
            _ = try await h.kubectl("apply", "-f", "-", stdin: IS.manifest("steady", image: "acme/llm-serving:2", rollout: "{scaleDownDelaySeconds: 0}"))
            #expect(try await eventually(timeout: .seconds(60)) {
                let s = try await IS.status(h, "steady")
                return s["activeColor"] == "green" && IS.condition(s, "Ready")?["status"] == "True" && s["previousRevision"] == nil
            })
            #expect(try await Self.budget(h, "steady")[path: "spec", "selector", "matchLabels", GantryLabels.color] == "green")
            #expect(try await eventually(timeout: .seconds(30)) {
                let expected = try await Self.budget(h, "steady")[path: "status", "expectedPods"]
                return try await Self.counted(h, "steady", healthy: 2, allowed: 1) && expected == 2
            })
            let green = try await Self.servingPods(h, "steady")
            #expect(green.count == 2 && green.allSatisfy { $0.labels[GantryLabels.color] == "green" })
            r = await Self.evict(h, green[0].name ?? "")
            #expect(r.ok, "\(r.stderr)")
            r = await Self.evict(h, green[1].name ?? "")
            #expect(!r.ok && r.stderr.contains(Self.refused), "\(r.stderr)")
        }
    }

    /// What an admin does: `kubectl drain` of every node serving the service, at once. kubectl cordons them,
    /// evicts through the Eviction API (retrying a refusal every 5 s), and waits for each pod to go; the service
    /// keeps a ready endpoint behind its alias and ends up on the node that was not drained.
    @Test func kubectlDrainOfTheServingNodesKeepsTheAliasServing() async throws {
        try await withOperator(nodes: Self.nodes) { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: IS.manifest("drained", image: "acme/llm-serving:1", rollout: "{scaleDownDelaySeconds: 0}"))
            #expect(try await eventually(timeout: .seconds(60)) { try await IS.ready(h, "drained") })
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.counted(h, "drained", healthy: 2, allowed: 1) })
            #expect(try await eventually(timeout: .seconds(10)) { try await IS.readyAddresses(h, "drained") == 2 })
            let serving = Set(try await Self.servingPods(h, "drained").compactMap { $0[path: "spec", "nodeName"]?.stringValue }).sorted()
            #expect(!serving.isEmpty && serving.count <= 2)

            let sampler = Self.sampleAlias(h, "drained")
            let drain = await h.cluster.kubectl(args: ["drain"] + serving + ["--ignore-daemonsets", "--delete-emptydir-data", "--timeout=120s"])
            sampler.cancel()
            let sampled = await sampler.value
            #expect(drain.ok, "\(drain.stdout)\n\(drain.stderr)")
            #expect(drain.stdout.contains("drained"), "\(drain.stdout)")
            #expect(sampled.samples > 20 && sampled.empty == 0, "alias without a ready endpoint in \(sampled.empty) of \(sampled.samples) samples")
            for node in serving {
                #expect(try await h.get(.nodes, nil, node)?[path: "spec", "unschedulable"] == true, "\(node) is cordoned")
            }
            #expect(try await eventually(timeout: .seconds(60)) {
                let pods = try await Self.servingPods(h, "drained")
                return pods.count == 2 && pods.allSatisfy { Self.ready($0) && !serving.contains($0[path: "spec", "nodeName"]?.stringValue ?? "") }
            })
            // The Ready condition follows the pods' readiness at the controller's next status write, not at once.
            #expect(try await eventually(timeout: .seconds(30)) { try await IS.ready(h, "drained") })
        }
    }

    /// A spot node reclaimed under a serving pod (the kubelet fails it, the Node goes, PodGC deletes the pod): Gantry
    /// makes the replica again on another node, the replicas spread over nodes, and the alias keeps the other one.
    @Test func aServingPodLostWithItsSpotNodeIsReplacedOnAnotherNode() async throws {
        try await withOperator(nodes: "3x{gpu: 2, spot: true}") { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: IS.manifest("spot", image: "acme/llm-serving:1", rollout: "{scaleDownDelaySeconds: 0}"))
            #expect(try await eventually(timeout: .seconds(60)) { try await IS.ready(h, "spot") })
            let before = try await Self.servingPods(h, "spot")
            let nodes = before.compactMap { $0[path: "spec", "nodeName"]?.stringValue }
            #expect(before.count == 2 && Set(nodes).count == 2, "one replica per node: \(nodes)")
            let lost = try #require(before.first)
            let node = try #require(lost[path: "spec", "nodeName"]?.stringValue)
            // The endpoints controller has caught up with both replicas' readiness.
            #expect(try await eventually(timeout: .seconds(10)) { try await IS.readyAddresses(h, "spot") == 2 })

            let sampling = Self.sampleAlias(h, "spot")
            _ = try await h.kubectl("annotate", "node", node, "sim.gantry.dev/disrupt=preempt")
            #expect(try await eventually(timeout: .seconds(60)) {
                let pods = try await Self.servingPods(h, "spot")
                let on = pods.compactMap { $0[path: "spec", "nodeName"]?.stringValue }
                return pods.count == 2 && pods.allSatisfy(Self.ready) && !pods.contains { $0.uid == lost.uid } && !on.contains(node) && Set(on).count == 2
            }, "the lost replica runs again on a third node")
            #expect(try await eventually(timeout: .seconds(30)) { try await IS.ready(h, "spot") })
            sampling.cancel()
            let alias = await sampling.value
            #expect(alias.samples > 0 && alias.empty == 0, "the other replica kept the alias serving: \(alias)")
            #expect(try await IS.selectedColor(h, "spot") == "blue")
        }
    }
}
