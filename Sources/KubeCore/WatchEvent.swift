/// One event of a watch stream (API-SEMANTICS rule 4).
public enum WatchEvent: Sendable, Hashable {
    case added(JSONValue)
    case modified(JSONValue)
    case deleted(JSONValue)
    /// Only advances the resume version; carries an object with just `metadata.resourceVersion`.
    case bookmark(resourceVersion: String)
    /// A Status from the server, e.g. 410 "too old resource version".
    case error(APIError)

    public struct DecodeError: Error, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { "invalid watch event: \(message)" }
    }

    /// Decodes `{"type": ..., "object": ...}`; an unknown type is an error, never a crash.
    public init(json: JSONValue) throws(DecodeError) {
        guard let type = json["type"]?.stringValue else { throw DecodeError(message: "missing \"type\"") }
        let object = json["object"] ?? .null
        switch type {
        case "ADDED": self = .added(object)
        case "MODIFIED": self = .modified(object)
        case "DELETED": self = .deleted(object)
        case "BOOKMARK":
            guard let rv = object.resourceVersion else { throw DecodeError(message: "bookmark without resourceVersion") }
            self = .bookmark(resourceVersion: rv)
        case "ERROR": self = .error(APIError(code: Int(object["code"]?.intValue ?? 500), body: object))
        default: throw DecodeError(message: "unknown event type \"\(type)\"")
        }
    }

    public var object: JSONValue? {
        switch self {
        case .added(let o), .modified(let o), .deleted(let o): return o
        case .bookmark, .error: return nil
        }
    }
}
