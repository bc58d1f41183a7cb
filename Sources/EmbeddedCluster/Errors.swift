import KubeCore

/// An error the API server answers as a `Status` object, and the error of the store's in-process API
/// (`ObjectStore.create`, `update`, `modify`, `delete`, `list`): one type for both, so an in-process caller sees
/// exactly what an HTTP client would. The embedded cluster's own model, independent of KubeCore's `APIError`.
///
/// Messages follow kube-apiserver's wording (k8s.io/apimachinery/pkg/api/errors/errors.go), because users and
/// tools match on them: `pods "x" not found`, `Operation cannot be fulfilled on ...`.
public struct APIStatusError: Error, Sendable, CustomStringConvertible {
    struct Cause: Sendable {
        var field: String
        var reason: String
        var message: String
    }

    public var code: Int
    public var reason: String
    public var message: String
    var name: String? = nil
    var group: String? = nil
    var kind: String? = nil
    var causes: [Cause] = []
    var retryAfterSeconds: Int? = nil

    public var description: String { "\(code) \(reason): \(message)" }
    public var isNotFound: Bool { code == 404 }
    public var isConflict: Bool { code == 409 }

    var status: JSONValue {
        var details: [String: JSONValue] = [:]
        if let name { details["name"] = .string(name) }
        if let group { details["group"] = .string(group) }
        if let kind { details["kind"] = .string(kind) }
        if !causes.isEmpty {
            details["causes"] = .array(causes.map {
                ["reason": .string($0.reason), "message": .string($0.message), "field": .string($0.field)]
            })
        }
        if let retryAfterSeconds { details["retryAfterSeconds"] = .int(Int64(retryAfterSeconds)) }
        var s: JSONValue = [
            "kind": "Status", "apiVersion": "v1", "metadata": .emptyObject, "status": "Failure",
            "message": .string(message), "code": .int(Int64(code)),
        ]
        if !reason.isEmpty { s["reason"] = .string(reason) }
        if !details.isEmpty { s["details"] = .object(details) }
        return s
    }

    // MARK: Constructors worded like apimachinery's errors.New* functions.

    /// `qualified` is `resource` or `resource.group` (e.g. `pods`, `daemonsets.apps`).
    static func notFound(_ qualified: String, _ name: String, group: String, kind: String) -> APIStatusError {
        APIStatusError(code: 404, reason: "NotFound", message: "\(qualified) \"\(name)\" not found",
                       name: name, group: group, kind: kind)
    }

    static func alreadyExists(_ qualified: String, _ name: String, group: String, kind: String) -> APIStatusError {
        APIStatusError(code: 409, reason: "AlreadyExists", message: "\(qualified) \"\(name)\" already exists",
                       name: name, group: group, kind: kind)
    }

    static func conflict(_ qualified: String, _ name: String, group: String, kind: String, detail: String) -> APIStatusError {
        APIStatusError(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on \(qualified) \"\(name)\": \(detail)",
                       name: name, group: group, kind: kind)
    }

    static let modifiedDetail = "the object has been modified; please apply your changes to the latest version and try again"

    /// `Kind.group "name" is invalid: field: message, field2: message2` (a single cause is not bracketed).
    static func invalid(kind: String, group: String, name: String, causes: [Cause]) -> APIStatusError {
        let qualifiedKind = group.isEmpty ? kind : "\(kind).\(group)"
        let parts = causes.map { $0.field.isEmpty ? $0.message : "\($0.field): \($0.message)" }
        let joined = parts.count == 1 ? parts[0] : "[\(parts.joined(separator: ", "))]"
        return APIStatusError(code: 422, reason: "Invalid", message: "\(qualifiedKind) \"\(name)\" is invalid: \(joined)",
                              name: name, group: group, kind: kind, causes: causes)
    }

    static func badRequest(_ message: String) -> APIStatusError {
        APIStatusError(code: 400, reason: "BadRequest", message: message)
    }

    static func methodNotAllowed() -> APIStatusError {
        APIStatusError(code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method on the requested resource")
    }

    static func pathNotFound() -> APIStatusError {
        APIStatusError(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
    }

    static func unsupportedMediaType(_ type: String, accepted: [String]) -> APIStatusError {
        APIStatusError(code: 415, reason: "UnsupportedMediaType",
                       message: "the body of the request was in an unknown format - accepted media types include: \(accepted.joined(separator: ", "))")
    }

    static func gone(_ message: String) -> APIStatusError {
        APIStatusError(code: 410, reason: "Expired", message: message)
    }

    static func forbidden(_ qualified: String, _ name: String, group: String, kind: String, why: String) -> APIStatusError {
        let subject = name.isEmpty ? qualified : "\(qualified) \"\(name)\""
        return APIStatusError(code: 403, reason: "Forbidden", message: "\(subject) is forbidden: \(why)",
                              name: name, group: group, kind: kind)
    }

    static func internalError(_ message: String) -> APIStatusError {
        APIStatusError(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)")
    }

    static let unauthorized = APIStatusError(code: 401, reason: "Unauthorized", message: "Unauthorized")
    /// apimachinery's NewRequestEntityTooLargeError as the handlers' limitedReadBody words it.
    static func requestTooLarge(limit: Int) -> APIStatusError {
        APIStatusError(code: 413, reason: "RequestEntityTooLarge", message: "Request entity too large: limit is \(limit)")
    }
}

/// Field error causes, named like k8s.io/apimachinery/pkg/util/validation/field (`FieldValueRequired`, ...).
extension APIStatusError.Cause {
    static func required(_ field: String) -> Self {
        .init(field: field, reason: "FieldValueRequired", message: "Required value")
    }
    static func invalid(_ field: String, _ value: String, _ detail: String) -> Self {
        .init(field: field, reason: "FieldValueInvalid", message: "Invalid value: \(value): \(detail)")
    }
    static func forbidden(_ field: String, _ detail: String) -> Self {
        .init(field: field, reason: "FieldValueForbidden", message: "Forbidden: \(detail)")
    }
    /// `field.TooLong` with a byte limit (apimachinery ≥ 1.31 wording).
    static func tooLong(_ field: String, bytes: Int) -> Self {
        .init(field: field, reason: "FieldValueTooLong", message: "Too long: may not be more than \(bytes) bytes")
    }
}
