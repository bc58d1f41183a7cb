import Foundation
import GantryAPI
import GantryControllers
import KubeClient
import KubeCore

/// The users of a soak, one seeded action a second: TrainingJobs created (1–2 replicas, 2–6 s each), relabelled
/// while they run and deleted once finished (at most `maxJobs` at a time, so the store stays bounded and RSS can be
/// flat); an InferenceService rolled to a new image every 20 actions; two idle notebooks culled after 10 s and started
/// again (`gantry.dev/start`) once culled. Requests fail under the faults: an action that fails is counted and
/// dropped, as a user would retry later.
actor SoakChurn {
    let client: KubeClient
    var random: SeededRandom
    let maxJobs = 12
    let namespace = "default"
    private(set) var actions = 0
    private(set) var failed = 0
    private var nextJob = 0
    private var image = 1

    init(client: KubeClient, seed: UInt64) {
        self.client = client
        random = SeededRandom(seed: seed)
    }

    /// Acts every second until cancelled.
    func run() async {
        for name in ["soak-nb-0", "soak-nb-1"] { await attempt { try await self.create(.notebooks, Self.notebook(name)) } }
        await attempt { try await self.create(.inferenceServices, Self.service(image: 1)) }
        while !Task.isCancelled {
            await step()
            try? await Task.sleep(for: .seconds(1))
        }
    }

    func step() async {
        actions += 1
        if actions % 20 == 0 {
            image += 1
            let next = image
            await attempt { _ = try await self.client.patch(.inferenceServices, namespace: self.namespace, name: "soak-svc",
                                                            patch: ["spec": ["image": .string("acme/serve:\(next)")]]) }
        }
        if actions % 5 == 0 { await restartCulledNotebooks() }
        guard let jobs = try? await client.list(.trainingJobs, namespace: namespace).items else { failed += 1; return }
        let finished = jobs.filter { ["Succeeded", "Failed"].contains($0[path: "status", "phase"]?.stringValue ?? "") }
        switch random.next() % 3 {
        case 0 where jobs.count < maxJobs:
            nextJob += 1
            let job = Self.job("soak-job-\(nextJob)", replicas: Int(random.next() % 2) + 1, seconds: Int(random.next() % 5) + 2)
            await attempt { try await self.create(.trainingJobs, job) }
        case 1 where !jobs.isEmpty:
            let name = jobs[Int(random.next() % UInt64(jobs.count))].name ?? ""
            let touch = actions
            await attempt { _ = try await self.client.patch(.trainingJobs, namespace: self.namespace, name: name,
                                                            patch: ["metadata": ["labels": ["soak.gantry.dev/touched": .string(String(touch))]]]) }
        default:
            if let done = finished.first?.name {
                await attempt { try await self.client.delete(.trainingJobs, namespace: self.namespace, name: done) }
            }
        }
    }

    func restartCulledNotebooks() async {
        guard let notebooks = try? await client.list(.notebooks, namespace: namespace).items else { failed += 1; return }
        for nb in notebooks where nb[path: "status", "phase"]?.stringValue == "Culled" {
            let name = nb.name ?? ""
            let now = Timestamp.format(Date())
            await attempt { _ = try await self.client.patch(.notebooks, namespace: self.namespace, name: name,
                                                            patch: ["metadata": ["annotations": [NotebookPlanner.startAnnotation: .string(now)]]]) }
        }
    }

    func create(_ type: ResourceType, _ object: JSONValue) async throws {
        _ = try await client.create(type, object, namespace: namespace)
    }

    private func attempt(_ body: @Sendable () async throws -> Void) async {
        do { try await body() } catch { failed += 1 }
    }

    static func job(_ name: String, replicas: Int, seconds: Int) -> JSONValue {
        var spec: JSONValue = ["image": "trainer:1", "replicas": .int(Int64(replicas)), "gpu": ["count": 1],
                               "podMetadata": ["annotations": ["sim.gantry.dev/script": .string("{logs: [\"epoch 1 loss=0.5\"], exit: {code: 0, after: \(seconds)s}}")]]]
        if replicas > 1 { spec["distributed"] = ["framework": "pytorch"] }
        return object("TrainingJob", name, spec)
    }

    static func service(image: Int) -> JSONValue {
        object("InferenceService", "soak-svc", [
            "image": .string("acme/serve:\(image)"), "replicas": 2, "gpu": ["count": 1], "rollout": ["scaleDownDelaySeconds": 0],
            "podMetadata": ["annotations": ["sim.gantry.dev/script": #"{readyAfter: 1s, http: {"/healthz": {body: {ok: true}}}}"#]],
        ])
    }

    static func notebook(_ name: String) -> JSONValue {
        object("Notebook", name, ["image": "jupyter/base-notebook:latest", "gpu": ["count": 1],
                                  "culling": ["idleTimeoutSeconds": 10, "checkPeriodSeconds": 1]])
    }

    static func object(_ kind: String, _ name: String, _ spec: JSONValue) -> JSONValue {
        var object: JSONValue = ["apiVersion": .string(GantryGroup.apiVersion), "kind": .string(kind), "spec": spec]
        object.name = name
        object.namespace = "default"
        return object
    }
}
