import KubeCore

/// One field-level validation failure, shaped like apimachinery's `field.Error`: the server turns each into a
/// `Status` cause (`field`, `reason`, `message`), and kubectl prints `<field>: <message>`.
///
/// `message` is `ErrorBody()` of k8s.io/apimachinery/pkg/util/validation/field/errors.go: the type's canonical
/// text ("Invalid value", "Required value", ...), then the bad value printed Go-style (strings quoted, numbers
/// bare, omitted for Required/Forbidden/TooLong), then `: <detail>`.
public struct FieldError: Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var reason: String
    public var message: String

    public init(field: String, reason: String, message: String) {
        self.field = field
        self.reason = reason
        self.message = message
    }

    /// `<field>: <message>`, as `field.Error.Error()` prints it.
    public var description: String { "\(field): \(message)" }
}

/// The bad value of a field error, printed the way `ErrorBody` prints Go values.
enum BadValue: Sendable {
    case json(JSONValue)
    /// `field.OmitValueType`: nothing printed between the type and the detail.
    case omitted
    /// A Go value printed with `%#v` (used for list-map duplicate keys: `map[string]interface {}{"name":"a"}`).
    case goSyntax(String)

    var rendered: String? {
        switch self {
        case .omitted: return nil
        case .goSyntax(let s): return s
        case .json(let v):
            switch v {
            case .null: return "\"null\""  // ErrorBody turns a nil value into the string "null", then quotes it
            case .bool(let b): return b ? "true" : "false"
            case .int(let i): return String(i)
            case .double(let d): return GoFormat.float(d)
            case .string(let s): return GoFormat.quote(s)
            case .array, .object: return GoFormat.goSyntax(v)
            }
        }
    }
}

/// Constructors mirroring apimachinery's `field.Invalid`, `field.Required`, ... (errors.go).
extension FieldError {
    static func make(_ path: String, _ reason: String, _ title: String, _ value: BadValue?, _ detail: String) -> FieldError {
        var s = title
        if let value, let shown = value.rendered { s += ": " + shown }
        if !detail.isEmpty { s += ": " + detail }
        return FieldError(field: path, reason: reason, message: s)
    }

    static func invalid(_ path: String, _ value: BadValue, _ detail: String) -> FieldError {
        make(path, "FieldValueInvalid", "Invalid value", value, detail)
    }

    /// `field.TypeInvalid`: same wording as Invalid, its own reason.
    static func typeInvalid(_ path: String, _ value: BadValue, _ detail: String) -> FieldError {
        make(path, "FieldValueTypeInvalid", "Invalid value", value, detail)
    }

    static func required(_ path: String, _ detail: String = "") -> FieldError {
        make(path, "FieldValueRequired", "Required value", nil, detail)
    }

    static func forbidden(_ path: String, _ detail: String) -> FieldError {
        make(path, "FieldValueForbidden", "Forbidden", nil, detail)
    }

    static func duplicate(_ path: String, _ value: BadValue) -> FieldError {
        make(path, "FieldValueDuplicate", "Duplicate value", value, "")
    }

    /// `field.NotSupported`: detail lists the allowed values, each `strconv.Quote`d.
    static func notSupported(_ path: String, _ value: BadValue, _ allowed: [String]) -> FieldError {
        let detail = allowed.isEmpty ? "" : "supported values: " + allowed.map(GoFormat.quote).joined(separator: ", ")
        return make(path, "FieldValueNotSupported", "Unsupported value", value, detail)
    }

    /// `field.TooLong` as apiextensions calls it with the maxLength (apimachinery since PR #128553, 1.33: "may not
    /// be more than %d bytes"; earlier "may not be longer than %d"). The value is never printed.
    static func tooLong(_ path: String, max: Int64) -> FieldError {
        let detail = max >= 0 ? "may not be more than \(max) bytes" : "value is too long"
        return make(path, "FieldValueTooLong", "Too long", nil, detail)
    }

    /// `field.TooMany`: "Too many: <actual>: must have at most <max> items" (also used for maxProperties).
    static func tooMany(_ path: String, actual: Int, max: Int64) -> FieldError {
        let detail = max >= 0 ? "must have at most \(max) items" : "too many items"
        return make(path, "FieldValueTooMany", "Too many", .json(.int(Int64(actual))), detail)
    }
}
