import KubeCore

/// Apply patches are sent as `application/apply-patch+yaml`; kubectl sends JSON (valid YAML), which is parsed
/// first. Other YAML bodies go through KubeYAML once it is available on this branch.
enum YAMLBridge {
    struct Unsupported: Error {}
    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        throw Unsupported()
    }
}
