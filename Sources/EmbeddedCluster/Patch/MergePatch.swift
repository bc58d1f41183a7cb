import KubeCore

/// JSON merge patch, RFC 7386: objects merge recursively, `null` deletes, anything else (lists included) replaces.
enum MergePatch {
    static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(let p) = patch else { return patch }
        var result = target.objectValue ?? [:]
        for (key, value) in p {
            if value.isNull {
                result[key] = nil
            } else {
                result[key] = apply(value, to: result[key] ?? .null)
            }
        }
        return .object(result)
    }
}
