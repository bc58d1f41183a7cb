import KubeCore
import KubeYAML

/// Apply patches are sent as `application/apply-patch+yaml`; kubectl sends JSON (valid YAML), which is parsed
/// first by the caller; real YAML bodies (curl, other clients) go through KubeYAML.
enum YAMLBridge {
    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try YAML.parse(String(decoding: bytes, as: UTF8.self))
    }
}
