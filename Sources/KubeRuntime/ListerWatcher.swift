import KubeCore

/// The source a reflector reads: a full (paged) list and a watch from a resource version.
///
/// An abstraction over `KubeClient` so the reflector's state machine can also be driven by scripted sources
/// in unit tests; production code uses `ClientListerWatcher`.
/// A stream of watch events; iterated once. Backpressure reaches the transfer (no unbounded buffer between).
public typealias WatchEvents = any AsyncSequence<WatchEvent, any Error> & Sendable

public protocol ListerWatcher: Sendable {
    /// A complete, consistent snapshot (all pages of one list), and the list's resourceVersion.
    func listAll() async throws -> (items: [JSONValue], resourceVersion: String)
    /// The same list with each item projected by `mask` (when given: exactly `mask.project(item)`, by the source
    /// while it parses when it can) and transformed as its page arrives, so a large list is never held whole in
    /// full objects.
    func listAll<T: Sendable>(projecting mask: FieldMask?, transform: @escaping @Sendable (JSONValue) -> T) async throws
        -> (items: [T], resourceVersion: String)
    /// Events after `resourceVersion`, until the server ends the stream (its timeout) or an error.
    func watch(resourceVersion: String, timeoutSeconds: Int) -> WatchEvents
    /// The same events with the object of each ADDED, MODIFIED and DELETED event projected by `mask` (exactly
    /// `mask.project(object)`, by the source while it parses when it can).
    func watch(resourceVersion: String, timeoutSeconds: Int, projecting mask: FieldMask) -> WatchEvents
    /// What to call this source in logs and metrics (`pods`, `trainingjobs.gantry.dev`).
    var description: String { get }
    /// What to tell the person running the operator when the server answers 404 to the list: the resource
    /// is not served, most often because a CustomResourceDefinition was never applied (nil: a generic hint).
    var notServedHint: String? { get }
}

extension ListerWatcher {
    public var notServedHint: String? { nil }

    public func listAll<T: Sendable>(projecting mask: FieldMask?, transform: @escaping @Sendable (JSONValue) -> T) async throws
        -> (items: [T], resourceVersion: String) {
        let (items, resourceVersion) = try await listAll()
        return (items.map { transform(mask?.project($0) ?? $0) }, resourceVersion)
    }

    public func watch(resourceVersion: String, timeoutSeconds: Int, projecting mask: FieldMask) -> WatchEvents {
        projecting(watch(resourceVersion: resourceVersion, timeoutSeconds: timeoutSeconds), mask)
    }
}

/// `events` with each resource event's object projected by `mask` (generic: `map` needs the concrete sequence).
private func projecting<Events: AsyncSequence & Sendable>(_ events: Events, _ mask: FieldMask) -> WatchEvents
where Events.Element == WatchEvent, Events.Failure == any Error {
    events.map { @Sendable event -> WatchEvent in
        switch event {
        case .added(let object): .added(mask.project(object))
        case .modified(let object): .modified(mask.project(object))
        case .deleted(let object): .deleted(mask.project(object))
        case .bookmark, .error: event
        }
    }
}
