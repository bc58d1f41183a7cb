import KubeCore

/// The `definitions` of `/openapi/v2`: every vendored built-in definition and each CRD version's structural schema,
/// as gnostic `openapi.v2.Schema` messages, so kubectl's OpenAPI v2 consumers (`kubectl explain --output
/// plaintext-openapiv2`, kubectl 1.27's apply patch metadata) find each served kind by its
/// `x-kubernetes-group-version-kind` extension, as against kube-apiserver.
///
/// kubectl parses the whole document (k8s.io/kube-openapi/pkg/util/proto) and gives up on the first schema it
/// cannot read, so only what Swagger 2.0 and that parser know is written: a single `type` (none when a schema
/// allows several), `$ref`s into `#/definitions/`, one `items` schema, `properties`, `additionalProperties`,
/// `required`, `format`, `description` and the `x-` extensions (their values as YAML, here JSON). v3-only
/// keywords (`oneOf`, `anyOf`, `nullable`, …) are dropped; a one-of of primitives becomes a string
/// (`int-or-string` when it also allows integers), as kube-apiserver publishes IntOrString and Quantity in v2.
enum OpenAPIv2Definitions {
    /// The built-in definitions' NamedSchema entries, encoded once per process (the vendored set is fixed).
    static let builtin: [UInt8] = {
        var w = OpenAPIv2.Writer()
        for (name, schema) in BuiltinSchemas.vendored.schemas.sorted(by: { $0.key < $1.key }) { named(name, schema, into: &w) }
        return w.bytes
    }()

    /// A custom resource's definition as kube-apiserver publishes it in v2: the CRD's schema with the
    /// group-version-kind and the standard `apiVersion`, `kind` and `metadata` fields.
    static func customResource(_ info: ResourceInfo, schema: JSONValue?, into w: inout OpenAPIv2.Writer) {
        var s = schema ?? ["type": "object"]
        s["x-kubernetes-group-version-kind"] = [["group": .string(info.group), "version": .string(info.version), "kind": .string(info.kind)]]
        var props = s["properties"]?.objectValue ?? [:]
        props["apiVersion"] = ["type": "string", "description": "APIVersion defines the versioned schema of this representation of an object."]
        props["kind"] = ["type": "string", "description": "Kind is a string value representing the REST resource this object represents."]
        props["metadata"] = ["$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                             "description": "Standard object's metadata."]
        s["properties"] = .object(props)
        named(OpenAPI.schemaName(info), s, into: &w)
    }

    /// NamedSchema { name = 1; value = 2 }.
    static func named(_ name: String, _ schema: JSONValue, into w: inout OpenAPIv2.Writer) {
        w.message(1) { entry in
            entry.string(1, name)
            entry.message(2) { encode(schema, into: &$0) }
        }
    }

    /// openapi.v2.Schema: _ref 1, format 2, description 4, required 19, additionalProperties 21, type 22,
    /// items 23, properties 25, vendor_extension 31.
    static func encode(_ input: JSONValue, into w: inout OpenAPIv2.Writer) {
        let s = bareReference(input)
        if let ref = s["$ref"]?.stringValue {
            w.string(1, "#/definitions/" + BuiltinSchemas.referencedName(ref))
        }
        var type = s["type"]?.stringValue
        var format = s["format"]?.stringValue
        if type == nil, s["$ref"] == nil, let choices = (s["oneOf"] ?? s["anyOf"])?.arrayValue {
            let types = Set(choices.compactMap { $0["type"]?.stringValue })
            if types.contains("string"), types.isSubset(of: ["string", "integer", "number"]) {
                type = "string"
                if types.contains("integer") { format = "int-or-string" }
            }
        }
        if s["x-kubernetes-int-or-string"] == true { type = "string"; format = "int-or-string" }
        if type == "array", s["items"]?.objectValue == nil { type = nil }  // kubectl reads an array only with one item schema
        if let format { w.string(2, format) }
        if let description = s["description"]?.stringValue { w.string(4, description) }
        for name in s["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] { w.string(19, name) }
        if let additional = s["additionalProperties"] {
            w.message(21) { item in
                if additional.objectValue != nil {
                    item.message(1) { encode(additional, into: &$0) }
                } else if let flag = additional.boolValue {
                    item.bool(2, flag)
                }
            }
        }
        if let type { w.message(22) { $0.string(1, type) } }
        if type == "array", let items = s["items"] { w.message(23) { list in list.message(1) { encode(items, into: &$0) } } }
        if let properties = s["properties"]?.objectValue {
            w.message(25) { props in
                for (name, schema) in properties.sorted(by: { $0.key < $1.key }) { named(name, schema, into: &props) }
            }
        }
        for (key, value) in (s.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) where key.hasPrefix("x-") {
            w.message(31) { ext in                                      // NamedAny
                ext.string(1, key)
                ext.message(2) { $0.string(2, value.serialized()) }     // Any.yaml: JSON is YAML
            }
        }
    }

    /// `allOf: [{$ref}]` (v3's way to give a reference its own description) as the bare `$ref` Swagger 2.0 uses.
    static func bareReference(_ schema: JSONValue) -> JSONValue {
        guard schema["$ref"] == nil, let all = schema["allOf"]?.arrayValue, all.count == 1, let ref = all[0]["$ref"] else { return schema }
        var s = schema
        s["allOf"] = nil
        s["$ref"] = ref
        return s
    }
}
