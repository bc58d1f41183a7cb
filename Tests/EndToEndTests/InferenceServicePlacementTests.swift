import Foundation
import Testing
import GantryAPI
import GantryControllers
import EmbeddedCluster
import GantryTestSupport
import KubeClient
import KubeCore

/// `placement: perNode` and `prepull: true` through the real path: kubectl → embedded cluster (its DaemonSet
/// controller, scheduler and kubelets, which take 2 s to pull an image a node does not have) → the operator over
/// libcurl (issue #10).
@Suite(.serialized) struct InferenceServicePlacementTests {
    static let example = OperatorHarness.repoRoot + "/examples/inferenceservice-per-node.yaml"
    /// Two edge nodes and one that is not.
    static let nodes = "2x{cpu: 8, name: edge, labels: {edge: 'true'}, imagePull: 2}, 1x{cpu: 8, name: core, imagePull: 2}"

    static func manifest(_ name: String, image: String, extra: String = "") -> String {
        perNode(name, image: image, rollout: "{scaleDownDelaySeconds: 10}", extra: "  prepull: true\n  readinessPath: /v2/health/ready\n" + extra)
    }

    static func daemonSets(_ h: OperatorHarness, _ name: String) async throws -> [JSONValue] {
        try await h.client.list(.daemonSets, namespace: "default", options: ListOptions(labelSelector: "\(GantryLabels.instance)=\(name)")).items
    }

    static func edgeNodes(_ h: OperatorHarness) async throws -> Set<String> {
        Set(try await h.client.list(.nodes, namespace: nil, options: ListOptions(labelSelector: "edge=true")).items.compactMap(\.name))
    }

    /// Kubelet Events of a pod's container, as `reason: message`.
    static func kubeletEvents(_ h: OperatorHarness, pod: String, container: String) async throws -> [String] {
        let events = try await h.client.list(.coreEvents, namespace: "default", options: ListOptions(fieldSelector: "involvedObject.name=\(pod)")).items
        return events.filter { $0[path: "involvedObject", "fieldPath"]?.stringValue == "spec.containers{\(container)}" }
            .map { "\($0["reason"]?.stringValue ?? ""): \($0["message"]?.stringValue ?? "")" }
    }

    @Test func theDocumentedExampleRunsOneReplicaOnEveryEdgeNodeAndRefusesReplicas() async throws {
        try await withOperator(nodes: Self.nodes) { h in
            _ = try await h.kubectl("apply", "-f", Self.example)
            #expect(try await eventually(timeout: .seconds(60)) { try await InferenceServiceTests.ready(h, "edge-detector") })
            let status = try await InferenceServiceTests.status(h, "edge-detector")
            let hash = try #require(status[path: "activeRevision", "hash"]?.stringValue)
            #expect(status["activeColor"] == "blue")
            #expect(status["replicas"] == 2 && status["readyReplicas"] == 2)
            #expect(status["perNode"] == [["color": "blue", "revision": .string(hash), "daemonSet": .string("edge-detector-blue-\(hash)"),
                                          "desired": 2, "ready": 2]])
            // One DaemonSet, owned by the service; its pods carry the colour and revision the alias selects.
            let sets = try await Self.daemonSets(h, "edge-detector")
            #expect(sets.map(\.name) == ["edge-detector-blue-\(hash)"])
            #expect(sets.first?.controllerReference?.kind == "InferenceService")
            let pods = try await InferenceServiceTests.pods(h, "edge-detector")
            #expect(pods.count == 2)
            let edge = try await Self.edgeNodes(h)
            #expect(Set(pods.compactMap { $0[path: "spec", "nodeName"]?.stringValue }) == edge)
            #expect(pods.allSatisfy { $0.labels[GantryLabels.color] == "blue" && $0.labels[GantryLabels.revision] == hash })
            #expect(pods.allSatisfy { $0.controllerReference?.kind == "DaemonSet" })
            #expect(try await InferenceServiceTests.selectedColor(h, "edge-detector") == "blue")
            #expect(try await eventually(timeout: .seconds(10)) { try await InferenceServiceTests.readyAddresses(h, "edge-detector") == 2 })

            // replicas (and kubectl scale, which writes it) make no sense per node: refused, naming the fields.
            let text = try String(contentsOfFile: Self.example, encoding: .utf8)
            let refused = await h.cluster.kubectl(args: ["apply", "-f", "-"], stdin: text.replacingOccurrences(of: "  placement: perNode\n", with: "  placement: perNode\n  replicas: 3\n"))
            #expect(!refused.ok && refused.stderr.contains("spec.placement perNode") && refused.stderr.contains("remove spec.replicas and spec.autoscaling"))
            let scaled = await h.cluster.kubectl(args: ["scale", "gis", "edge-detector", "--replicas=3"])
            #expect(!scaled.ok && scaled.stderr.contains("spec.placement perNode"))
            #expect(try await h.get(.inferenceServices, "default", "edge-detector")?[path: "spec", "replicas"] == nil)
        }
    }

    @Test func aSwapPrepullsThenMovesTheAliasOnceAndARevertInsideTheWindowStartsNoPod() async throws {
        try await withOperator(nodes: Self.nodes) { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("det", image: "acme/edge-inference:1"))
            #expect(try await eventually(timeout: .seconds(60)) { try await InferenceServiceTests.ready(h, "det") })
            let blue = try #require(try await InferenceServiceTests.status(h, "det")[path: "activeRevision", "hash"]?.stringValue)
            #expect(try await Self.daemonSets(h, "det").map(\.name) == ["det-blue-\(blue)"])  // a first deploy does not prepull
            let updatesBefore = InferenceServiceTests.aliasUpdates(h, "det")

            // Every DaemonSet change from here on, in the order the server made them (one watch is ordered).
            let start = try await h.client.list(.daemonSets, namespace: "default").resourceVersion
            let watched = Task { () -> [WatchEvent] in
                var seen: [WatchEvent] = []
                let stream = h.client.watch(.daemonSets, namespace: "default",
                                            options: ListOptions(labelSelector: "\(GantryLabels.instance)=det", resourceVersion: start, timeoutSeconds: 120))
                do { for try await event in stream { seen.append(event) } } catch {}
                return seen
            }
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("det", image: "acme/edge-inference:2"))
            #expect(try await eventually(timeout: .seconds(60)) {
                let s = try await InferenceServiceTests.status(h, "det")
                return s["activeColor"] == "green" && s["candidate"] == nil
            })
            let afterSwap = try await InferenceServiceTests.status(h, "det")
            let green = try #require(afterSwap[path: "activeRevision", "hash"]?.stringValue)
            #expect(afterSwap[path: "lastSwap", "reason"] == "Swapped")
            // Status is written before the children: the alias follows within the same reconcile.
            #expect(try await eventually { try await InferenceServiceTests.selectedColor(h, "det") == "green" })
            #expect(InferenceServiceTests.aliasUpdates(h, "det") == updatesBefore + 1)

            // The green replicas started from an image their node already had: the prepull pulled it.
            let greenPods = try await InferenceServiceTests.pods(h, "det").filter { $0.labels[GantryLabels.color] == "green" }
            #expect(greenPods.count == 2)
            for pod in greenPods {
                let events = try await Self.kubeletEvents(h, pod: pod.name ?? "", container: "server")
                #expect(events.contains("Pulled: Container image \"acme/edge-inference:2\" already present on machine"), "\(pod.name ?? ""): \(events)")
                #expect(!events.contains { $0.hasPrefix("Pulling:") }, "\(pod.name ?? ""): \(events)")
            }

            // Rollback by spec revert inside the warm window: the alias moves back, no DaemonSet or pod is made.
            let podsBefore = Set(try await InferenceServiceTests.pods(h, "det").compactMap(\.uid))
            let dsCreates = h.operatorRequests().count { $0.method == "POST" && $0.path.hasSuffix("/daemonsets") }
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("det", image: "acme/edge-inference:1"))
            #expect(try await eventually(timeout: .seconds(20)) {
                let s = try await InferenceServiceTests.status(h, "det")
                return s["activeColor"] == "blue" && s[path: "lastSwap", "reason"] == "RolledBack"
            })
            #expect(try await eventually { try await InferenceServiceTests.selectedColor(h, "det") == "blue" })
            let podsAfter = Set(try await InferenceServiceTests.pods(h, "det").compactMap(\.uid))
            #expect(podsAfter.isSubset(of: podsBefore))
            #expect(h.operatorRequests().count { $0.method == "POST" && $0.path.hasSuffix("/daemonsets") } == dsCreates)

            // After scaleDownDelaySeconds only the serving DaemonSet and its pods are left.
            #expect(try await eventually(timeout: .seconds(30)) {
                let sets = try await Self.daemonSets(h, "det").map(\.name)
                let pods = try await InferenceServiceTests.pods(h, "det")
                return sets == ["det-blue-\(blue)"] && pods.allSatisfy { $0.labels[GantryLabels.color] == "blue" }
            })
            watched.cancel()
            let events = await watched.value

            // The order the server saw: the prepull DaemonSet, ready on both edge nodes, before the green one
            // existed (its pods are made by it, so none before either); the prepull DaemonSet deleted after.
            let prepull = "det-prepull-\(green)"
            func index(_ type: String, _ name: String, _ match: (JSONValue) -> Bool = { _ in true }) -> Int? {
                events.firstIndex { event in
                    switch event {
                    case .added(let o): return type == "ADDED" && o.name == name && match(o)
                    case .modified(let o): return type == "MODIFIED" && o.name == name && match(o)
                    case .deleted(let o): return type == "DELETED" && o.name == name && match(o)
                    case .bookmark, .error: return false
                    }
                }
            }
            let prepullAdded = index("ADDED", prepull)
            let prepullReady = index("MODIFIED", prepull) { o in
                let status = DaemonSet(json: o).status
                return status.desiredNumberScheduled == 2 && status.numberReady == 2 && (status.observedGeneration ?? 0) >= (o.generation ?? 1)
            }
            let greenAdded = index("ADDED", "det-green-\(green)")
            let prepullDeleted = index("DELETED", prepull)
            #expect(prepullAdded != nil && prepullReady != nil && greenAdded != nil && prepullDeleted != nil, "\(events.compactMap { $0.object?.name })")
            if let prepullAdded, let prepullReady, let greenAdded, let prepullDeleted {
                #expect(prepullAdded < prepullReady && prepullReady < greenAdded && greenAdded < prepullDeleted)
            }
            // The prepull pods pulled no GPU and selected the candidate's nodes only.
            if let added = prepullAdded, let ds = events[added].object {
                let template = ds[path: "spec", "template", "spec"] ?? .null
                #expect(template[path: "nodeSelector", "edge"] == "true")
                #expect(template["initContainers"]?.arrayValue?.first?["image"] == "acme/edge-inference:2")
                #expect(template["initContainers"]?.arrayValue?.first?["command"] == ["true"])
            }
        }
    }
}
