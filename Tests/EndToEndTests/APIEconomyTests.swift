import Foundation
import Testing
import EmbeddedCluster
import GantryControllers
import GantryTestSupport
import KubeCore

/// API economy (issue #14, scenario 3), counted exactly in the API server's request log: what a TrainingJob
/// costs the API server until it runs, and that a converged job costs nothing when it is reconciled again.
/// Counts, not timings: they hold on any machine.
@Suite(.serialized) struct APIEconomyTests {
    static let writeVerbs: Set<String> = ["POST", "PUT", "PATCH", "DELETE"]

    static func job(_ name: String, replicas: Int) -> String {
        """
        apiVersion: gantry.dev/v1alpha1
        kind: TrainingJob
        metadata: {name: \(name), namespace: ml}
        spec:
          image: registry.example.com/econ:1
          replicas: \(replicas)
          gpu: {count: 1, product: E2E-GPU}
          distributed: {framework: pytorch}
        """
    }

    static func describe(_ records: [RequestRecord]) -> String {
        records.map { "\($0.method) \($0.path) \($0.code)" }.joined(separator: "\n")
    }

    @Test func aJobCostsItsPodsOneServiceAndTwoStatusWritesThenNothingWhenReconciledAgain() async throws {
        // One worker: the work queue is FIFO, so a job enqueued after another is reconciled after it.
        try await withOperator(nodes: "off", workers: 1) { h async throws in
            try await h.addGPUNode("econ-gpu", gpus: 8, product: "E2E-GPU")
            _ = try await h.kubectl("apply", "-f", "-", stdin: "apiVersion: v1\nkind: Namespace\nmetadata: {name: ml}\n")
            let start = h.operatorRequests().count
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.job("econ", replicas: 3))
            #expect(try await eventually(timeout: .seconds(20)) {
                try await h.get(.pods, "ml", "econ-2") != nil
            })
            // The kubelet's part, all replicas at once: pod events within the batch period make one reconcile.
            let began = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<3 { group.addTask { try await h.setPodPhase("ml", "econ-\(i)", "Running") } }
                try await group.waitForAll()
            }
            let span = ContinuousClock.now - began
            #expect(try await eventually(timeout: .seconds(20)) {
                try await h.get(.trainingJobs, "ml", "econ")?[path: "status", "phase"] == "Running"
            })
            let untilRunning = h.operatorRequests().dropFirst(start).filter { Self.writeVerbs.contains($0.method) }
            let log = Self.describe(Array(untilRunning))
            let podCreates = untilRunning.filter { $0.method == "POST" && $0.path == "/api/v1/namespaces/ml/pods" }
            let serviceCreates = untilRunning.filter { $0.method == "POST" && $0.path == "/api/v1/namespaces/ml/services" }
            let statusWrites = untilRunning.filter { $0.path == "/apis/gantry.dev/v1alpha1/namespaces/ml/trainingjobs/econ/status" }
            // The finalizer that keeps a deleted run's record (docs/trainingjob.md): one patch, once.
            let finalizer = untilRunning.filter { $0.method == "PATCH" && $0.path == "/apis/gantry.dev/v1alpha1/namespaces/ml/trainingjobs/econ" }
            let events = untilRunning.filter { $0.path.hasPrefix("/apis/events.k8s.io/v1/namespaces/ml/events") }
            #expect(podCreates.count == 3, "\(log)")
            #expect(serviceCreates.count == 1, "\(log)")
            // Admitted (with the pods it creates counted as pending), then Running. Pods that start further apart
            // than the batch period are distinct states, each worth its write: then the bound does not apply.
            #expect((1...2).contains(statusWrites.count) || span >= TrainingJobWatches.podBatchPeriod,
                    "at most two status writes until Running:\n\(log)")
            #expect(finalizer.count == 1, "\(log)")
            let other = untilRunning.filter { r in
                !(podCreates + serviceCreates + statusWrites + finalizer + events).contains { $0.received == r.received && $0.path == r.path }
            }
            #expect(other.isEmpty, "no write beyond pods, Service, status, the finalizer and Events:\n\(Self.describe(other))")

            // Converged: a change that is not the job's spec (an annotation) reconciles it again, and the
            // reconcile writes nothing. A second job created afterwards is reconciled after it (one worker,
            // FIFO), so once that job's pod exists the first job's reconcile has certainly finished.
            // The Running Event goes out after the status write: wait for it before counting.
            #expect(try await eventually(timeout: .seconds(10)) { try await Self.events(h, about: "econ").contains { $0["reason"] == "Running" } })
            let eventsBefore = try await Self.eventCount(h, about: "econ")
            let mark = h.operatorRequests().count
            _ = try await h.kubectl("annotate", "trainingjob/econ", "-n", "ml", "team.example.com/touched=yes")
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.job("probe", replicas: 1))
            #expect(try await eventually(timeout: .seconds(20)) { try await h.get(.pods, "ml", "probe-0") != nil })
            let afterConverged = h.operatorRequests().dropFirst(mark).filter {
                Self.writeVerbs.contains($0.method) && $0.path.contains("econ")
            }
            #expect(afterConverged.isEmpty, "a converged job's reconcile wrote:\n\(Self.describe(Array(afterConverged)))")
            #expect(try await Self.eventCount(h, about: "econ") == eventsBefore, "no Event about a converged job")
        }
    }

    /// Events (and their repeat counts) about the named object in namespace ml.
    static func eventCount(_ h: OperatorHarness, about name: String) async throws -> Int {
        try await events(h, about: name).reduce(0) { $0 + Int($1["count"]?.intValue ?? 1) }
    }

    static func events(_ h: OperatorHarness, about name: String) async throws -> [JSONValue] {
        try await h.client.list(.coreEvents, namespace: "ml").items.filter { $0[path: "involvedObject", "name"]?.stringValue == name }
    }
}
