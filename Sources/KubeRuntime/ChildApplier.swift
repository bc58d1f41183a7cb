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
    /// `ChildRejected` naming it and the children created before it.
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
                    try await create(batch, namespace: namespace, outcome: &outcome)
                    batch = []
                }
                batch.append(child)
                continue
            }
            guard child.update == .correct, observed.deletionTimestamp == nil, let patch = Self.correction(child.object, observed: observed) else { continue }
            try await create(batch, namespace: namespace, outcome: &outcome)
            batch = []
            do {
                _ = try await client.patch(child.type, namespace: child.type.namespaced ? namespace : nil, name: ref.name, patch: patch, patchType: .merge)
                outcome.patched.append(ref)
            } catch let error as APIError where error.isInvalid {
                throw ChildRejected(child: ref, message: error.message, created: outcome.created)
            }
        }
        try await create(batch, namespace: namespace, outcome: &outcome)
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
    /// naming all that were created, so the caller can remove a half-made set.
    private func create(_ children: [Child], namespace: String?, outcome: inout Outcome) async throws {
        guard !children.isEmpty else { return }
        enum Answer: Sendable { case created(ChildRef), exists, rejected(ChildRef, String), failed(any Error) }
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
                        await stores[child.type]?.expectCreated(Self.key(of: child, namespace: namespace))
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
        var failure: (any Error)?
        for i in children.indices {
            switch answers[i] {
            case .created(let ref): outcome.created.append(ref)
            case .rejected(let ref, let message): rejection = rejection ?? (ref, message)
            case .failed(let error): failure = failure ?? error
            case .exists, nil: break
            }
        }
        if let (ref, message) = rejection { throw ChildRejected(child: ref, message: message, created: outcome.created) }
        if let failure { throw failure }
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

/// The API server refused a planned child (422): retrying the same plan cannot succeed.
public struct ChildRejected: Error, Sendable, CustomStringConvertible {
    public var child: ChildRef
    public var message: String
    /// Children this apply created before the refusal (a caller may remove a half-made set).
    public var created: [ChildRef]
    public var description: String { "the API server refused the \(child): \(message)" }
}
