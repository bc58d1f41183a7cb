import KubeClient
import KubeCore

/// Adds and removes one controller's finalizer with JSON patches guarded by `test` operations (API-SEMANTICS
/// rule 12, 17): a concurrent edit of the list makes the patch fail (422 on a failed test) instead of
/// overwriting another controller's entry, and the queue retries from fresh state.
public enum Finalizers {
    public static func add(_ name: String, to object: JSONValue, type: ResourceType, client: KubeClient) async throws {
        let current = object.finalizers
        guard !current.contains(name), object.deletionTimestamp == nil, let objectName = object.name else { return }
        let ops: [JSONValue]
        if current.isEmpty {
            // "add" on a missing member creates it; the test pins the version the decision was made on.
            ops = [["op": "test", "path": "/metadata/resourceVersion", "value": .string(object.resourceVersion ?? "")],
                   ["op": "add", "path": "/metadata/finalizers", "value": [.string(name)]]]
        } else {
            ops = [["op": "test", "path": "/metadata/finalizers", "value": .array(current.map(JSONValue.string))],
                   ["op": "add", "path": "/metadata/finalizers/-", "value": .string(name)]]
        }
        _ = try await client.patch(type, namespace: object.namespace, name: objectName, patch: .array(ops), patchType: .json)
    }

    public static func remove(_ name: String, from object: JSONValue, type: ResourceType, client: KubeClient) async throws {
        guard let index = object.finalizers.firstIndex(of: name), let objectName = object.name else { return }
        let ops: [JSONValue] = [["op": "test", "path": .string("/metadata/finalizers/\(index)"), "value": .string(name)],
                                ["op": "remove", "path": .string("/metadata/finalizers/\(index)")]]
        do {
            _ = try await client.patch(type, namespace: object.namespace, name: objectName, patch: .array(ops), patchType: .json)
        } catch let error as APIError where error.isNotFound {
            // Already gone: the last finalizer was ours and someone else removed it.
        }
    }
}
