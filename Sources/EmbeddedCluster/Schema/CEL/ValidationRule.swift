import KubeCore

/// One `x-kubernetes-validations` entry. Until the CEL interpreter lands every rule is refused at load,
/// so no rule is ever silently skipped.
struct ValidationRule: Sendable {
    static func parse(_ json: JSONValue, path: String, node: SchemaNode, isRoot: Bool, correlatable: Bool) throws(SchemaError) -> ValidationRule {
        throw SchemaError(path: path, message: "x-kubernetes-validations are not supported yet")
    }
}

/// Runs the rules of a schema tree (none can exist yet, see `ValidationRule`).
struct CELValidator {
    mutating func validate(_ value: JSONValue, old: JSONValue?, node: SchemaNode, at path: FieldPath) -> [FieldError] {
        []
    }
}
