import EmbeddedCluster
import Foundation
import GantryTestSupport
import KubeClient
import KubeCore
import Synchronization
import Testing

/// Reliability under faults (issue #14): a mixed workload of all three kinds runs while the embedded API server
/// answers 10 % of requests with 503, 429 (with Retry-After) or 500, adds latency spikes, cuts every watch,
/// compacts its history (forcing 410 and re-lists) and restarts with its data. Sampled throughout: no duplicate
/// pod, never more GPUs than the quota, the active notebook never culled. At the end, with faults off: every job
/// finished once with its record, the service swapped to its new revision with nothing left of the old one, no
/// orphan.
@Suite(.serialized) struct ChaosTests {
    static let quota = 4

    static func job(_ name: String) -> String {
        """
        apiVersion: gantry.dev/v1alpha1
        kind: TrainingJob
        metadata: {name: \(name), namespace: chaos}
        spec:
          image: trainer:1
          replicas: 2
          gpu: {count: 1}
          distributed: {framework: pytorch}
          podMetadata:
            annotations:
              sim.gantry.dev/script: '{logs: ["epoch 1 loss=0.5", "epoch 2 loss=0.4"], exit: {code: 0, after: 3s}}'
        """
    }

    static func service(image: String) -> String {
        """
        apiVersion: gantry.dev/v1alpha1
        kind: InferenceService
        metadata: {name: svc, namespace: default}
        spec:
          image: \(image)
          replicas: 2
          gpu: {count: 1}
          rollout: {scaleDownDelaySeconds: 0}
          podMetadata:
            annotations:
              sim.gantry.dev/script: '{readyAfter: 1s, http: {"/healthz": {body: {ok: true}}}}'
        """
    }

    /// A notebook with a browser connected throughout: activity, so it must never be culled, faults or not.
    static let notebook = #"""
        apiVersion: gantry.dev/v1alpha1
        kind: Notebook
        metadata: {name: nb, namespace: default}
        spec:
          image: jupyter/base-notebook:latest
          gpu: {count: 1}
          culling: {idleTimeoutSeconds: 10, checkPeriodSeconds: 1}
          podMetadata:
            annotations:
              sim.gantry.dev/script: '{http: {"/api/status": {body: {last_activity: "{now}", connections: 1, kernels: 1}}, "/api/kernels": {body: []}}}'
        """#

    /// What the sampler saw go wrong, if anything.
    final class Violations: Sendable {
        let seen = Mutex<[String]>([])
        /// Samples taken (a failed read is no sample): the invariants were looked at, not assumed.
        let samples = Mutex(0)
        /// The most GPU pods seen live at once in namespace chaos: the quota was reached, so it was tested.
        let peak = Mutex(0)
        func add(_ s: String) { seen.withLock { if $0.count < 20 { $0.append(s) } } }
        var all: [String] { seen.withLock { $0 } }
    }

    @Test func aMixedWorkloadConvergesToExactlyTheRightChildrenUnderFaults() async throws {
        try await withOperator(nodes: "4x{gpu: 4}") { h async throws in
            _ = try await h.kubectl("apply", "-f", "-", stdin: """
                apiVersion: v1
                kind: Namespace
                metadata: {name: chaos}
                ---
                apiVersion: gantry.dev/v1alpha1
                kind: PlatformConfig
                metadata: {name: default}
                spec:
                  quotas: [{namespace: chaos, gpus: \(Self.quota)}]
                """)
            let jobs = (0..<6).map { "run-\($0)" }
            _ = try await h.kubectl("apply", "-f", "-", stdin: jobs.map(Self.job).joined(separator: "\n---\n"))
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.service(image: "acme/serve:1") + "\n---\n" + Self.notebook)
            #expect(try await eventually(timeout: .seconds(60)) {
                try await h.get(.inferenceServices, "default", "svc")?[path: "status", "activeRevision", "image"] == "acme/serve:1"
            })

            // Faults on: the workload goes on beneath them.
            let violations = Violations()
            let chaos = Task {
                var tick = 0
                while !Task.isCancelled {
                    switch tick % 4 {
                    case 0: try? h.cluster.cluster.setFaults("error=0.1:503")
                    case 1: try? h.cluster.cluster.setFaults("error=0.1:429")
                    case 2: try? h.cluster.cluster.setFaults("error=0.1:500,latency=150ms")
                    default: try? h.cluster.cluster.setFaults("error=0.05:503")
                    }
                    if tick % 3 == 0 { await h.cluster.cluster.dropWatches() }
                    if tick % 5 == 4 { await h.cluster.cluster.compactHistory() }
                    if tick == 7 { try? await h.cluster.cluster.restart() }
                    await Self.sample(h, violations)
                    tick += 1
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            // A new revision of the service while the faults go on: swapped exactly once, never lost.
            #expect(try await Self.retrying { _ = try await h.kubectl("apply", "-f", "-", stdin: Self.service(image: "acme/serve:2")) })
            let allFinished = try await eventually(timeout: .seconds(180)) {
                var done = 0
                for job in jobs where (try? await h.get(.trainingJobs, "chaos", job))?[path: "status", "phase"] == "Succeeded" { done += 1 }
                return done == jobs.count
            }
            chaos.cancel()
            await chaos.value
            h.cluster.cluster.setFaults(FaultSpec())
            #expect(allFinished, "every job finished under faults")
            #expect(violations.all.isEmpty, "\(violations.all.joined(separator: "\n"))")
            let (samples, peak, injected) = (violations.samples.withLock { $0 }, violations.peak.withLock { $0 }, h.cluster.cluster.injectedFaults)
            #expect(samples >= 5 && peak == Self.quota && injected >= 20,
                    "the faults hit and the invariants were looked at: \(samples) samples, peak \(peak) GPU pods, \(injected) injected errors")

            // Faults off: the end state is exact.
            for job in jobs {
                // Status is written before children, so a record create refused by a fault after the Succeeded
                // status is made by the job's next reconcile, after its backoff.
                #expect(try await eventually(timeout: .seconds(60)) { try await h.get(.configMaps, "chaos", "\(job)-record") != nil },
                        "\(job) has its record")
                let status = try await h.get(.trainingJobs, "chaos", job)?["status"]
                #expect(status?["restarts"] == nil || status?["restarts"] == 0, "\(job) never restarted: \(status ?? .null)")
            }
            #expect(try await eventually(timeout: .seconds(60)) {
                try await h.client.list(.pods, namespace: "chaos").items.isEmpty
            }, "finished jobs' pods are all gone")
            #expect(try await eventually(timeout: .seconds(60)) {
                let s = try await h.get(.inferenceServices, "default", "svc")?["status"]
                let pods = try await h.client.list(.pods, namespace: "default").items
                    .filter { $0.controllerReference?.name == "svc" && $0.labels["gantry.dev/role"] == "server" && $0.deletionTimestamp == nil }
                return s?[path: "activeRevision", "image"] == "acme/serve:2" && s?["candidate"] == nil && pods.count == 2
            }, "the service serves revision 2 from exactly two pods")
            let swaps = try await h.client.list(.coreEvents, namespace: "default").items
                .filter { $0[path: "involvedObject", "name"] == "svc" && $0["reason"] == "Swapped" }
            #expect(swaps.count == 1, "one swap, recorded once: \(swaps.map { $0["message"] ?? .null })")
            #expect(try await h.get(.notebooks, "default", "nb")?[path: "status", "phase"] == "Running", "the active notebook is never culled")
            try await expectNoOrphans(h.client, namespaces: ["chaos", "default"])
        }
    }

    /// One look at the invariants; a read failing under the faults is skipped, not counted.
    static func sample(_ h: OperatorHarness, _ violations: Violations) async {
        guard let pods = try? await h.client.list(.pods, namespace: "chaos").items else { return }
        let live = pods.filter { $0.deletionTimestamp == nil }
        var replicas: [String: Int] = [:]
        for pod in live {
            let key = "\(pod.labels["gantry.dev/trainingjob"] ?? "?")/\(pod.labels["gantry.dev/replica-index"] ?? "?")"
            replicas[key, default: 0] += 1
        }
        for (key, count) in replicas where count > 1 { violations.add("\(count) live pods for replica \(key)") }
        let holding = live.filter { !["Succeeded", "Failed"].contains($0[path: "status", "phase"]?.stringValue ?? "") }
        violations.samples.withLock { $0 += 1 }
        violations.peak.withLock { $0 = max($0, holding.count) }
        if holding.count > quota { violations.add("\(holding.count) GPU pods live in namespace chaos against a quota of \(quota)") }
        if let nb = try? await h.get(.notebooks, "default", "nb"), nb[path: "status", "phase"] == "Culled" {
            violations.add("the active notebook was culled: \(nb["status"] ?? .null)")
        }
    }

    /// Runs `body` until it succeeds (the faults fail some requests), at most 20 times.
    static func retrying(_ body: () async throws -> Void) async throws -> Bool {
        for _ in 0..<20 {
            if (try? await body()) != nil { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }
}

/// Every pod, Service and DaemonSet in `namespaces` is owned by an object that exists (same uid): no orphan. The
/// pods of a DaemonSet (a perNode colour's) are checked against it, and it against its InferenceService.
func expectNoOrphans(_ client: KubeClient, namespaces: [String]) async throws {
    let kinds = ["TrainingJob": ResourceType.trainingJobs, "InferenceService": .inferenceServices, "Notebook": .notebooks, "DaemonSet": .daemonSets]
    for ns in namespaces {
        for type in [ResourceType.pods, .services, .daemonSets] {
            for child in try await client.list(type, namespace: ns).items {
                guard let owner = child.controllerReference, let plural = kinds[owner.kind] else { continue }
                let existing = try await client.getIfFound(plural, ns, owner.name)
                #expect(existing?.uid == owner.uid, "\(type.kind) \(ns)/\(child.name ?? "") is owned by a \(owner.kind) \(owner.name) that is gone")
            }
        }
    }
}
