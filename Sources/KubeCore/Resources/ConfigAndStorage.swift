import Foundation

/// core/v1 ConfigMap.
public struct ConfigMap: KubeResource {
    public static let resourceType = ResourceType.configMaps
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }
    public var data: [String: String] { get { stringMap("data") } set { setStringMap("data", newValue) } }
    public var immutable: Bool? { get { bool("immutable") } set { setBool("immutable", newValue) } }
}

/// core/v1 Secret. `data` holds base64 on the wire; `value(_:)` and `setValue(_:_:)` work in bytes.
public struct Secret: KubeResource {
    public static let resourceType = ResourceType.secrets
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }
    public var type: String? { get { string("type") } set { setString("type", newValue) } }
    public var keys: [String] { (json["data"]?.objectValue?.keys).map { Array($0).sorted() } ?? [] }
    public func value(_ key: String) -> [UInt8]? {
        json[path: "data", key]?.stringValue.flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) }
    }
    public mutating func setValue(_ key: String, _ bytes: [UInt8]?) {
        var data = json["data"]?.objectValue ?? [:]
        data[key] = bytes.map { .string(Data($0).base64EncodedString()) }
        json["data"] = data.isEmpty ? nil : .object(data)
    }
}

/// core/v1 PersistentVolumeClaim (notebook workspaces).
public struct PersistentVolumeClaim: KubeResource {
    public static let resourceType = ResourceType.persistentVolumeClaims
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }
    public var spec: Spec { get { nested("spec") } set { setNested("spec", newValue) } }
    public var phase: String? { json[path: "status", "phase"]?.stringValue }

    public struct Spec: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public var accessModes: [String] { get { strings("accessModes") } set { setStrings("accessModes", newValue) } }
        public var storageClassName: String? { get { string("storageClassName") } set { setString("storageClassName", newValue) } }
        /// `resources.requests.storage`, e.g. `"50Gi"`.
        public var storage: String? {
            get { json[path: "resources", "requests", "storage"]?.stringValue }
            set {
                // Clearing it leaves no empty `resources: {requests: {}}` behind.
                if newValue == nil && json[path: "resources", "requests", "storage"] == nil { return }
                json[path: "resources", "requests", "storage"] = newValue.map(JSONValue.string)
            }
        }
    }
}

/// core/v1 Namespace.
public struct Namespace: KubeResource {
    public static let resourceType = ResourceType.namespaces
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }
    /// `Active` or `Terminating`.
    public var phase: String? { json[path: "status", "phase"]?.stringValue }
}
