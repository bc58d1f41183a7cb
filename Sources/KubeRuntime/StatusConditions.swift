import KubeCore

/// Condition types every Gantry kind writes, as kstatus reads them (API-SEMANTICS rule 22): Flux, Argo CD and
/// `kubectl wait` judge an object by these three.
public enum ConditionType {
    /// The object is reconciled and healthy (or, for a run, ended as designed).
    public static let ready = "Ready"
    /// Work toward the spec is in progress.
    public static let reconciling = "Reconciling"
    /// It cannot progress until someone changes something.
    public static let stalled = "Stalled"
}

/// A status's conditions being rewritten by one reconcile: every condition set here carries the generation it
/// was computed from, and `lastTransitionTime` moves only when a status flips (rule 11). The `mark` operations
/// keep the kstatus group consistent, so no writer can leave Ready and Stalled both true.
public struct StatusConditions: Sendable, Hashable {
    public private(set) var list: [Condition]
    public let generation: Int64
    public let now: String

    public init(_ list: [Condition]?, generation: Int64, now: String) {
        self.list = list ?? []
        self.generation = generation
        self.now = now
    }

    public subscript(type: String) -> Condition? { list[type: type] }
    public func isTrue(_ type: String) -> Bool { list.isTrue(type) }

    public mutating func set(_ type: String, _ status: Condition.Status, _ reason: String, _ message: String) {
        list.set(Condition(type: type, status: status, reason: reason, message: message, observedGeneration: generation), now: now)
    }

    public mutating func remove(_ type: String) { list.remove(type: type) }

    /// Reconciled and healthy: Ready, not Reconciling, not Stalled.
    public mutating func markReady(_ reason: String, _ message: String, settled: String? = nil) {
        set(ConditionType.ready, .true, reason, message)
        set(ConditionType.reconciling, .false, reason, settled ?? message)
        remove(ConditionType.stalled)
    }

    /// Working toward the spec: not Ready yet, Reconciling (Stalled is left to whoever set it).
    public mutating func markReconciling(_ reason: String, _ message: String, ready: String? = nil) {
        set(ConditionType.ready, .false, reason, ready ?? message)
        set(ConditionType.reconciling, .true, reason, message)
    }

    /// Cannot progress without a change by someone: Stalled, not Ready, not Reconciling.
    public mutating func markStalled(_ reason: String, _ message: String, reconciling: String? = nil) {
        set(ConditionType.stalled, .true, reason, message)
        set(ConditionType.ready, .false, reason, message)
        set(ConditionType.reconciling, .false, reason, reconciling ?? message)
    }

    /// Deliberately at rest without being ready (suspended, stopped): neither Ready nor Reconciling nor Stalled.
    public mutating func markIdle(_ reason: String, _ message: String) {
        set(ConditionType.ready, .false, reason, message)
        set(ConditionType.reconciling, .false, reason, message)
        remove(ConditionType.stalled)
    }
}
