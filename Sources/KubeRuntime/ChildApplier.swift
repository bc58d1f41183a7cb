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
        for child in plan.desired {
            let ref = child.ref
            let observed = await stores[child.type]?.get(ObjectKey(namespace: child.type.namespaced ? child.object.namespace ?? namespace : nil, name: ref.name))
            if let observed {
                guard child.update == .correct, observed.deletionTimestamp == nil, let patch = Self.correction(child.object, observed: observed) else { continue }
                do {
                    _ = try await client.patch(child.type, namespace: child.type.namespaced ? namespace : nil, name: ref.name, patch: patch, patchType: .merge)
                    outcome.patched.append(ref)
                } catch let error as APIError where error.isInvalid {
                    throw ChildRejected(child: ref, message: error.message, created: outcome.created)
                }
                continue
            }
            do {
                _ = try await client.create(child.type, child.object, namespace: child.type.namespaced ? namespace : nil)
                outcome.created.append(ref)
            } catch let error as APIError where error.isAlreadyExists {
                // The cache was behind; the next event brings the object in.
            } catch let error as APIError where error.isInvalid {
                throw ChildRejected(child: ref, message: error.message, created: outcome.created)
            }
        }
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
                                    options: ref.uid.map { DeleteOptions(preconditionUID: $0) } ?? DeleteOptions())
            outcome.deleted.append(ref)
        }
        return outcome
    }

    struct ChildKey: Hashable { var type: ResourceType; var name: String }

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
