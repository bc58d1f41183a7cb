import KubeCore

/// One page of a LIST, or all pages of `listAll`.
public struct ObjectList: Sendable, Hashable {
    public var items: [JSONValue]
    /// The list's `metadata.resourceVersion`: where a watch should start (rule 1).
    public var resourceVersion: String
    /// `metadata.continue`; nil on the last page.
    public var continueToken: String?

    public init(items: [JSONValue], resourceVersion: String, continueToken: String? = nil) {
        self.items = items
        self.resourceVersion = resourceVersion
        self.continueToken = continueToken
    }

    /// Decodes a `…List` body. Items of real API servers omit `apiVersion` and `kind`; they are filled in
    /// from `type` so every object read through the client is self-describing.
    init(json: JSONValue, type: ResourceType) throws(KubeClientError) {
        guard let items = json["items"]?.arrayValue ?? (json["items"]?.isNull == true ? [] : nil) else {
            throw .decode("a list of \(type) has no items array")
        }
        self.items = items.map { item in
            var item = item
            if item["apiVersion"] == nil { item["apiVersion"] = .string(type.apiVersion) }
            if item["kind"] == nil { item["kind"] = .string(type.kind) }
            return item
        }
        resourceVersion = json[path: "metadata", "resourceVersion"]?.stringValue ?? ""
        let token = json[path: "metadata", "continue"]?.stringValue ?? ""
        continueToken = token.isEmpty ? nil : token
    }
}
