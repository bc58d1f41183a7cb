import KubeCore

/// An object seen as structured-merge-diff sees it for field ownership: the fields it sets (`members`, as
/// typed.ToFieldSet) and every node with its value (for Compare). Typed by the kind's schema: the vendored
/// upstream definition for built-ins, the CRD's openAPIV3Schema for custom resources, ObjectMeta for `metadata`.
/// Lists are associative by `x-kubernetes-list-map-keys` (built-ins: else by their patch merge key), sets by
/// `x-kubernetes-list-type: set`, else atomic; maps marked `x-kubernetes-map-type: atomic` are atomic. Without a
/// schema, maps are granular and lists atomic (upstream's deduced type).
struct TypedFields {
    struct Node { var value: JSONValue; var leaf: Bool }
    private(set) var members = FieldSet()
    private(set) var nodes: [OwnedPath: Node] = [:]

    enum ListKind { case atomic, set, map([String]) }

    static let objectMeta = BuiltinSchemas.vendored.resolve(["$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]).schema
    /// What fieldmanager's stripMeta leaves out of every field set (system-owned metadata, type meta).
    static let strippedMetadata = ["name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName",
                                   "generation", "managedFields", "resourceVersion"]

    /// `object` typed by `schema` (resolved root schema, nil: untyped); `part` keeps the part a write may own.
    init(_ object: JSONValue, schema: JSONValue?, builtin: Bool, part: OwnedPart) {
        var o = object
        o["apiVersion"] = nil
        o["kind"] = nil
        for key in Self.strippedMetadata { o[path: "metadata", key] = nil }
        if o["metadata"]?.objectValue?.isEmpty == true { o["metadata"] = nil }
        switch part {
        case .all: break
        case .main: o["status"] = nil
        case .status: o = o["status"].map { ["status": $0] } ?? .emptyObject
        }
        self.builtin = builtin
        walk(o, schema, [], atRoot: true)
    }

    /// Which fields a write may own: everything, all but `status` (kinds with a status subresource), or `status`.
    enum OwnedPart { case all, main, status }

    private let builtin: Bool

    private static func resolve(_ s: JSONValue?) -> JSONValue? { s.map { BuiltinSchemas.vendored.resolve($0).schema } }

    private func child(_ key: String, of schema: JSONValue?, atRoot: Bool) -> (schema: JSONValue?, declared: Bool) {
        if atRoot && key == "metadata" { return (Self.objectMeta, true) }
        guard let schema else { return (nil, false) }
        if let p = schema[path: "properties", key] { return (Self.resolve(p), true) }
        if let a = schema["additionalProperties"], a.objectValue != nil { return (Self.resolve(a), false) }
        return (nil, false)
    }

    private func listKind(_ schema: JSONValue?) -> ListKind {
        guard let schema else { return .atomic }
        let type = schema["x-kubernetes-list-type"]?.stringValue
        let keys = schema["x-kubernetes-list-map-keys"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if type == "map", !keys.isEmpty { return .map(keys) }
        if type == "set" { return .set }
        // Built-in Go types without list-type markers: a `patchStrategy:"merge"` list is associative by its merge key.
        if type == nil, builtin, schema["x-kubernetes-patch-strategy"]?.stringValue?.contains("merge") == true {
            if let key = schema["x-kubernetes-patch-merge-key"]?.stringValue { return .map([key]) }
            return .set
        }
        return .atomic
    }

    static func element(_ item: JSONValue, _ kind: ListKind, index: Int) -> PathElement {
        switch kind {
        case .map(let keys):
            guard let o = item.objectValue else { return .index(index) }
            var k: [String: JSONValue] = [:]
            for key in keys { if let v = o[key] { k[key] = v } }
            return .key(.object(k))
        case .set: return .value(item)
        case .atomic: return .index(index)
        }
    }

    private mutating func walk(_ value: JSONValue, _ schema: JSONValue?, _ path: OwnedPath, atRoot: Bool = false) {
        switch value {
        case .object(let o):
            if schema?["x-kubernetes-map-type"]?.stringValue == "atomic" || (o.isEmpty && !atRoot) {
                leaf(value, path)
                return
            }
            if !atRoot { nodes[path] = Node(value: value, leaf: false) }
            for (key, item) in o {
                let (itemSchema, declared) = child(key, of: schema, atRoot: atRoot)
                let p = path + [.field(key)]
                walk(item, itemSchema, p)
                if item.isNull || item.objectValue?.isEmpty == true || !declared { members.members.insert(p) }
            }
        case .array(let a):
            let kind = listKind(schema)
            if case .atomic = kind { leaf(value, path); return }
            // An empty granular list sets nothing (typed.ToFieldSet), but compares as a leaf.
            nodes[path] = Node(value: value, leaf: a.isEmpty)
            let items = Self.resolve(schema?["items"])
            for (i, item) in a.enumerated() {
                let p = path + [Self.element(item, kind, index: i)]
                walk(item, items, p)
                members.members.insert(p)
            }
        default:
            leaf(value, path)
        }
    }

    private mutating func leaf(_ value: JSONValue, _ path: OwnedPath) {
        nodes[path] = Node(value: value, leaf: true)
        members.members.insert(path)
    }

    /// typed.Compare: nodes added, removed, and leaves whose value changed, from `old` (nil: an empty object) to
    /// `new`. The top-level `metadata`, and a built-in's `spec` and `status`, are Go value structs upstream,
    /// present in the empty object too, so never added or removed themselves.
    static func compare(_ old: TypedFields?, _ new: TypedFields) -> (added: FieldSet, modified: FieldSet, removed: FieldSet) {
        let before = old?.nodes ?? [:]
        let valueStructs: Set<OwnedPath> = new.builtin ? [[.field("metadata")], [.field("spec")], [.field("status")]] : [[.field("metadata")]]
        var added = FieldSet(), modified = FieldSet(), removed = FieldSet()
        for (path, node) in new.nodes {
            guard let was = before[path] else {
                if !valueStructs.contains(path) { added.members.insert(path) }
                continue
            }
            if was.value != node.value && (was.leaf && node.leaf || (was.leaf != node.leaf && !isEmptyCompound(was.leaf ? was.value : node.value))) {
                modified.members.insert(path)
            }
        }
        for path in before.keys where new.nodes[path] == nil && !valueStructs.contains(path) { removed.members.insert(path) }
        return (added, modified, removed)
    }

    private static func isEmptyCompound(_ v: JSONValue) -> Bool { v.objectValue?.isEmpty == true || v.arrayValue?.isEmpty == true }
}

/// Reading and removing a value by field path (list elements found by key, value or index).
extension JSONValue {
    subscript(fieldPath path: OwnedPath) -> JSONValue? {
        var cur: JSONValue? = self
        for pe in path {
            guard let c = cur else { return nil }
            switch pe {
            case .field(let k): cur = c[k]
            default:
                guard let a = c.arrayValue, let i = Self.index(of: pe, in: a) else { return nil }
                cur = a[i]
            }
        }
        return cur
    }

    mutating func remove(fieldPath path: OwnedPath) {
        guard let head = path.first else { return }
        let rest = Array(path.dropFirst())
        switch head {
        case .field(let k):
            guard var o = objectValue, o[k] != nil else { return }
            if rest.isEmpty { o[k] = nil } else { o[k]?.remove(fieldPath: rest) }
            self = .object(o)
        default:
            guard var a = arrayValue, let i = Self.index(of: head, in: a) else { return }
            if rest.isEmpty { a.remove(at: i) } else { a[i].remove(fieldPath: rest) }
            self = .array(a)
        }
    }

    private static func index(of pe: PathElement, in a: [JSONValue]) -> Int? {
        switch pe {
        case .field: return nil
        case .index(let i): return a.indices.contains(i) ? i : nil
        case .value(let v): return a.firstIndex(of: v)
        case .key(let k):
            let fields = k.objectValue ?? [:]
            return a.firstIndex { item in fields.allSatisfy { item[$0.key] == $0.value } }
        }
    }
}
