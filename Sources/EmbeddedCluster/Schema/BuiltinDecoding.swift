import KubeCore

/// What kube-apiserver's decoding of a built-in kind into its Go type finds, from the vendored schema: fields the
/// type does not declare (dropped; named for `fieldValidation`) and the first value of the wrong JSON type (always
/// refused). Unknown fields are named both ways upstream names them: as the strict JSON decoder does
/// (`spec.containers[0].bogus`, sigs.k8s.io/json) and as server-side apply's typed conversion does
/// (`.spec.containers[name="main"].bogus`, structured-merge-diff).
struct BuiltinDecoding {
    struct UnknownField: Sendable, Equatable {
        /// `spec.containers[0].bogus`
        var path: String
        /// `.spec.containers[name="main"].bogus`
        var applyPath: String
    }

    let schemas: BuiltinSchemas
    private(set) var unknown: [UnknownField] = []
    /// Go's `UnmarshalTypeError` text for the first mistyped value (`json: cannot unmarshal string into Go struct
    /// field DeploymentSpec.spec.replicas of type int32`).
    private(set) var typeError: String?

    /// Types decoded by a custom unmarshaller that takes what it is given (RawExtension, FieldsV1, apiextensions'
    /// JSON and its ...Or... unions), or that take either of two JSON types (IntOrString, Quantity), or a
    /// formatted string (Time): checked no further.
    static let opaque: Set<String> = [
        "io.k8s.apimachinery.pkg.runtime.RawExtension", "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString", "io.k8s.apimachinery.pkg.api.resource.Quantity",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Time", "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray",
    ]

    init(schemas: BuiltinSchemas) { self.schemas = schemas }

    /// Decodes `object` as the definition `root`: unknown fields are removed from it and recorded, sorted.
    mutating func decode(_ object: inout JSONValue, as root: String) {
        walk(&object, ["$ref": .string("#/components/schemas/" + root)], at: Location(), owner: Self.goName(root))
        unknown.sort { $0.path < $1.path }
    }

    /// Where a value is, in the three spellings the messages need.
    private struct Location {
        var path = FieldPath()
        var applyPath = ""
        /// Go's `Field` of an UnmarshalTypeError: names from the root, without list indices.
        var goFields: [String] = []

        func field(_ name: String) -> Location {
            Location(path: path.child(name), applyPath: applyPath + "." + name, goFields: goFields + [name])
        }
        func key(_ name: String) -> Location {
            Location(path: path.key(name), applyPath: applyPath + "." + name, goFields: goFields + [name])
        }
        func element(_ i: Int, id: String) -> Location {
            Location(path: path.index(i), applyPath: applyPath + id, goFields: goFields)
        }
    }

    /// `owner`: the Go struct holding the field being decoded (Go names it in type errors).
    private mutating func walk(_ x: inout JSONValue, _ schema: JSONValue, at loc: Location, owner: String) {
        let (name, s) = schemas.resolve(schema)
        if let name, Self.opaque.contains(name) { return }
        if x == .null || s["x-kubernetes-preserve-unknown-fields"]?.boolValue == true { return }
        let type = s["type"]?.stringValue
        if let type, !Self.accepts(type, x) {
            if typeError == nil {
                typeError = "json: cannot unmarshal \(Self.jsonKind(x)) into Go struct field \(owner).\(loc.goFields.joined(separator: ".")) of type \(goType(schema))"
            }
            return
        }
        switch x {
        case .object(var o):
            if let properties = s["properties"]?.objectValue {
                let structName = name.map(Self.goName) ?? owner
                for key in o.keys.sorted() {
                    if var value = o[key], let sub = properties[key] {
                        walk(&value, sub, at: loc.field(key), owner: structName)
                        o[key] = value
                    } else {
                        unknown.append(UnknownField(path: loc.field(key).path.openAPI, applyPath: loc.field(key).applyPath))
                        o[key] = nil
                    }
                }
            } else if let values = s["additionalProperties"], values.objectValue != nil {
                for key in o.keys.sorted() {
                    guard var value = o[key] else { continue }
                    walk(&value, values, at: loc.key(key), owner: owner)
                    o[key] = value
                }
            } else if name != nil, type == "object" {
                // A named struct without fields (apiextensions' CustomResourceSubresourceStatus): any key is unknown.
                for key in o.keys.sorted() {
                    unknown.append(UnknownField(path: loc.field(key).path.openAPI, applyPath: loc.field(key).applyPath))
                }
                o = [:]
            }
            x = .object(o)
        case .array(var a):
            guard let items = s["items"] else { return }
            for i in a.indices {
                walk(&a[i], items, at: loc.element(i, id: Self.elementID(a[i], index: i, list: s)), owner: owner)
            }
            x = .array(a)
        default:
            break
        }
    }

    /// How structured-merge-diff names a list element: by its keys in a list-map (`[name="main"]`), by value in a
    /// set (`[="a"]`), else by index.
    private static func elementID(_ element: JSONValue, index: Int, list: JSONValue) -> String {
        switch list["x-kubernetes-list-type"]?.stringValue {
        case "map":
            let keys = list["x-kubernetes-list-map-keys"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let parts = keys.compactMap { k in element[k].map { "\(k)=\($0.serialized())" } }
            return parts.isEmpty ? "[\(index)]" : "[" + parts.joined(separator: ",") + "]"
        case "set":
            return "[=\(element.serialized())]"
        default:
            return "[\(index)]"
        }
    }

    private static func accepts(_ type: String, _ x: JSONValue) -> Bool {
        switch (type, x) {
        case ("string", .string), ("boolean", .bool), ("integer", .int), ("number", .int), ("number", .double),
             ("object", .object), ("array", .array):
            return true
        default:
            return false
        }
    }

    /// The kind Go's decoder reports for a JSON value.
    private static func jsonKind(_ x: JSONValue) -> String {
        switch x {
        case .string: return "string"
        case .bool: return "bool"
        case .int: return "number"
        case .double(let d): return "number \(GoFormat.float(d))"
        case .array: return "array"
        case .object: return "object"
        case .null: return "null"
        }
    }

    /// `io.k8s.api.apps.v1.DeploymentSpec` → `DeploymentSpec` (the Go struct's name).
    static func goName(_ definition: String) -> String {
        String(definition.split(separator: ".").last ?? "")
    }

    /// The Go type a schema decodes into (`int32`, `[]v1.Container`, `map[string]string`, `v1.PodSpec`).
    private func goType(_ schema: JSONValue) -> String {
        let (name, s) = schemas.resolve(schema)
        if let name {
            let parts = name.split(separator: ".")
            return parts.suffix(2).joined(separator: ".")
        }
        switch s["type"]?.stringValue {
        case "string": return s["format"]?.stringValue == "byte" ? "[]uint8" : "string"
        case "boolean": return "bool"
        case "integer": return s["format"]?.stringValue == "int32" ? "int32" : "int64"
        case "number": return "float64"
        case "array": return "[]" + (s["items"].map(goType) ?? "interface {}")
        case "object": return "map[string]" + (s["additionalProperties"].flatMap { $0.objectValue != nil ? goType($0) : nil } ?? "interface {}")
        default: return "interface {}"
        }
    }
}
