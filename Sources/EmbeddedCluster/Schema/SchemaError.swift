/// A schema the embedded server cannot (or, like kube-apiserver, will not) use: non-structural, an invalid
/// pattern, a CEL rule outside the supported subset. `path` names the schema location, e.g.
/// `openAPIV3Schema.properties[spec].properties[replicas].minimum`.
public struct SchemaError: Error, Sendable, Hashable, CustomStringConvertible {
    public let path: String
    public let message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
