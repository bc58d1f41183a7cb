import Foundation
import KubeCore
import Testing

@testable import EmbeddedCluster

/// The Deployment and ReplicaSet controllers, played against each other in memory: a pass of each per round,
/// new pods ready one round after they were created, as kube-controller-manager and the kubelets would.
@Suite struct SimulationDeploymentTests {
    /// The objects of one namespace and the rounds played on them.
    struct World {
        var deployment: JSONValue
        var replicaSets: [JSONValue] = []
        var pods: [JSONValue] = []
        var counter = 0
        var createdReplicaSets = 0
        var now = SimFixtures.now
        /// Off: new pods stay Pending and unready (an image that never pulls).
        var podsStart = true

        mutating func uid() -> String { counter += 1; return "uid-\(counter)" }

        /// One pass of each controller; returns the active pods after it.
        mutating func round() {
            // Pods created last round are now running and ready.
            for i in pods.indices where podsStart && pods[i][path: "status", "phase"] == nil {
                pods[i][path: "spec", "nodeName"] = "cpu-0"
                pods[i][path: "status"] = ["phase": "Running", "conditions": [["type": "Ready", "status": "True"]]]
            }
            let plan = DeploymentSimulator.plan(deployment: deployment, replicaSets: replicaSets, now: now)
            if var rs = plan.create {
                rs[path: "metadata", "uid"] = .string(uid())
                rs[path: "metadata", "generation"] = 1
                replicaSets.append(rs)
                createdReplicaSets += 1
            }
            for rs in plan.update {
                guard let i = replicaSets.firstIndex(where: { $0.name == rs.name }) else { continue }
                var updated = rs
                if ObjectStore.specChanged(rs, replicaSets[i]) { updated[path: "metadata", "generation"] = .int((rs.generation ?? 1) + 1) }
                replicaSets[i] = updated
            }
            replicaSets.removeAll { rs in plan.delete.contains(rs.objectKey) }
            deployment["status"] = plan.status
            for i in replicaSets.indices {
                let rsPlan = ReplicaSetSimulator.plan(replicaSet: replicaSets[i], pods: pods, now: now)
                for var pod in rsPlan.create {
                    pod.name = "\(pod[path: "metadata", "generateName"]?.stringValue ?? "")\(uid())"
                    pods.append(pod)
                }
                pods.removeAll { rsPlan.delete.contains($0.objectKey) }
                replicaSets[i]["status"] = rsPlan.status
            }
        }

        mutating func setImage(_ image: String) {
            deployment[path: "spec", "template", "spec", "containers"] = [["name": "web", "image": .string(image)]]
        }

        var readyPods: Int { pods.filter(DaemonSetSimulator.isPodReady).count }
        func images(_ pods: [JSONValue]) -> Set<String> {
            Set(pods.compactMap { $0[path: "spec", "containers"]?.arrayValue?.first?["image"]?.stringValue })
        }
    }

    static func deployment(replicas: Int, image: String, strategy: JSONValue? = nil) -> JSONValue {
        var d: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": "web", "namespace": "default", "uid": "deploy-uid", "generation": 1],
            "spec": ["replicas": .int(Int64(replicas)), "selector": ["matchLabels": ["app": "web"]],
                     "template": ["metadata": ["labels": ["app": "web"]],
                                  "spec": ["containers": [["name": "web", "image": .string(image)]]]]],
        ]
        ObjectStore.defaultWorkload("Deployment", &d)
        if let strategy { d[path: "spec", "strategy"] = strategy }
        return d
    }

    @Test func firstRolloutCreatesOwnedReplicaSetAndPods() {
        var world = World(deployment: Self.deployment(replicas: 3, image: "nginx:1"))
        world.round()
        let rs = world.replicaSets[0]
        let hash = rs.labels["pod-template-hash"] ?? ""
        #expect(hash.count >= 6 && rs.name == "web-\(hash)")
        #expect(rs.controllerReference?.kind == "Deployment" && rs.controllerReference?.uid == "deploy-uid")
        #expect(rs[path: "spec", "selector", "matchLabels"] == ["app": "web", "pod-template-hash": .string(hash)])
        #expect(rs[path: "metadata", "annotations", "deployment.kubernetes.io/revision"] == "1")
        #expect(world.deployment[path: "status", "conditions"]?.arrayValue?.contains {
            $0["type"] == "Progressing" && $0["reason"] == "NewReplicaSetCreated" && $0["message"] == .string("Created new replica set \"web-\(hash)\"")
        } == true)
        #expect(world.pods.count == 3)
        #expect(world.pods.allSatisfy { $0.controllerReference?.kind == "ReplicaSet" && $0.labels["pod-template-hash"] == hash })
        #expect(world.pods.allSatisfy { $0[path: "metadata", "generateName"] == .string("web-\(hash)-") })
        for _ in 0..<3 { world.round() }
        let status = world.deployment["status"] ?? [:]
        #expect(status["replicas"] == 3 && status["updatedReplicas"] == 3 && status["readyReplicas"] == 3 && status["availableReplicas"] == 3)
        #expect(status["observedGeneration"] == 1 && status["unavailableReplicas"] == nil)
        #expect(status["conditions"]?.arrayValue?.contains { $0["type"] == "Available" && $0["status"] == "True" } == true)
        #expect(status["conditions"]?.arrayValue?.contains { $0["type"] == "Progressing" && $0["reason"] == "NewReplicaSetAvailable" } == true)
    }

    /// A new template rolls out within the bounds: never more than replicas + maxSurge pods, never fewer than
    /// replicas - maxUnavailable ready; at the end every pod runs the new image and the old ReplicaSet is empty.
    @Test(arguments: [(4, "25%", "25%"), (4, "0", "1"), (3, "1", "0"), (10, "30%", "10%")])
    func rollingUpdateStaysWithinBounds(replicas: Int, surge: String, unavailable: String) {
        func bound(_ s: String) -> JSONValue { s.hasSuffix("%") ? .string(s) : .int(Int64(s) ?? 0) }
        let strategy: JSONValue = ["type": "RollingUpdate", "rollingUpdate": ["maxSurge": bound(surge), "maxUnavailable": bound(unavailable)]]
        var world = World(deployment: Self.deployment(replicas: replicas, image: "nginx:1", strategy: strategy))
        for _ in 0..<5 { world.round() }
        #expect(world.readyPods == replicas)
        let (maxSurge, maxUnavailable) = DeploymentSimulator.rollingBounds(world.deployment, replicas: replicas)
        world.setImage("nginx:2")
        world.deployment[path: "metadata", "generation"] = 2
        var rounds = 0
        while rounds < 40 {
            world.round()
            rounds += 1
            #expect(world.pods.count <= replicas + maxSurge, "round \(rounds): \(world.pods.count) pods")
            #expect(world.readyPods >= replicas - maxUnavailable, "round \(rounds): \(world.readyPods) ready")
            if world.deployment[path: "status", "conditions"]?.arrayValue?.contains(where: { $0["reason"] == "NewReplicaSetAvailable" }) == true { break }
        }
        #expect(rounds < 40, "the rollout finished")
        #expect(world.images(world.pods) == ["nginx:2"] && world.pods.count == replicas)
        #expect(world.replicaSets.count == 2)
        let old = world.replicaSets.first { $0[path: "spec", "template", "spec", "containers"]?.arrayValue?.first?["image"] == "nginx:1" }
        #expect(old?[path: "spec", "replicas"] == 0)
        #expect(world.deployment[path: "status", "updatedReplicas"] == .int(Int64(replicas)))
        #expect(world.deployment[path: "status", "observedGeneration"] == 2)
    }

    /// No progress for progressDeadlineSeconds: Progressing False, ProgressDeadlineExceeded (what makes
    /// `kubectl rollout status` fail); progress again makes it True.
    @Test func progressDeadline() {
        var d = Self.deployment(replicas: 2, image: "nginx:1")
        d[path: "spec", "progressDeadlineSeconds"] = 30
        var world = World(deployment: d)
        world.podsStart = false
        func progressing() -> JSONValue? {
            world.deployment[path: "status", "conditions"]?.arrayValue?.first { $0["type"] == "Progressing" }
        }
        for _ in 0..<3 {
            world.round()
            world.now += 10
        }
        #expect(progressing()?["status"] == "True", "within the deadline: \(progressing() ?? .null)")
        for _ in 0..<4 {  // the last progress (both replicas counted as updated) was seen at 20 s: the deadline passes after 50 s
            world.round()
            world.now += 10
        }
        #expect(progressing()?["status"] == "False" && progressing()?["reason"] == "ProgressDeadlineExceeded", "\(progressing() ?? .null)")
        let hash = world.replicaSets.first?.labels["pod-template-hash"] ?? ""
        #expect(progressing()?["message"] == .string("ReplicaSet \"web-\(hash)\" has timed out progressing."))
        world.podsStart = true
        for _ in 0..<3 { world.round() }
        #expect(progressing()?["status"] == "True" && progressing()?["reason"] == "NewReplicaSetAvailable", "\(progressing() ?? .null)")
    }

    @Test func recreateStopsOldPodsBeforeStartingNew() {
        var world = World(deployment: Self.deployment(replicas: 2, image: "nginx:1", strategy: ["type": "Recreate"]))
        for _ in 0..<3 { world.round() }
        world.setImage("nginx:2")
        for _ in 0..<10 {
            world.round()
            #expect(world.images(world.pods).count <= 1, "old and new pods never run together")
        }
        #expect(world.images(world.pods) == ["nginx:2"] && world.readyPods == 2)
    }

    @Test func scalingAndHistoryLimit() {
        var d = Self.deployment(replicas: 3, image: "v0")
        d[path: "spec", "revisionHistoryLimit"] = 1
        var world = World(deployment: d)
        for _ in 0..<4 { world.round() }
        for i in 1...3 {
            world.setImage("v\(i)")
            for _ in 0..<12 { world.round() }
        }
        #expect(world.createdReplicaSets == 4)
        #expect(world.replicaSets.count == 2, "the current ReplicaSet and one old one are kept")
        #expect(world.replicaSets.compactMap { $0[path: "metadata", "annotations", "deployment.kubernetes.io/revision"]?.stringValue }.sorted() == ["3", "4"])
        world.deployment[path: "spec", "replicas"] = 1
        for _ in 0..<3 { world.round() }
        #expect(world.pods.count == 1 && world.deployment[path: "status", "replicas"] == 1)
    }

    @Test func replicaSetReplacesFailedPodsAndDeletesUnreadyFirst() {
        let rs: JSONValue = ["metadata": ["name": "web-abc", "namespace": "default", "uid": "rs-uid", "generation": 2],
                             "spec": ["replicas": 2, "template": ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [["name": "c"]]]]]]
        func pod(_ name: String, phase: String, ready: Bool, created: String) -> JSONValue {
            var p = ReplicaSetSimulator.newPod(rs)
            p.name = name
            p[path: "metadata", "creationTimestamp"] = .string(created)
            p[path: "spec", "nodeName"] = "n"
            p["status"] = ["phase": .string(phase), "conditions": [["type": "Ready", "status": ready ? "True" : "False"]]]
            return p
        }
        let failed = pod("failed", phase: "Failed", ready: false, created: "2026-01-01T00:00:00Z")
        let plan = ReplicaSetSimulator.plan(replicaSet: rs, pods: [failed, pod("a", phase: "Running", ready: true, created: "2026-01-01T00:00:01Z")],
                                            now: SimFixtures.now)
        #expect(plan.create.count == 1 && plan.delete.isEmpty, "a failed pod is replaced, not counted")
        #expect(plan.status["replicas"] == 1 && plan.status["readyReplicas"] == 1 && plan.status["observedGeneration"] == 2)

        let excess = [pod("old-ready", phase: "Running", ready: true, created: "2026-01-01T00:00:01Z"),
                      pod("new-ready", phase: "Running", ready: true, created: "2026-01-01T00:00:05Z"),
                      pod("unready", phase: "Running", ready: false, created: "2026-01-01T00:00:00Z"),
                      pod("pending", phase: "Pending", ready: false, created: "2026-01-01T00:00:00Z")]
        let down = ReplicaSetSimulator.plan(replicaSet: rs, pods: excess, now: SimFixtures.now)
        #expect(down.delete.map(\.name) == ["pending", "unready"])
        var one = rs
        one[path: "spec", "replicas"] = 1
        #expect(ReplicaSetSimulator.plan(replicaSet: one, pods: excess, now: SimFixtures.now).delete.map(\.name) == ["pending", "unready", "new-ready"])
    }
}
