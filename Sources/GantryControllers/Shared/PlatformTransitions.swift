import CoreMetrics
import Foundation
import GantryAPI
import KubeCore

/// Counters of transitions, counted in one place: the Events the reconcilers record (`EventRecorder.Observer`).
/// A reconcile records its plan's events only after its status write succeeded, and that write is pinned to the
/// resourceVersion it planned from, so a resync or a stale cache that plans the same transition again fails
/// with a conflict and records nothing: each transition is counted once, as its Event is. Reconcilers run only
/// on the leader, so only the leader counts. `object` is the stored object the transition was planned from.
public struct PlatformTransitions: Sendable {
    let factory: any MetricsFactory

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    public func observe(_ object: JSONValue, type: String, reason: String, at: Date) {
        let namespace = [("namespace", object.namespace ?? "default")]
        switch (object.kind, reason) {
        case ("TrainingJob", "Admitted"):
            guard let wait = Self.admissionWait(of: object, at: at) else { return }
            Timer(label: PlatformMetricNames.admissionWait, dimensions: namespace, factory: factory).recordSeconds(wait)
        case ("TrainingJob", "EarlyStopped"):
            Counter(label: PlatformMetricNames.earlyStops, dimensions: namespace, factory: factory).increment()
            FloatingPointCounter(label: PlatformMetricNames.earlyStoppingSaved, dimensions: namespace, factory: factory)
                .increment(by: Self.savedGPUSeconds(of: object, at: at))
        case ("InferenceService", "Swapped"):
            Counter(label: PlatformMetricNames.swaps, dimensions: namespace, factory: factory).increment()
        case ("InferenceService", "RolledBack"):
            Counter(label: PlatformMetricNames.rollbacks, dimensions: namespace, factory: factory).increment()
        case ("InferenceService", "ValidationFailed"):
            Counter(label: PlatformMetricNames.validationFailures, dimensions: namespace, factory: factory).increment()
        case ("Notebook", "Culled"):
            Counter(label: PlatformMetricNames.notebooksCulled, dimensions: namespace, factory: factory).increment()
        default:
            break
        }
    }

    /// Creates a kind's transition series in a namespace at 0 (PlatformMetrics does, once per namespace seen):
    /// a counter that appears only at its first increment loses that increment to `increase()`.
    public func initialize(kind: String, namespace: String) {
        let dims = [("namespace", namespace)]
        switch kind {
        case "TrainingJob":
            _ = Timer(label: PlatformMetricNames.admissionWait, dimensions: dims, factory: factory)
            Counter(label: PlatformMetricNames.earlyStops, dimensions: dims, factory: factory).increment(by: 0)
            FloatingPointCounter(label: PlatformMetricNames.earlyStoppingSaved, dimensions: dims, factory: factory).increment(by: 0.0)
        case "InferenceService":
            for name in [PlatformMetricNames.swaps, PlatformMetricNames.rollbacks, PlatformMetricNames.validationFailures] {
                Counter(label: name, dimensions: dims, factory: factory).increment(by: 0)
            }
        case "Notebook":
            Counter(label: PlatformMetricNames.notebooksCulled, dimensions: dims, factory: factory).increment(by: 0)
        default:
            break
        }
    }

    /// How long a job waited before this admission: since its `Admitted` condition turned False (queued,
    /// refused as invalid until a node came), or since its creation when it never had one. Nil after a
    /// suspension (Kueue admits by unsuspending: its queue is Kueue's). A job suspended and later queued counts
    /// from its suspension (the condition's time moves only when its status flips).
    static func admissionWait(of job: JSONValue, at: Date) -> Double? {
        let admitted = job[path: "status", "conditions"]?.arrayValue?.first { $0["type"] == "Admitted" }
        let since: String?
        if let admitted {
            guard admitted["status"] == "False", admitted["reason"] != "Suspended" else { return nil }
            since = admitted["lastTransitionTime"]?.stringValue
        } else {
            since = job[path: "metadata", "creationTimestamp"]?.stringValue
        }
        guard let start = since.flatMap(Timestamp.parse) else { return nil }
        return max(0, at.timeIntervalSince(start))
    }

    /// GPU-seconds an early stop saved: the job's GPUs × the time left of its budget, `spec.activeDeadlineSeconds`
    /// counted from `status.startTime` as the deadline is (the whole budget when it had not started). A job
    /// without a deadline has no budget to measure against and saves 0: the figure never guesses how long a run
    /// would have gone on.
    static func savedGPUSeconds(of job: JSONValue, at: Date) -> Double {
        guard let deadline = job[path: "spec", "activeDeadlineSeconds"]?.intValue,
              let gpus = job[path: "status", "requestedGPUs"]?.intValue else { return 0 }
        let used = job[path: "status", "startTime"]?.stringValue.flatMap(Timestamp.parse).map { max(0, at.timeIntervalSince($0)) } ?? 0
        return Double(gpus) * max(0, Double(deadline) - used)
    }
}
