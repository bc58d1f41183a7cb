/// Typed views over Kubernetes objects that stay JSON underneath.
///
/// A model (`Pod`, `Lease`, …) stores the object exactly as the server sent it and reads and writes its fields
/// through typed properties. Fields the model does not name — newer API fields, other controllers' additions,
/// server defaults — are never dropped: an update sends back everything that was received, with only the
/// typed changes applied. `Codable` encodes and decodes the whole object.
public protocol JSONBacked: Codable, Sendable, Hashable {
    var json: JSONValue { get set }
    init(json: JSONValue)
}

extension JSONBacked {
    public init(from decoder: any Decoder) throws { self.init(json: try JSONValue(from: decoder)) }
    public func encode(to encoder: any Encoder) throws { try json.encode(to: encoder) }

    // MARK: field helpers for the models

    public func string(_ key: String) -> String? { json[key]?.stringValue }
    public mutating func setString(_ key: String, _ value: String?) { json[key] = value.map(JSONValue.string) }

    public func int(_ key: String) -> Int64? { json[key]?.intValue }
    public mutating func setInt(_ key: String, _ value: Int64?) { json[key] = value.map(JSONValue.int) }

    public func bool(_ key: String) -> Bool? { json[key]?.boolValue }
    public mutating func setBool(_ key: String, _ value: Bool?) { json[key] = value.map(JSONValue.bool) }

    public func strings(_ key: String) -> [String] { json[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
    public mutating func setStrings(_ key: String, _ value: [String]) {
        json[key] = value.isEmpty ? nil : .array(value.map(JSONValue.string))
    }

    public func stringMap(_ key: String) -> [String: String] { json[key]?.objectValue?.compactMapValues(\.stringValue) ?? [:] }
    public mutating func setStringMap(_ key: String, _ value: [String: String]) {
        json[key] = value.isEmpty ? nil : .object(value.mapValues(JSONValue.string))
    }

    /// A nested object as its view (empty when absent).
    public func nested<T: JSONBacked>(_ key: String) -> T { T(json: json[key] ?? .emptyObject) }
    /// Writes a nested view back. An empty object is not added where there was none (reading and writing back an
    /// absent `status` must not invent one), but an existing one is kept (`emptyDir: {}` means something).
    public mutating func setNested<T: JSONBacked>(_ key: String, _ value: T) {
        if value.json == .emptyObject && json[key] == nil { return }
        json[key] = value.json
    }

    public func list<T: JSONBacked>(_ key: String) -> [T] { (json[key]?.arrayValue ?? []).map { T(json: $0) } }
    public mutating func setList<T: JSONBacked>(_ key: String, _ value: [T]) {
        json[key] = value.isEmpty ? nil : .array(value.map(\.json))
    }

    /// Conditions as values (read-only: writers of status conditions build the whole list). Lenient like
    /// the API: built-in kinds leave `reason`, `message` and even `lastTransitionTime` out.
    public func conditions(_ key: String = "conditions") -> [Condition] {
        (json[key]?.arrayValue ?? []).compactMap { c in
            guard let type = c["type"]?.stringValue, let status = c["status"]?.stringValue.flatMap(Condition.Status.init) else { return nil }
            return Condition(type: type, status: status, reason: c["reason"]?.stringValue ?? "", message: c["message"]?.stringValue ?? "",
                             lastTransitionTime: c["lastTransitionTime"]?.stringValue ?? "", observedGeneration: c["observedGeneration"]?.intValue)
        }
    }
}

/// Anything with a `metadata` of labels and annotations: objects and pod templates.
public protocol HasLabels: JSONBacked {}

extension HasLabels {
    public var labels: [String: String] {
        get { json.labels }
        set { json.labels = newValue }
    }
    public var annotations: [String: String] {
        get { json.annotations }
        set { json.annotations = newValue }
    }
}

/// A top-level object of one kind: its `ResourceType` (for the typed verbs of KubeClient) and metadata.
public protocol KubeResource: HasLabels {
    static var resourceType: ResourceType { get }
}

extension KubeResource {
    /// A new object of this kind: `apiVersion`, `kind` and `metadata.name` (and namespace) set.
    public init(name: String, namespace: String? = nil) {
        var o: JSONValue = ["apiVersion": .string(Self.resourceType.apiVersion), "kind": .string(Self.resourceType.kind),
                            "metadata": ["name": .string(name)]]
        if let namespace { o.namespace = namespace }
        self.init(json: o)
    }

    public var name: String? {
        get { json.name }
        set { json.name = newValue }
    }
    public var namespace: String? {
        get { json.namespace }
        set { json.namespace = newValue }
    }
    public var uid: String? { json.uid }
    public var resourceVersion: String? {
        get { json.resourceVersion }
        set { json.resourceVersion = newValue }
    }
    public var generation: Int64? { json.generation }
    public var creationTimestamp: String? { json.creationTimestamp }
    public var deletionTimestamp: String? { json.deletionTimestamp }
    public var finalizers: [String] {
        get { json.finalizers }
        set { json.finalizers = newValue }
    }
    public var ownerReferences: [OwnerReference] {
        get { json.ownerReferences }
        set { json.ownerReferences = newValue }
    }
    public var objectKey: ObjectKey { json.objectKey }
}

/// Any nested object the models do not name further, kept whole (volumes, affinity, probes, …).
public struct RawObject: JSONBacked {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }
}
