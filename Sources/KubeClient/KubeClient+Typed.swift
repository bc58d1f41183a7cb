import KubeCore

/// A page (or a whole list) of typed objects.
public struct TypedList<T: KubeResource>: Sendable, Hashable {
    public var items: [T]
    /// The list's `metadata.resourceVersion`: where a watch should start.
    public var resourceVersion: String
    /// `metadata.continue`; nil on the last page.
    public var continueToken: String?
}

/// The verbs with typed models (`Pod`, `Lease`, …, any `KubeResource`): the same requests as the unstructured
/// verbs, whose JSON the models wrap without losing a field, so `update` sends back what it did not model.
extension KubeClient {
    public func get<T: KubeResource>(_ type: T.Type, namespace: String?, name: String) async throws -> T {
        T(json: try await get(T.resourceType, namespace: namespace, name: name))
    }

    public func list<T: KubeResource>(_ type: T.Type, namespace: String?, options: ListOptions = .init()) async throws -> TypedList<T> {
        Self.typed(try await list(T.resourceType, namespace: namespace, options: options))
    }

    /// Every page (see the unstructured `listAll`).
    public func listAll<T: KubeResource>(_ type: T.Type, namespace: String?, options: ListOptions = .init(),
                                         pageSize: Int = 500) async throws -> TypedList<T> {
        Self.typed(try await listAll(T.resourceType, namespace: namespace, options: options, pageSize: pageSize))
    }

    public func create<T: KubeResource>(_ object: T, namespace: String? = nil, dryRun: Bool = false) async throws -> T {
        T(json: try await create(T.resourceType, object.json, namespace: namespace, dryRun: dryRun))
    }

    /// PUT with the object's resourceVersion: a stale one answers 409 Conflict.
    public func update<T: KubeResource>(_ object: T, dryRun: Bool = false) async throws -> T {
        T(json: try await update(T.resourceType, object.json, dryRun: dryRun))
    }

    public func updateStatus<T: KubeResource>(_ object: T) async throws -> T {
        T(json: try await updateStatus(T.resourceType, object.json))
    }

    public func patch<T: KubeResource>(_ type: T.Type, namespace: String?, name: String, patch: JSONValue, patchType: PatchType = .merge,
                                       fieldManager: String? = nil, force: Bool = false) async throws -> T {
        T(json: try await self.patch(T.resourceType, namespace: namespace, name: name, patch: patch, patchType: patchType,
                                     fieldManager: fieldManager, force: force))
    }

    public func delete<T: KubeResource>(_ type: T.Type, namespace: String?, name: String, options: DeleteOptions = .init()) async throws {
        try await delete(T.resourceType, namespace: namespace, name: name, options: options)
    }

    static func typed<T: KubeResource>(_ list: ObjectList) -> TypedList<T> {
        TypedList(items: list.items.map { T(json: $0) }, resourceVersion: list.resourceVersion, continueToken: list.continueToken)
    }
}
