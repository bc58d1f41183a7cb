/// Typed access to `metadata` of any object held as a `JSONValue`.
///
/// Objects stay untyped underneath so that fields the operator does not model survive every update.
public struct OwnerReference: Sendable, Hashable, Codable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool?
    public var blockOwnerDeletion: Bool?

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool? = true, blockOwnerDeletion: Bool? = true) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }

    public init?(_ value: JSONValue) {
        guard let apiVersion = value["apiVersion"]?.stringValue, let kind = value["kind"]?.stringValue,
            let name = value["name"]?.stringValue, let uid = value["uid"]?.stringValue
        else { return nil }
        self.init(apiVersion: apiVersion, kind: kind, name: name, uid: uid,
                  controller: value["controller"]?.boolValue, blockOwnerDeletion: value["blockOwnerDeletion"]?.boolValue)
    }

    public var jsonValue: JSONValue {
        var v: JSONValue = ["apiVersion": .string(apiVersion), "kind": .string(kind), "name": .string(name), "uid": .string(uid)]
        if let controller { v["controller"] = .bool(controller) }
        if let blockOwnerDeletion { v["blockOwnerDeletion"] = .bool(blockOwnerDeletion) }
        return v
    }
}

extension JSONValue {
    public var apiVersion: String? { self["apiVersion"]?.stringValue }
    public var kind: String? { self["kind"]?.stringValue }

    public var name: String? {
        get { self[path: "metadata", "name"]?.stringValue }
        set { self[path: "metadata", "name"] = newValue.map(JSONValue.string) }
    }
    public var namespace: String? {
        get { self[path: "metadata", "namespace"]?.stringValue }
        set { self[path: "metadata", "namespace"] = newValue.map(JSONValue.string) }
    }
    public var uid: String? { self[path: "metadata", "uid"]?.stringValue }
    public var resourceVersion: String? {
        get { self[path: "metadata", "resourceVersion"]?.stringValue }
        set { self[path: "metadata", "resourceVersion"] = newValue.map(JSONValue.string) }
    }
    public var generation: Int64? { self[path: "metadata", "generation"]?.intValue }
    public var deletionTimestamp: String? { self[path: "metadata", "deletionTimestamp"]?.stringValue }
    public var creationTimestamp: String? { self[path: "metadata", "creationTimestamp"]?.stringValue }

    public var labels: [String: String] {
        get { Self.stringMap(self[path: "metadata", "labels"]) }
        set { self[path: "metadata", "labels"] = newValue.isEmpty ? nil : .object(newValue.mapValues(JSONValue.string)) }
    }
    public var annotations: [String: String] {
        get { Self.stringMap(self[path: "metadata", "annotations"]) }
        set { self[path: "metadata", "annotations"] = newValue.isEmpty ? nil : .object(newValue.mapValues(JSONValue.string)) }
    }
    public var finalizers: [String] {
        get { self[path: "metadata", "finalizers"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        set { self[path: "metadata", "finalizers"] = newValue.isEmpty ? nil : .array(newValue.map(JSONValue.string)) }
    }
    public var ownerReferences: [OwnerReference] {
        get { self[path: "metadata", "ownerReferences"]?.arrayValue?.compactMap(OwnerReference.init) ?? [] }
        set { self[path: "metadata", "ownerReferences"] = newValue.isEmpty ? nil : .array(newValue.map(\.jsonValue)) }
    }
    /// The owner with `controller: true`, if any (at most one may exist).
    public var controllerReference: OwnerReference? { ownerReferences.first { $0.controller == true } }

    /// `namespace/name` (or `name` for cluster-scoped objects): the key of caches and work queues.
    public var objectKey: ObjectKey { ObjectKey(namespace: namespace, name: name ?? "") }

    static func stringMap(_ v: JSONValue?) -> [String: String] {
        guard let o = v?.objectValue else { return [:] }
        return o.compactMapValues(\.stringValue)
    }
}

/// Identifies one object of a kind: namespace (nil when cluster-scoped) and name.
public struct ObjectKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var namespace: String?
    public var name: String

    public init(namespace: String?, name: String) {
        self.namespace = (namespace?.isEmpty ?? true) ? nil : namespace
        self.name = name
    }

    /// Parses `ns/name` or `name`.
    public init(_ string: String) {
        if let slash = string.firstIndex(of: "/") {
            self.init(namespace: String(string[..<slash]), name: String(string[string.index(after: slash)...]))
        } else {
            self.init(namespace: nil, name: string)
        }
    }

    public var description: String { namespace.map { "\($0)/\(name)" } ?? name }
    public static func < (a: ObjectKey, b: ObjectKey) -> Bool { a.description < b.description }
}
