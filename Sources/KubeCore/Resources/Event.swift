/// events.k8s.io/v1 Event: what controllers record (`EventRecorder`).
public struct Event: KubeResource {
    public static let resourceType = ResourceType.events
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }
    public var regarding: ObjectReference { get { nested("regarding") } set { setNested("regarding", newValue) } }
    public var reason: String? { get { string("reason") } set { setString("reason", newValue) } }
    public var note: String? { get { string("note") } set { setString("note", newValue) } }
    /// `Normal` or `Warning`.
    public var type: String? { get { string("type") } set { setString("type", newValue) } }
    public var action: String? { get { string("action") } set { setString("action", newValue) } }
    public var reportingController: String? { get { string("reportingController") } set { setString("reportingController", newValue) } }
    public var reportingInstance: String? { get { string("reportingInstance") } set { setString("reportingInstance", newValue) } }
    public var eventTime: String? { get { string("eventTime") } set { setString("eventTime", newValue) } }
    /// Repeats folded into one event: `series.count` and `series.lastObservedTime`.
    public var seriesCount: Int64? { json[path: "series", "count"]?.intValue }
}

/// core/v1 Event: what `kubectl describe` and older tools read.
public struct CoreEvent: KubeResource {
    public static let resourceType = ResourceType.coreEvents
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }
    public var involvedObject: ObjectReference { get { nested("involvedObject") } set { setNested("involvedObject", newValue) } }
    public var reason: String? { get { string("reason") } set { setString("reason", newValue) } }
    public var message: String? { get { string("message") } set { setString("message", newValue) } }
    public var type: String? { get { string("type") } set { setString("type", newValue) } }
    public var count: Int64? { get { int("count") } set { setInt("count", newValue) } }
    public var firstTimestamp: String? { get { string("firstTimestamp") } set { setString("firstTimestamp", newValue) } }
    public var lastTimestamp: String? { get { string("lastTimestamp") } set { setString("lastTimestamp", newValue) } }
}

/// A reference to an object (`regarding`, `involvedObject`).
public struct ObjectReference: JSONBacked {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }
    public var apiVersion: String? { get { string("apiVersion") } set { setString("apiVersion", newValue) } }
    public var kind: String? { get { string("kind") } set { setString("kind", newValue) } }
    public var namespace: String? { get { string("namespace") } set { setString("namespace", newValue) } }
    public var name: String? { get { string("name") } set { setString("name", newValue) } }
    public var uid: String? { get { string("uid") } set { setString("uid", newValue) } }
}
