import KubeCore

/// YAML ⇄ `JSONValue`, read and written by the system libyaml, typed the way kubectl reads manifests.
public enum YAML {
    /// All documents of a stream (`---` separated); empty documents (e.g. a trailing `---`) are skipped.
    /// A document whose whole content is null (empty, comments only, `~`) counts as empty, as kubectl skips it.
    public static func parseDocuments(_ text: String) throws(YAMLError) -> [JSONValue] {
        try documents(text).map(\.value)
    }

    /// Exactly one document (an empty stream gives .null); more than one is an error.
    public static func parse(_ text: String) throws(YAMLError) -> JSONValue {
        let docs = try documents(text)
        if docs.count > 1 {
            throw docs[1].start.error("expected a single YAML document, found \(docs.count)")
        }
        return docs.first?.value ?? .null
    }

    /// Block-style YAML, keys sorted, strings quoted whenever a plain scalar would read back as another type
    /// (e.g. "yes", "1.0", "null", "", leading/trailing spaces), multi-line strings as literal blocks `|`.
    public static func emit(_ value: JSONValue) -> String {
        Emitter.emit(value)
    }

    /// Documents joined with `---` lines, as `kubectl get -o yaml` of several objects would be.
    public static func emitDocuments(_ values: [JSONValue]) -> String {
        values.map(Emitter.emit).joined(separator: "---\n")
    }

    private static func documents(_ text: String) throws(YAMLError) -> [(value: JSONValue, start: Mark)] {
        var builder = DocumentBuilder()
        try EventReader.read(text) { (event, mark) throws(YAMLError) in
            try builder.handle(event, at: mark)
        }
        return builder.documents.filter { !$0.value.isNull }
    }
}
