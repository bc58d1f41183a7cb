import KubeCore

/// The OpenAPI schemas of the built-in kinds as kube-apiserver publishes them (API-SEMANTICS rule 27), vendored by
/// `scripts/vendor-openapi.sh` into `Resources/openapi-builtin.json` and embedded in the binary (an installed
/// `gantry` carries no resource bundle). Parsed on first use and once per process (`vendored` is a lazily
/// initialised static): `gantry dev` pays nothing at startup, and a process that never writes a built-in kind over
/// HTTP nor serves `/openapi` never parses it.
struct BuiltinSchemas: Sendable {
    /// Definitions by name (`io.k8s.api.core.v1.Pod`), in OpenAPI v3 form (`#/components/schemas/` references).
    let schemas: [String: JSONValue]
    /// The release they were taken from (`v1.33.0`).
    let kubernetesVersion: String
    /// `group/version/Kind` → definition name.
    let kinds: [String: String]
    /// Why the vendored file could not be read; nil when it was (BuiltinSchemaTests checks it).
    let loadError: String?

    static let vendored = BuiltinSchemas(bytes: PackageResources.openapi_builtin_json)

    init(bytes: [UInt8]) {
        var doc: JSONValue = .emptyObject
        var problem: String? = nil
        do { doc = try JSONValue.parse(bytes) } catch { problem = "Resources/openapi-builtin.json: \(error)" }
        schemas = doc["schemas"]?.objectValue ?? [:]
        kubernetesVersion = doc["kubernetesVersion"]?.stringValue ?? ""
        var kinds: [String: String] = [:]
        for (name, schema) in schemas {
            for gvk in schema["x-kubernetes-group-version-kind"]?.arrayValue ?? [] {
                let group = gvk["group"]?.stringValue ?? "", version = gvk["version"]?.stringValue ?? ""
                kinds["\(group)/\(version)/\(gvk["kind"]?.stringValue ?? "")"] = name
            }
        }
        self.kinds = kinds
        if problem == nil && schemas.isEmpty { problem = "Resources/openapi-builtin.json holds no schemas" }
        loadError = problem
    }

    /// The definition of a served built-in kind; nil for custom resources and kinds not vendored.
    func definitionName(_ info: ResourceInfo) -> String? {
        info.isCustom ? nil : kinds["\(info.group)/\(info.version)/\(info.kind)"]
    }

    /// `#/components/schemas/io.k8s.api.core.v1.Pod` → `io.k8s.api.core.v1.Pod`.
    static func referencedName(_ ref: String) -> String {
        String(ref.split(separator: "/").last ?? "")
    }

    /// `schema` with its reference followed: a bare `$ref`, or `allOf: [{$ref}]` (how a field with a description of
    /// its own refers to its type). `name` is the definition reached, nil for an inline schema.
    func resolve(_ schema: JSONValue) -> (name: String?, schema: JSONValue) {
        var ref = schema["$ref"]?.stringValue
        if ref == nil, let all = schema["allOf"]?.arrayValue, all.count == 1 { ref = all[0]["$ref"]?.stringValue }
        guard let ref else { return (nil, schema) }
        let name = Self.referencedName(ref)
        return (name, schemas[name] ?? .emptyObject)
    }

    /// `roots` and every definition they reference, directly or not: what one group-version's document holds.
    func closure(_ roots: [String]) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        var pending = roots
        while let name = pending.popLast() {
            guard out[name] == nil, let schema = schemas[name] else { continue }
            out[name] = schema
            Self.references(in: schema, into: &pending)
        }
        return out
    }

    private static func references(in x: JSONValue, into names: inout [String]) {
        switch x {
        case .object(let o):
            for (key, value) in o {
                // A property may be named `$ref` (JSONSchemaProps has one): only a string is a reference.
                if key == "$ref", let ref = value.stringValue { names.append(referencedName(ref)) } else { references(in: value, into: &names) }
            }
        case .array(let a):
            for value in a { references(in: value, into: &names) }
        default:
            break
        }
    }
}
