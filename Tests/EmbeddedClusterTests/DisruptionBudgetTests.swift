import Foundation
import GantryTestSupport
import KubeCore
import Testing
@testable import EmbeddedCluster

/// PodDisruptionBudgets (issue #12): the simulated disruption controller keeps their status, and the Eviction API
/// refuses an eviction that would leave fewer healthy pods than the budget asks for, as kube-apiserver does
/// (429, the budget named), through real kubectl.
@Suite(.serialized)
struct DisruptionBudgetTests {
    init() throws { try Prerequisite.kubectl() }

    static let workload = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: default}
        spec:
          replicas: 3
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers: [{name: web, image: 'nginx:1.27'}]
        ---
        apiVersion: policy/v1
        kind: PodDisruptionBudget
        metadata: {name: web, namespace: default}
        spec:
          minAvailable: 3
          selector: {matchLabels: {app: web}}
        """

    static func evict(_ t: TestCluster, _ pod: String) async -> CommandResult {
        await t.kubectl(args: ["create", "--raw", "/api/v1/namespaces/default/pods/\(pod)/eviction", "-f", "-"],
                        stdin: #"{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"\#(pod)","namespace":"default"}}"#)
    }

    static func budget(_ t: TestCluster) async throws -> JSONValue {
        try JSONValue.parse(await t.kubectl("get", "pdb", "web", "-o", "json").stdout)
    }

    @Test func anEvictionThatWouldBreakTheBudgetIsRefusedAndOneItAllowsSpendsIt() async throws {
        try await withCluster(TestCluster()) { t async throws in
            var r = await t.kubectl(args: ["apply", "-f", "-"], stdin: Self.workload)
            #expect(r.ok, "\(r.stderr)")
            #expect(try await eventually(timeout: .seconds(30)) {
                let s = try await Self.budget(t)["status"]
                return s?["currentHealthy"] == 3 && s?["expectedPods"] == 3 && s?["observedGeneration"] == 1
            }, "the disruption controller counts three healthy pods")
            var status = try await Self.budget(t)["status"] ?? .null
            #expect(status["disruptionsAllowed"] == 0 && status["desiredHealthy"] == 3, "\(status)")
            #expect(status["conditions"]?.arrayValue?.first?["reason"] == "InsufficientPods", "\(status)")

            let pods = try JSONValue.parse(await t.kubectl("get", "pods", "-l", "app=web", "-o", "json").stdout)["items"]?.arrayValue ?? []
            let first = try #require(pods.first?.name)
            r = await Self.evict(t, first)
            #expect(!r.ok && r.stderr.contains("Cannot evict pod as it would violate the pod's disruption budget."), "\(r.stderr)")
            r = await t.kubectl("get", "pod", first)
            #expect(r.ok, "the pod stays: \(r.stderr)")

            // Two of three suffice: one disruption is allowed, and spent by the first eviction at once.
            r = await t.kubectl("patch", "pdb", "web", "--type=merge", "-p", #"{"spec":{"minAvailable":2}}"#)
            #expect(r.ok, "\(r.stderr)")
            #expect(try await eventually(timeout: .seconds(30)) {
                let s = try await Self.budget(t)["status"]
                return s?["disruptionsAllowed"] == 1 && s?["observedGeneration"] == 2
            })
            r = await Self.evict(t, first)
            #expect(r.ok, "\(r.stderr)")
            let second = try #require(pods.dropFirst().first?.name)
            r = await Self.evict(t, second)
            #expect(!r.ok && r.stderr.contains("Cannot evict pod as it would violate the pod's disruption budget."),
                    "the disruption was spent by the first eviction: \(r.stderr)")
            status = try await Self.budget(t)["status"] ?? .null
            #expect(status[path: "disruptedPods", first] != nil || status["currentHealthy"] == 2, "\(status)")

            // The Deployment replaces the evicted pod; once it is Ready the budget allows one disruption again.
            #expect(try await eventually(timeout: .seconds(30)) {
                let s = try await Self.budget(t)["status"]
                return s?["currentHealthy"] == 3 && s?["disruptionsAllowed"] == 1
            })
            r = await Self.evict(t, second)
            #expect(r.ok, "\(r.stderr)")
        }
    }

    @Test func budgetDesiredHealthyFollowsUpstreamRounding() {
        #expect(DisruptionBudgetSimulator.desiredHealthy(["minAvailable": 2], expected: 5) == 2)
        #expect(DisruptionBudgetSimulator.desiredHealthy(["minAvailable": "50%"], expected: 5) == 3, "rounded up")
        #expect(DisruptionBudgetSimulator.desiredHealthy(["maxUnavailable": 1], expected: 5) == 4)
        #expect(DisruptionBudgetSimulator.desiredHealthy(["maxUnavailable": "30%"], expected: 5) == 3, "2 of 5 may go (rounded up)")
        #expect(DisruptionBudgetSimulator.desiredHealthy(["maxUnavailable": 9], expected: 5) == 0)
    }
}
