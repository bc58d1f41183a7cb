import Foundation
import GantryTestSupport
import KubeCore
import Testing
@testable import EmbeddedCluster

/// PodDisruptionBudgets (issue #12): the simulated disruption controller keeps their status, and the Eviction API
/// refuses an eviction that would leave fewer healthy pods than the budget asks for, as kube-apiserver does
/// (429, the budget named), through real kubectl: the installed one, 1.27 and 1.33.
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

    /// The Eviction API through `kubectl` (a release path; `drain` does the same POST).
    static func evict(_ t: TestCluster, _ pod: String, with kubectl: String = TestCluster.kubectlPath) async -> CommandResult {
        await t.kubectl(release: kubectl, args: ["create", "--raw", "/api/v1/namespaces/default/pods/\(pod)/eviction", "-f", "-"],
                        stdin: #"{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"\#(pod)","namespace":"default"}}"#)
    }

    static func budget(_ t: TestCluster) async throws -> JSONValue {
        try JSONValue.parse(await t.kubectl("get", "pdb", "web", "-o", "json").stdout)
    }

    @Test func anEvictionThatWouldBreakTheBudgetIsRefusedAndOneItAllowsSpendsIt() async throws {
        let releases = try Prerequisite.kubectl127And133()
        let (k127, k133) = (releases[0], releases[1])
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
            for kubectl in [TestCluster.kubectlPath] + releases {
                r = await Self.evict(t, first, with: kubectl)
                #expect(!r.ok && r.stderr.contains("Error from server (TooManyRequests): Cannot evict pod as it would violate the pod's disruption budget."),
                        "\(kubectl): \(r.stderr)")
            }
            r = await t.kubectl("get", "pod", first)
            #expect(r.ok, "the pod stays: \(r.stderr)")

            // Two of three suffice: one disruption is allowed, and spent by the first eviction at once.
            r = await t.kubectl("patch", "pdb", "web", "--type=merge", "-p", #"{"spec":{"minAvailable":2}}"#)
            #expect(r.ok, "\(r.stderr)")
            #expect(try await eventually(timeout: .seconds(30)) {
                let s = try await Self.budget(t)["status"]
                return s?["disruptionsAllowed"] == 1 && s?["observedGeneration"] == 2
            })
            r = await Self.evict(t, first, with: k133)
            #expect(r.ok, "\(r.stderr)")
            let second = try #require(pods.dropFirst().first?.name)
            for kubectl in [TestCluster.kubectlPath, k127] {
                r = await Self.evict(t, second, with: kubectl)
                #expect(!r.ok && r.stderr.contains("Cannot evict pod as it would violate the pod's disruption budget."),
                        "the disruption was spent by the first eviction: \(kubectl): \(r.stderr)")
            }
            status = try await Self.budget(t)["status"] ?? .null
            #expect(status[path: "disruptedPods", first] != nil || status["currentHealthy"] == 2, "\(status)")

            // The Deployment replaces the evicted pod; once it is Ready the budget allows one disruption again.
            #expect(try await eventually(timeout: .seconds(30)) {
                let s = try await Self.budget(t)["status"]
                return s?["currentHealthy"] == 3 && s?["disruptionsAllowed"] == 1
            })
            r = await Self.evict(t, second, with: k127)
            #expect(r.ok, "\(r.stderr)")
            #expect(try await eventually(timeout: .seconds(30)) { await t.curl("GET", "/api/v1/namespaces/default/pods/\(second)").0 == 404 },
                    "the evicted pod is deleted")
        }
    }

    /// `kubectl drain` (1.27 and 1.33) cordons the node and evicts its pods through the Eviction API: while the
    /// budget allows no disruption it retries until its timeout and fails naming the budget; once the budget allows
    /// one at a time, the drain completes (the Deployment's replacement must be Ready before the next eviction).
    @Test func drainWaitsForTheBudgetWithKubectl127And133() async throws {
        let releases = try Prerequisite.kubectl127And133()
        try await withCluster(TestCluster(DevClusterOptions(nodes: "2x{cpu: 4}"))) { t async throws in
            var r = await t.kubectl(args: ["apply", "-f", "-"], stdin: Self.workload.replacingOccurrences(of: "replicas: 3", with: "replicas: 2")
                .replacingOccurrences(of: "minAvailable: 3", with: "minAvailable: 2"))
            #expect(r.ok, "\(r.stderr)")
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.budget(t)[path: "status", "currentHealthy"] == 2 })
            func nodeOfAWebPod() async throws -> String {
                let pods = try JSONValue.parse(await t.kubectl("get", "pods", "-l", "app=web", "-o", "json").stdout)["items"]?.arrayValue ?? []
                let nodes = pods.compactMap { $0[path: "spec", "nodeName"]?.stringValue }
                return try #require(nodes.first, "\(pods)")
            }
            for kubectl in releases {
                let node = try await nodeOfAWebPod()
                // A refused drain retries every 5 s until its --timeout, its only way to stop; the message is
                // printed at the first refusal, which comes at once.
                r = await t.kubectl(release: kubectl, "drain", node, "--ignore-daemonsets", "--timeout=5s")
                #expect(!r.ok && r.stderr.contains("Cannot evict pod as it would violate the pod's disruption budget."), "\(kubectl): \(r.stdout) \(r.stderr)")
                #expect(try await t.json("/api/v1/nodes/\(node)")[path: "spec", "unschedulable"] == true, "\(kubectl) cordoned \(node)")
                r = await t.kubectl(release: kubectl, "uncordon", node)
                #expect(r.ok, "\(kubectl): \(r.stderr)")
            }
            #expect(try await Self.budget(t)[path: "status", "currentHealthy"] == 2, "nothing was evicted")

            r = await t.kubectl("patch", "pdb", "web", "--type=merge", "-p", #"{"spec":{"minAvailable":1}}"#)
            #expect(r.ok, "\(r.stderr)")
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.budget(t)[path: "status", "disruptionsAllowed"] == 1 })
            for kubectl in releases {
                let node = try await nodeOfAWebPod()
                r = await t.kubectl(release: kubectl, "drain", node, "--ignore-daemonsets", "--timeout=90s")
                #expect(r.ok && r.stdout.contains("node/\(node) drained"), "\(kubectl): \(r.stdout) \(r.stderr)")
                let pods = try JSONValue.parse(await t.kubectl("get", "pods", "-l", "app=web", "-o", "json").stdout)["items"]?.arrayValue ?? []
                #expect(!pods.contains { $0[path: "spec", "nodeName"]?.stringValue == node }, "\(kubectl): \(node) is empty: \(pods)")
                r = await t.kubectl(release: kubectl, "uncordon", node)
                #expect(r.ok, "\(kubectl): \(r.stderr)")
                #expect(try await eventually(timeout: .seconds(30)) {
                    let s = try await Self.budget(t)["status"]
                    let pods = try JSONValue.parse(await t.kubectl("get", "pods", "-l", "app=web", "-o", "json").stdout)["items"]?.arrayValue
                    return s?["currentHealthy"] == 2 && s?["disruptionsAllowed"] == 1 && pods?.count == 2
                }, "\(kubectl): both replicas back, the evicted ones gone")
            }
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
