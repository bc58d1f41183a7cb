import KubeCore

/// A decoded TrainingJob: identity from metadata plus typed spec and status.
public struct TrainingJob: Sendable, Hashable {
    public var name: String
    public var namespace: String
    public var uid: String
    public var generation: Int64
    public var labels: [String: String]
    public var annotations: [String: String]
    public var creationTimestamp: String?
    public var deletionTimestamp: String?
    public var spec: TrainingJobSpec
    public var status: TrainingJobStatus

    public enum DecodeError: Error, Sendable, CustomStringConvertible {
        case missingMetadata(String)
        case spec(String)
        /// The stored status does not decode (written by a newer Gantry, or by hand): planning from an empty
        /// status would start a finished job again, so the job is left alone and the problem reported.
        case status(String)
        public var description: String {
            switch self {
            case .missingMetadata(let field): return "metadata.\(field) is missing"
            case .spec(let message), .status(let message): return message
            }
        }
    }

    public init(_ object: JSONValue) throws(DecodeError) {
        guard let name = object.name else { throw .missingMetadata("name") }
        guard let uid = object.uid else { throw .missingMetadata("uid") }
        self.name = name
        self.namespace = object.namespace ?? "default"
        self.uid = uid
        self.generation = object.generation ?? 0
        self.labels = object.labels
        self.annotations = object.annotations
        self.creationTimestamp = object.creationTimestamp
        self.deletionTimestamp = object.deletionTimestamp
        do {
            self.spec = try (object["spec"] ?? .emptyObject).decode(TrainingJobSpec.self)
        } catch {
            throw .spec("spec: \(DecodingErrorText.describe(error))")
        }
        do {
            self.status = try (object["status"] ?? .emptyObject).decode(TrainingJobStatus.self)
        } catch {
            throw .status("status: \(DecodingErrorText.describe(error))")
        }
    }

    public var ownerReference: OwnerReference {
        OwnerReference(apiVersion: GantryGroup.apiVersion, kind: "TrainingJob", name: name, uid: uid)
    }

    public var key: ObjectKey { ObjectKey(namespace: namespace, name: name) }
}

/// Turns a DecodingError into "field: problem" wording for conditions and events.
public enum DecodingErrorText {
    public static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ p: [any CodingKey]) -> String {
            p.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingPrefixDot
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

extension String {
    var trimmingPrefixDot: String { hasPrefix(".") ? String(dropFirst()) : self }
}
