/// A custom kind: its REST address and the types of its spec and status.
public protocol CustomResourceKind: Sendable {
    associatedtype Spec: Codable, Sendable, Hashable
    associatedtype Status: Codable, Sendable, Hashable
    static var resourceType: ResourceType { get }
    /// What a status starts as before the controller wrote one (a stored status is decoded, never defaulted).
    static var emptyStatus: Status { get }
}

/// Why a stored object of a custom kind could not be read. A status that fails to decode is its own case:
/// planning from an empty status would start a finished workload again, so callers leave such an object alone
/// and report the problem on it instead.
public enum CustomObjectDecodeError: Error, Sendable, CustomStringConvertible, Equatable {
    case missingMetadata(String)
    case spec(String)
    case status(String)
    public var description: String {
        switch self {
        case .missingMetadata(let field): return "metadata.\(field) is missing"
        case .spec(let message), .status(let message): return message
        }
    }
}

/// A decoded object of a custom kind: identity from metadata plus typed spec and status.
public struct CustomObject<Kind: CustomResourceKind>: Sendable, Hashable {
    public typealias DecodeError = CustomObjectDecodeError
    public var name: String
    /// The namespace ("default" when a namespaced object carries none; "" for cluster-scoped kinds).
    public var namespace: String
    public var uid: String
    public var generation: Int64
    public var resourceVersion: String?
    public var labels: [String: String]
    public var annotations: [String: String]
    public var finalizers: [String]
    public var creationTimestamp: String?
    public var deletionTimestamp: String?
    public var spec: Kind.Spec
    public var status: Kind.Status

    public init(_ object: JSONValue) throws(CustomObjectDecodeError) {
        guard let name = object.name else { throw .missingMetadata("name") }
        guard let uid = object.uid else { throw .missingMetadata("uid") }
        self.name = name
        self.namespace = object.namespace ?? (Kind.resourceType.namespaced ? "default" : "")
        self.uid = uid
        self.generation = object.generation ?? 0
        self.resourceVersion = object.resourceVersion
        self.labels = object.labels
        self.annotations = object.annotations
        self.finalizers = object.finalizers
        self.creationTimestamp = object.creationTimestamp
        self.deletionTimestamp = object.deletionTimestamp
        do {
            self.spec = try (object["spec"] ?? .emptyObject).decode(Kind.Spec.self)
        } catch {
            throw .spec("spec: \(DecodingErrorText.describe(error))")
        }
        if let stored = object["status"] {
            do {
                self.status = try stored.decode(Kind.Status.self)
            } catch {
                throw .status("status: \(DecodingErrorText.describe(error))")
            }
        } else {
            self.status = Kind.emptyStatus
        }
    }

    /// The reference its children carry: controller, blocking the owner's deletion (API-SEMANTICS rule 15).
    public var ownerReference: OwnerReference {
        OwnerReference(apiVersion: Kind.resourceType.apiVersion, kind: Kind.resourceType.kind, name: name, uid: uid)
    }

    public var key: ObjectKey { ObjectKey(namespace: Kind.resourceType.namespaced ? namespace : nil, name: name) }
}

/// Turns a DecodingError into "field: problem" wording for conditions and events.
public enum DecodingErrorText {
    public static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ p: [any CodingKey]) -> String {
            let text = p.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.hasPrefix(".") ? String(text.dropFirst()) : text
        }
        switch error {
        case .typeMismatch(let type, let ctx): return "\(path(ctx.codingPath)): expected \(type)"
        case .valueNotFound(_, let ctx): return "\(path(ctx.codingPath)): required value missing"
        case .keyNotFound(let key, let ctx): return "\(path(ctx.codingPath + [key])): required value missing"
        case .dataCorrupted(let ctx): return "\(path(ctx.codingPath)): \(ctx.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

/// A status with the two fields every kind's status carries (API-SEMANTICS rules 9, 11, 22).
public protocol ConditionedStatus: Codable, Sendable, Hashable {
    var conditions: [Condition]? { get set }
    var observedGeneration: Int64? { get set }
}
