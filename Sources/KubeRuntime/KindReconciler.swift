import Foundation
import KubeClient
import KubeCore
import Logging

/// An event a plan asks to record on its object.
public struct PlannedEvent: Sendable, Hashable {
    public enum Kind: String, Sendable { case normal = "Normal", warning = "Warning" }
    public var type: Kind
    public var reason: String
    public var note: String
    /// Also sent to the platform's notification webhook (someone should hear of it outside the cluster).
    public var notify: Bool
    public init(_ type: Kind, _ reason: String, _ note: String, notify: Bool = false) {
        self.type = type
        self.reason = reason
        self.note = note
        self.notify = notify
    }
}

/// What one reconcile of a custom object should do: its children, the status it should leave, events.
public struct KindPlan<Status: Sendable & Hashable>: Sendable, Hashable {
    public var children = ChildPlan()
    public var status: Status
    public var events: [PlannedEvent] = []
    public var requeueAfter: Duration?
    public init(status: Status) { self.status = status }
}

/// What a planner is given: the object, its owned children by type (from the caches), what it gathered itself
/// (`inputs`), and the time.
public struct KindObservation<Kind: CustomResourceKind, Inputs: Sendable>: Sendable {
    public var object: CustomObject<Kind>
    public var children: [ResourceType: [JSONValue]]
    public var inputs: Inputs
    public var now: Date
    public init(object: CustomObject<Kind>, children: [ResourceType: [JSONValue]], inputs: Inputs, now: Date) {
        self.object = object
        self.children = children
        self.inputs = inputs
        self.now = now
    }
    public func children(_ type: ResourceType) -> [JSONValue] { children[type] ?? [] }
}

/// A kind's planner: a pure function from observation to plan, plus what it watches. Everything else
/// (reading caches, applying children, writing status only when it changed, events, refusals) is the framework's.
public protocol KindPlanner: Sendable {
    associatedtype Kind: CustomResourceKind where Kind.Status: ConditionedStatus
    /// What the plan needs beyond the object and its children (e.g. the platform's settings), read from caches.
    associatedtype Inputs: Sendable = Void
    typealias Observation = KindObservation<Kind, Inputs>
    /// Child kinds it plans, with the fields it reads of them (nil: all). Children are watched where Gantry
    /// labels them and enqueue their controller owner.
    var childTypes: [ResourceType: FieldMask?] { get }
    /// Reads the inputs (no writes: the plan decides every write).
    func inputs(for object: CustomObject<Kind>) async -> Inputs
    func plan(_ observation: Observation) -> KindPlan<Kind.Status>
}

extension KindPlanner where Inputs == Void {
    public func inputs(for object: CustomObject<Kind>) async {}
}

/// The reconcile loop every kind shares: read from the caches, plan, then status, children and events, each
/// write made only when something differs. Status goes first: a plan that deletes children (a stop, a swap) is on
/// record before they go, so a failed status write cannot make the next reconcile undo it.
public struct KindReconciler<Planner: KindPlanner>: Reconciler {
    public typealias Kind = Planner.Kind
    public let planner: Planner
    public let client: KubeClient
    public let primary: Store
    public let applier: ChildApplier
    public let events: EventRecorder
    public let clock: any RuntimeClock
    /// Where events marked `notify` go besides the Event API (the operator's webhook notifier).
    public let notify: @Sendable (_ object: JSONValue, _ event: PlannedEvent) async -> Void
    let logger: Logger

    public init(planner: Planner, client: KubeClient, primary: Store, children: [ResourceType: Store], events: EventRecorder,
                clock: any RuntimeClock = SystemClock(), notify: @escaping @Sendable (JSONValue, PlannedEvent) async -> Void = { _, _ in }) {
        self.notify = notify
        self.planner = planner
        self.client = client
        self.primary = primary
        self.applier = ChildApplier(client: client, stores: children)
        self.events = events
        self.clock = clock
        self.logger = Logger(label: "gantry.\(Kind.resourceType.kind.lowercased())")
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let stored = await primary.get(key), stored.deletionTimestamp == nil else { return .done }  // gone or going: GC
        let object: CustomObject<Kind>
        do {
            object = try CustomObject<Kind>(stored)
        } catch {
            try await reportUndecodable(stored, error)
            return .done
        }
        // A child refused for this generation is refused again: nothing is retried until the spec changes.
        if let stalled = object.status.conditions?[type: ConditionType.stalled], stalled.status == .true,
           stalled.reason == ChildRejected.reason, stalled.observedGeneration == object.generation { return .done }
        var children: [ResourceType: [JSONValue]] = [:]
        for (type, store) in applier.stores { children[type] = await store.owned(by: object.uid) }
        let inputs = await planner.inputs(for: object)
        let plan = planner.plan(KindObservation(object: object, children: children, inputs: inputs, now: clock.wallNow))
        if plan.status != object.status { try await writeStatus(stored, plan.status) }
        // The Events go out beside the children once the status holding their transition is on record, and
        // whether or not a child write fails: the next reconcile reads the transition as done and plans no Event
        // for it, so one held back until the children succeeded was lost (a swap whose Service patch failed, or
        // a cull whose pod delete failed, was never announced). A task of its own: a child's failure must not
        // cancel the announcement.
        let announcing = Task { [events, notify] in
            for event in plan.events {
                await events.record(regarding: stored, type: event.type.rawValue, reason: event.reason, note: event.note, action: "Reconcile")
                if event.notify { await notify(stored, event) }
            }
        }
        do {
            try await applier.apply(plan.children, ownerUID: object.uid, namespace: object.namespace)
        } catch let rejected as ChildRejected {
            await announcing.value
            try await markRejected(key, rejected)
            return .done
        } catch let conflict as ChildNameConflict {
            await announcing.value
            await conflict.report(regarding: stored, events: events, logger: logger)
            return .requeue(after: ChildNameConflict.recheck)
        } catch {
            await announcing.value
            throw error
        }
        await announcing.value
        return plan.requeueAfter.map { .requeue(after: $0) } ?? .done
    }

    func writeStatus(_ stored: JSONValue, _ status: Kind.Status) async throws {
        var updated = stored
        updated["status"] = try JSONValue(encoding: status).droppingNulls()
        _ = try await client.updateStatus(Kind.resourceType, updated)
    }

    /// A child refused by the API server is refused again on retry: Stalled until the spec changes, with the
    /// child and the server's reason named; children made before it are removed (no half-made set).
    func markRejected(_ key: ObjectKey, _ rejected: ChildRejected) async throws {
        let fresh = try await client.get(Kind.resourceType, namespace: key.namespace, name: key.name)
        var object = try CustomObject<Kind>(fresh)
        let message = "\(rejected.description). Correct the spec"
        var conditions = StatusConditions(object.status.conditions, generation: object.generation, now: Timestamp.format(clock.wallNow))
        conditions.markStalled(ChildRejected.reason, message, reconciling: "waiting for a corrected spec")
        let before = object.status
        object.status.conditions = conditions.list
        object.status.observedGeneration = object.generation
        if object.status != before { try await writeStatus(fresh, object.status) }
        await events.record(regarding: fresh, type: "Warning", reason: ChildRejected.reason, note: message, action: "Reconcile")
        for child in rejected.created {
            try await client.delete(child.type, namespace: child.namespace, name: child.name)
        }
    }

    /// A stored object that does not decode: a spec is reported Stalled on the object; a status is left
    /// untouched (rewriting it would lose what it held) and reported in an Event.
    func reportUndecodable(_ stored: JSONValue, _ error: CustomObjectDecodeError) async throws {
        logger.error("a stored object does not decode; not reconciling it", metadata: ["object": "\(stored.objectKey)", "error": "\(error)"])
        guard case .spec(let message) = error,
              var status = try? (stored["status"] ?? .emptyObject).decode(Kind.Status.self) else {
            await events.record(regarding: stored, type: "Warning", reason: "Undecodable", note: "\(error): not reconciled until it is readable", action: "Reconcile")
            return
        }
        var conditions = StatusConditions(status.conditions, generation: stored.generation ?? 0, now: Timestamp.format(clock.wallNow))
        conditions.markStalled("InvalidSpec", message, reconciling: "waiting for a corrected spec")
        status.conditions = conditions.list
        status.observedGeneration = stored.generation
        if status != (try? (stored["status"] ?? .emptyObject).decode(Kind.Status.self)) { try await writeStatus(stored, status) }
    }
}

extension ChildRejected {
    /// The condition reason of a child the API server refused.
    public static let reason = "ChildRejected"
}

/// A planner's working state: the status and plan being built and the conditions (with the generation and time
/// they carry). `finished()` puts the conditions into the status and the status into the plan.
public protocol StatusPlanning {
    associatedtype Status: ConditionedStatus
    var status: Status { get }
    var conditions: StatusConditions { get }
    var plan: KindPlan<Status> { get }
}

extension StatusPlanning {
    public func finished() -> KindPlan<Status> {
        var plan = self.plan
        var status = self.status
        status.conditions = conditions.list
        plan.status = status
        return plan
    }
}
