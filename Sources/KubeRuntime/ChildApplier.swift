import KubeClient
import KubeCore
import Logging

/// Makes a `ChildPlan` true with the fewest requests: a missing child is created, a drifted one gets one merge
/// patch of the fields Gantry sets, an undesired one is deleted, and a child already as desired costs nothing.
/// "As desired" is read from the informers' stores, so each child kind a plan corrects must be cached with the
/// fields it sets (declared through `SharedInformers`' field masks).
public struct ChildApplier: Sendable {
    public let client: KubeClient
    /// The caches of the child kinds, by type.
    public let stores: [ResourceType: Store]
    let logger = Logger(label: "gantry.children")

    public init(client: KubeClient, stores: [ResourceType: Store]) {
        self.client = client
        self.stores = stores
    }

    public struct Outcome: Sendable, Hashable {
        public var created: [ChildRef] = []
        public var patched: [ChildRef] = []
        public var deleted: [ChildRef] = []
    }

    /// Applies `plan` for the owner with `ownerUID` in `namespace`. A child the API server refuses (422) throws
    /// `ChildRejected` naming it and the children created before it; a child whose name another object holds
    /// throws `ChildNameConflict`.
    @discardableResult
    public func apply(_ plan: ChildPlan, ownerUID: String, namespace: String?) async throws -> Outcome {
        var outcome = Outcome()
        // Children are applied in the plan's order, but a run of missing ones is created concurrently (one
        // round trip instead of one per child), pods after the Services, ConfigMaps and DaemonSets before them
        // in the run, as a gang's pods are created together.
        var batch: [Child] = []
        for child in plan.desired {
            let ref = child.ref
            let store = stores[child.type]
            let key = Self.key(of: child, namespace: namespace)
            let observed = await store?.get(key)
            guard let observed else {
                // Created by an earlier reconcile, not yet seen by the watch: its event will reconcile again.
                if await store?.isPendingCreate(key) == true { continue }
                if child.type == .pods, batch.contains(where: { $0.type != .pods }) {
                    try await create(batch, ownerUID: ownerUID, namespace: namespace, outcome: &outcome)
                    batch = []
                }
                batch.append(child)
                continue
            }
            guard child.update == .correct, observed.deletionTimestamp == nil, let patch = Self.correction(child.object, observed: observed) else { continue }
            try await create(batch, ownerUID: ownerUID, namespace: namespace, outcome: &outcome)
            batch = []
            do {
                _ = try await client.patch(child.type, namespace: child.type.namespaced ? namespace : nil, name: ref.name, patch: patch, patchType: .merge)
                outcome.patched.append(ref)
            } catch let error as APIError where error.isInvalid {
                throw ChildRejected(child: ref, message: error.message, created: outcome.created)
            }
        }
        try await create(batch, ownerUID: ownerUID, namespace: namespace, outcome: &outcome)
        var deletions = plan.delete
        let wanted = Set(plan.desired.map { ChildKey(type: $0.type, name: $0.name) })
        for type in plan.prune.sorted(by: { $0.description < $1.description }) {
            for object in await stores[type]?.owned(by: ownerUID) ?? [] where object.deletionTimestamp == nil {
                guard let name = object.name, !wanted.contains(ChildKey(type: type, name: name)) else { continue }
                deletions.append(ChildRef(type: type, namespace: object.namespace, name: name, uid: object.uid))
            }
        }
        for ref in deletions {
            try await client.delete(ref.type, namespace: ref.type.namespaced ? ref.namespace ?? namespace : nil, name: ref.name,
                                    options: DeleteOptions(propagationPolicy: plan.foreground.contains(ref.type) ? .foreground : nil, preconditionUID: ref.uid))
            outcome.deleted.append(ref)
        }
        return outcome
    }

    static func key(of child: Child, namespace: String?) -> ObjectKey {
        ObjectKey(namespace: child.type.namespaced ? child.object.namespace ?? namespace : nil, name: child.ref.name)
    }

    struct ChildKey: Hashable { var type: ResourceType; var name: String }

    /// At most this many creates in flight for one owner (a gang of hundreds is created in batches).
    static let createConcurrency = 16

    /// Creates `children`; the first refusal (422) is thrown after every create in flight has answered,
    /// naming all that were created, so the caller can remove a half-made set. A name already taken is this
    /// owner's child the cache has not seen yet, or another's object (a user's Service under the job's name):
    /// one read tells which, and the second is a `ChildNameConflict`, never adopted or overwritten. The later
    /// batches (the pods, after the Services) are not made.
    private func create(_ children: [Child], ownerUID: String, namespace: String?, outcome: inout Outcome) async throws {
        guard !children.isEmpty else { return }
        enum Answer: Sendable { case created(ChildRef), exists, conflict(ChildRef, String), rejected(ChildRef, String), failed(any Error) }
        var answers: [Int: Answer] = [:]
        await withTaskGroup(of: (Int, Answer).self) { group in
            var next = 0
            func add(_ group: inout TaskGroup<(Int, Answer)>) {
                let i = next, child = children[i]
                next += 1
                group.addTask {
                    do {
                        _ = try await client.create(child.type, child.object, namespace: child.type.namespaced ? namespace : nil)
                        await stores[child.type]?.expectCreated(Self.key(of: child, namespace: namespace))
                        return (i, .created(child.ref))
                    } catch let error as APIError where error.isAlreadyExists {
                        let key = Self.key(of: child, namespace: namespace)
                        // Unread, the holder may be another's: the reconcile is retried rather than going on to the pods.
                        let holder: JSONValue
                        do { holder = try await client.get(child.type, namespace: key.namespace, name: child.ref.name) } catch { return (i, .failed(error)) }
                        if !Self.isOurs(holder, child: child, ownerUID: ownerUID) {
                            // A former owner's child of the same name (deleted and applied again) is going: retried with the
                            // queue's backoff, no Warning.
                            if Self.isReleasing(holder, child: child) { return (i, .failed(ChildNameReleasing(child: child.ref))) }
                            return (i, .conflict(child.ref, Self.holderDescription(holder)))
                        }
                        await stores[child.type]?.expectCreated(key)
                        return (i, .exists)  // the cache was behind; the next event brings the object in
                    } catch let error as APIError where error.isInvalid {
                        return (i, .rejected(child.ref, error.message))
                    } catch {
                        return (i, .failed(error))
                    }
                }
            }
            for _ in 0..<min(Self.createConcurrency, children.count) { add(&group) }
            while let (i, answer) = await group.next() {
                answers[i] = answer
                if next < children.count { add(&group) }
            }
        }
        var rejection: (ChildRef, String)?
        var conflict: (ChildRef, String)?
        var failure: (any Error)?
        for i in children.indices {
            switch answers[i] {
            case .created(let ref): outcome.created.append(ref)
            case .rejected(let ref, let message): rejection = rejection ?? (ref, message)
            case .conflict(let ref, let holder): conflict = conflict ?? (ref, holder)
            case .failed(let error): failure = failure ?? error
            case .exists, nil: break
            }
        }
        if let (ref, message) = rejection { throw ChildRejected(child: ref, message: message, created: outcome.created) }
        if let (ref, holder) = conflict { throw ChildNameConflict(child: ref, holder: holder) }
        if let failure { throw failure }
    }

    /// Whether the object holding a child's name is that child: owned by this owner, or owned by nobody and
    /// carrying every label the child would (made unowned on purpose by an owner of the same name, as a Notebook's
    /// retained workspace claim, and reused as it was meant to be).
    public static func isOurs(_ holder: JSONValue, child: Child, ownerUID: String) -> Bool {
        let owners = holder.ownerReferences
        if owners.contains(where: { $0.uid == ownerUID }) { return true }
        guard owners.isEmpty, let labels = child.object[path: "metadata", "labels"], labels != .emptyObject else { return false }
        return (holder[path: "metadata", "labels"] ?? .emptyObject).contains(labels)
    }

    /// Whether the name's holder is on its way out: being deleted, or the child of an earlier owner of the same
    /// kind and name, which the garbage collector deletes.
    public static func isReleasing(_ holder: JSONValue, child: Child) -> Bool {
        if holder.deletionTimestamp != nil { return true }
        let wanted = Set(child.object.ownerReferences.map { "\($0.kind)/\($0.name)" })
        return holder.ownerReferences.contains { wanted.contains("\($0.kind)/\($0.name)") }
    }

    /// "owned by TrainingJob other" or "not owned by any object", for the conflict's message.
    static func holderDescription(_ object: JSONValue) -> String {
        let owners = object.ownerReferences.map { "\($0.kind) \($0.name)" }
        return owners.isEmpty ? "not owned by any object" : "owned by \(owners.joined(separator: ", "))"
    }

    /// The merge patch that brings `observed` back to `desired`, or nil when nothing Gantry sets differs.
    /// Labels and annotations are merged key by key (others' keys stay); each other top-level section that
    /// differs is sent whole (a merge patch merges nested objects and replaces lists). The resourceVersion pins
    /// the version the decision was made on: a concurrent edit answers 409 and the queue retries.
    public static func correction(_ desired: JSONValue, observed: JSONValue) -> JSONValue? {
        var patch: [String: JSONValue] = [:]
        var metadata: [String: JSONValue] = [:]
        for field in ["labels", "annotations"] {
            guard let want = desired[path: "metadata", field], !(observed[path: "metadata", field] ?? .emptyObject).contains(want) else { continue }
            metadata[field] = want
        }
        for (key, want) in desired.objectValue ?? [:] where !["apiVersion", "kind", "metadata", "status"].contains(key) {
            if !(observed[key] ?? .null).contains(want) { patch[key] = want }
        }
        guard !patch.isEmpty || !metadata.isEmpty else { return nil }
        metadata["resourceVersion"] = observed[path: "metadata", "resourceVersion"]
        patch["metadata"] = .object(metadata)
        return .object(patch)
    }
}

/// A planned child's name is held by an object its owner does not own. Creating it cannot succeed until that
/// object goes or the owner is made again under another name; the reconcile is tried again every `recheck`
/// (the holder is outside the informers' selectors, so its deletion brings no event).
public struct ChildNameConflict: Error, Sendable, CustomStringConvertible {
    public var child: ChildRef
    /// Who holds the name: "owned by Kind name", or "not owned by any object".
    public var holder: String
    public static let reason = "ChildNameConflict"
    public static let recheck: Duration = .seconds(10)
    public var description: String {
        "\(child) already exists and is \(holder): Gantry neither adopts nor overwrites it. Delete or rename it, or apply this object under another name"
    }

    /// Logs the conflict and records it as a Warning Event on the owner; the caller requeues after `recheck`.
    public func report(regarding owner: JSONValue, events: EventRecorder, logger: Logger) async {
        logger.warning("a child's name is taken", metadata: ["object": "\(owner.objectKey)", "conflict": "\(self)"])
        await events.record(regarding: owner, type: "Warning", reason: Self.reason, note: description, action: "Reconcile")
    }
}

/// A planned child's name is held by an object that is going (an earlier owner's of the same name): the reconcile is
/// retried with the queue's backoff.
struct ChildNameReleasing: Error, CustomStringConvertible {
    var child: ChildRef
    var description: String { "\(child) still exists from an earlier owner of the same name; waiting for it to go" }
}

/// The API server refused a planned child (422): retrying the same plan cannot succeed.
public struct ChildRejected: Error, Sendable, CustomStringConvertible {
    public var child: ChildRef
    public var message: String
    /// Children this apply created before the refusal (a caller may remove a half-made set).
    public var created: [ChildRef]
    public var description: String { "the API server refused the \(child): \(message)" }
}
