import Foundation
import Testing
import GantryAPI
import GantryControllers
import EmbeddedCluster
import GantryTestSupport
import KubeClient
import KubeCore

/// perNode rollouts through the real path: GPUs short on a node, a daemon pod's own failure, Recreate, and many
/// rollouts in a row (issue #10).
extension InferenceServicePlacementTests {
    /// A perNode service on the edge nodes (an image without an inference marker is ready after 1 s); `extra`:
    /// more spec lines, indented.
    static func perNode(_ name: String, image: String, rollout: String, gpu: Bool = false, extra: String = "") -> String {
        """
        apiVersion: gantry.dev/v1alpha1
        kind: InferenceService
        metadata: {name: \(name), namespace: default}
        spec:
          image: \(image)
          placement: perNode
          nodeSelector: {edge: "true"}
          rollout: \(rollout)
        \(gpu ? "  gpu: {count: 1}\n" : "")\(extra)
        """
    }

    /// Every pod event of the service `name` from now on, in the server's order (one watch is ordered).
    static func podEvents(_ h: OperatorHarness, _ name: String) async throws -> Task<[WatchEvent], Never> {
        let start = try await h.client.list(.pods, namespace: "default").resourceVersion
        return Task {
            var seen: [WatchEvent] = []
            let stream = h.client.watch(.pods, namespace: "default",
                                        options: ListOptions(labelSelector: "\(GantryLabels.instance)=\(name)", resourceVersion: start, timeoutSeconds: 120))
            do { for try await event in stream { seen.append(event) } } catch {}
            return seen
        }
    }

    /// Two edge nodes and one that is not; images pull at once.
    static let quickNodes = "2x{cpu: 8, name: edge, labels: {edge: 'true'}}, 1x{cpu: 8, name: core}"

    static func revision(_ pod: JSONValue) -> String? { pod.labels[GantryLabels.revision] }

    @Test func aNodeFullWithTheServingColourSaysInsufficientGPUForSurgeAndRecreateStopsEveryOldPodBeforeANewOneStarts() async throws {
        // Two edge GPU nodes of one GPU each: blue's replica takes each node's GPU.
        try await withOperator(nodes: "2x{gpu: 1, name: edge, labels: {edge: 'true'}}, 1x{cpu: 8, name: core}") { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.perNode("g", image: "acme/detector:1", rollout: "{scaleDownDelaySeconds: 10}", gpu: true))
            #expect(try await eventually(timeout: .seconds(60)) { try await InferenceServiceTests.ready(h, "g") })
            let old = try #require(try await InferenceServiceTests.status(h, "g")[path: "activeRevision", "hash"]?.stringValue)
            let blue = Set(try await InferenceServiceTests.pods(h, "g").compactMap(\.name))
            #expect(blue.count == 2)

            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.perNode("g", image: "acme/detector:2", rollout: "{scaleDownDelaySeconds: 10}", gpu: true))
            #expect(try await eventually(timeout: .seconds(30)) {
                try await InferenceServiceTests.status(h, "g")[path: "candidate", "reason"] == "InsufficientGPUForSurge"
            })
            let status = try await InferenceServiceTests.status(h, "g")
            let message = status[path: "candidate", "message"]?.stringValue ?? ""
            #expect(message.contains("needs 1 nvidia.com/gpu free on every node it runs on"), "\(message)")
            #expect(message.contains("2 of its 2 nodes lack it: edge-0 has 0 free of 1 (blue holds 1), edge-1 has 0 free of 1 (blue holds 1)"), "\(message)")
            #expect(message.contains("spec.rollout.strategy: Recreate"), "\(message)")
            #expect(InferenceServiceTests.condition(status, "Stalled")?["reason"] == "InsufficientGPUForSurge")
            #expect(InferenceServiceTests.condition(status, "Progressing")?["reason"] == "InsufficientGPUForSurge")
            #expect(try await InferenceServiceTests.events(h, "g").contains("InsufficientGPUForSurge"))
            // Never at the serving colour's expense: blue's replicas run on, the alias stays; green's wait Pending.
            #expect(try await InferenceServiceTests.selectedColor(h, "g") == "blue")
            #expect(try await eventually {
                let pods = try await InferenceServiceTests.pods(h, "g")
                let green = pods.filter { $0.labels[GantryLabels.color] == "green" }
                return Set(pods.filter { $0.labels[GantryLabels.color] == "blue" && $0[path: "status", "phase"] == "Running" }.compactMap(\.name)) == blue
                    && green.count == 2 && green.allSatisfy { $0[path: "spec", "nodeName"] == nil }
            })

            // The way out: Recreate. Each old replica is gone (deleted, not only terminating) before a new one exists.
            let events = try await Self.podEvents(h, "g")
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.perNode("g", image: "acme/detector:2", rollout: "{strategy: Recreate}", gpu: true))
            #expect(try await eventually(timeout: .seconds(60)) {
                let s = try await InferenceServiceTests.status(h, "g")
                let ready = try await InferenceServiceTests.ready(h, "g")
                return s[path: "activeRevision", "image"] == "acme/detector:2" && s["readyReplicas"] == 2 && ready
            })
            let after = try await InferenceServiceTests.status(h, "g")
            let new = try #require(after[path: "activeRevision", "hash"]?.stringValue)
            #expect(after[path: "lastSwap", "reason"] == "Recreated" && after["activeColor"] == "blue")
            #expect(InferenceServiceTests.condition(after, "Stalled") == nil)
            #expect(try await Self.daemonSets(h, "g").map(\.name) == ["g-blue-\(new)"])
            events.cancel()
            let seen = await events.value
            // (The pending green candidate had the new revision's hash too: the new replicas are blue ones.)
            let lastOldDeleted = seen.lastIndex { if case .deleted(let pod) = $0 { return Self.revision(pod) == old }; return false }
            let firstNewAdded = seen.firstIndex { event in
                guard case .added(let pod) = event else { return false }
                return Self.revision(pod) == new && pod.labels[GantryLabels.color] == "blue"
            }
            #expect(lastOldDeleted != nil && firstNewAdded != nil, "\(seen.count) pod events")
            if let lastOldDeleted, let firstNewAdded { #expect(lastOldDeleted < firstNewAdded) }
            #expect(Set(seen.compactMap { event -> String? in
                if case .deleted(let pod) = event, Self.revision(pod) == old { return pod.name }
                return nil
            }) == blue)
        }
    }

    @Test func aCandidateWhoseDaemonPodsCannotPullNamesThePodTheNodeAndTheReason() async throws {
        try await withOperator(nodes: Self.quickNodes) { h in
            let rollout = "{progressDeadlineSeconds: 12, scaleDownDelaySeconds: 0}"
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.perNode("f", image: "acme/detector:1", rollout: rollout))
            #expect(try await eventually(timeout: .seconds(60)) { try await InferenceServiceTests.ready(h, "f") })
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.perNode("f", image: "acme/detector:missing", rollout: rollout))
            // Said while it still progresses (a daemon pod's change requeues the service), not only at the deadline.
            #expect(try await eventually(timeout: .seconds(10)) {
                let candidate = try await InferenceServiceTests.status(h, "f")["candidate"]
                return candidate?["phase"] == "Progressing" && candidate?["message"]?.stringValue?.contains("ErrImagePull") == true
            })
            #expect(try await eventually(timeout: .seconds(30)) {
                try await InferenceServiceTests.status(h, "f")[path: "candidate", "phase"] == "Failed"
            })
            let status = try await InferenceServiceTests.status(h, "f")
            let message = status[path: "candidate", "message"]?.stringValue ?? ""
            let green = "f-green-" + (status[path: "candidate", "revision", "hash"]?.stringValue ?? "?")
            #expect(message.hasPrefix("not ready within spec.rollout.progressDeadlineSeconds (12s): pod \(green)-"), "\(message)")
            #expect(message.contains(" on node edge-") && (message.contains(": ErrImagePull: ") || message.contains(": ImagePullBackOff: ")), "\(message)")
            #expect(status[path: "candidate", "reason"] == "ProgressDeadlineExceeded")
            let failures = try await h.client.list(.coreEvents, namespace: "default").items.filter {
                $0[path: "involvedObject", "name"] == "f" && $0["reason"] == "RolloutFailed"
            }
            #expect(failures.count == 1 && failures.first?["message"]?.stringValue == message, "\(failures)")
            #expect(try await InferenceServiceTests.selectedColor(h, "f") == "blue")
            // The failed candidate's DaemonSet and pods go; blue's stay.
            #expect(try await eventually(timeout: .seconds(30)) {
                let sets = try await Self.daemonSets(h, "f").compactMap(\.name)
                let pods = try await InferenceServiceTests.pods(h, "f")
                return sets.count == 1 && sets.allSatisfy { $0.hasPrefix("f-blue-") } && pods.count == 2
            })
        }
    }

    @Test func tenRolloutsInARowLeaveOneDaemonSetPerLiveColourAndNoOrphan() async throws {
        try await withOperator(nodes: Self.quickNodes) { h in
            let rollout = "{scaleDownDelaySeconds: 0}"
            for version in 1...10 {
                _ = try await h.kubectl("apply", "-f", "-", stdin: Self.perNode("many", image: "acme/detector:\(version)", rollout: rollout))
                if version == 4 || version == 7 { continue }  // superseded before it is ready: the next one replaces it
                #expect(try await eventually(timeout: .seconds(60)) {
                    let s = try await InferenceServiceTests.status(h, "many")
                    return s[path: "activeRevision", "image"]?.stringValue == "acme/detector:\(version)" && s["candidate"] == nil
                }, "rollout \(version)")
            }
            let status = try await InferenceServiceTests.status(h, "many")
            let color = try #require(status["activeColor"]?.stringValue)
            let hash = try #require(status[path: "activeRevision", "hash"]?.stringValue)
            let edge = try await Self.edgeNodes(h)
            // scaleDownDelaySeconds 0: the serving colour is the only live one, with its replica on each edge node.
            #expect(try await eventually(timeout: .seconds(30)) {
                let sets = try await Self.daemonSets(h, "many").compactMap(\.name)
                let pods = try await InferenceServiceTests.pods(h, "many")
                return sets == ["many-\(color)-\(hash)"] && pods.count == 2
                    && pods.allSatisfy { $0.labels[GantryLabels.revision] == hash && $0.deletionTimestamp == nil }
                    && Set(pods.compactMap { $0[path: "spec", "nodeName"]?.stringValue }) == edge
            })
            let services = try await h.client.list(.services, namespace: "default").items.compactMap(\.name).filter { $0.hasPrefix("many") }
            #expect(Set(services) == ["many", "many-preview"])
            #expect(try await h.client.list(.podDisruptionBudgets, namespace: "default").items.compactMap(\.name) == ["many"])
            try await expectNoOrphans(h.client, namespaces: ["default"])
        }
    }
}
