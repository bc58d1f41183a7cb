import KubeClient
import KubeCore

/// The production `ListerWatcher`: paged LIST and WATCH of one resource through `KubeClient`, optionally
/// scoped by namespace and label selector (child kinds are watched only where Gantry labels them). Objects are
/// decoded without `metadata.managedFields`: every store drops them, so they are never built.
public struct ClientListerWatcher: ListerWatcher {
    public let client: KubeClient
    public let type: ResourceType
    public let namespace: String?
    public let labelSelector: String?
    public let fieldSelector: String?
    public let notServedHint: String?

    public init(client: KubeClient, type: ResourceType, namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil,
                notServedHint: String? = nil) {
        self.client = client
        self.type = type
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.notServedHint = notServedHint
    }

    public var description: String { type.description }

    public func listAll() async throws -> (items: [JSONValue], resourceVersion: String) {
        let list = try await client.listAll(type, namespace: namespace,
                                            options: ListOptions(labelSelector: labelSelector, fieldSelector: fieldSelector), pageSize: 500,
                                            droppingManagedFields: true)
        return (list.items, list.resourceVersion)
    }

    /// Items projected while parsed: the parts of a Pod no reader declared are never built.
    public func listAll<T: Sendable>(projecting mask: FieldMask?, transform: @escaping @Sendable (JSONValue) -> T) async throws
        -> (items: [T], resourceVersion: String) {
        try await client.listAll(type, namespace: namespace, options: ListOptions(labelSelector: labelSelector, fieldSelector: fieldSelector),
                                 pageSize: 500, droppingManagedFields: true, itemMask: mask, transform: transform)
    }

    public func watch(resourceVersion: String, timeoutSeconds: Int) -> WatchEvents {
        watch(resourceVersion: resourceVersion, timeoutSeconds: timeoutSeconds, objectMask: nil)
    }

    /// Objects projected while parsed, as the lists' items are.
    public func watch(resourceVersion: String, timeoutSeconds: Int, projecting mask: FieldMask) -> WatchEvents {
        watch(resourceVersion: resourceVersion, timeoutSeconds: timeoutSeconds, objectMask: mask)
    }

    func watch(resourceVersion: String, timeoutSeconds: Int, objectMask: FieldMask?) -> WatchEvents {
        client.watch(type, namespace: namespace, options: ListOptions(
            labelSelector: labelSelector, fieldSelector: fieldSelector, resourceVersion: resourceVersion,
            timeoutSeconds: timeoutSeconds, allowWatchBookmarks: true), droppingManagedFields: true, objectMask: objectMask)
    }
}
