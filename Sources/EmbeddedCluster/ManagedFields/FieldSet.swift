import KubeCore

/// One step of a field path, as sigs.k8s.io/structured-merge-diff/v4/fieldpath.PathElement: a struct or map field,
/// the key fields of an associative list's element, a set's value, or (untyped lists) an index.
/// Keys and values are kept as JSON values; `serialized()` sorts object keys, as upstream orders a key's fields.
enum PathElement: Hashable, Sendable {
    case field(String)
    case key(JSONValue)
    case value(JSONValue)
    case index(Int)

    /// The FieldsV1 key (fieldpath/serialize-pe.go): `f:name`, `k:{"name":"x"}`, `v:"a"`, `i:0`.
    var encoded: String {
        switch self {
        case .field(let n): return "f:" + n
        case .key(let k): return "k:" + k.serialized()
        case .value(let v): return "v:" + v.serialized()
        case .index(let i): return "i:\(i)"
        }
    }

    init?(encoded s: String) {
        let body = String(s.dropFirst(2))
        switch s.prefix(2) {
        case "f:": self = .field(body)
        case "k:":
            guard let v = try? JSONValue.parse(body), v.objectValue != nil else { return nil }
            self = .key(v)
        case "v:":
            guard let v = try? JSONValue.parse(body) else { return nil }
            self = .value(v)
        case "i:":
            guard let i = Int(body) else { return nil }
            self = .index(i)
        default: return nil
        }
    }

    /// As PathElement.String in conflict messages: `.name`, `[name="x"]`, `[="a"]`, `[0]`.
    var described: String {
        switch self {
        case .field(let n): return "." + n
        case .key(let k):
            let fields = (k.objectValue ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.serialized())" }
            return "[" + fields.joined(separator: ",") + "]"
        case .value(let v): return "[=" + v.serialized() + "]"
        case .index(let i): return "[\(i)]"
        }
    }
}

typealias OwnedPath = [PathElement]

extension Array where Element == PathElement {
    var described: String { map(\.described).joined() }

    func hasPrefix(_ prefix: OwnedPath) -> Bool { count >= prefix.count && Array(self[..<prefix.count]) == prefix }
}

/// A set of owned fields (fieldpath.Set): its members, each a path from the object's root.
struct FieldSet: Hashable, Sendable {
    var members: Set<OwnedPath> = []

    var isEmpty: Bool { members.isEmpty }
    func contains(_ p: OwnedPath) -> Bool { members.contains(p) }
    func union(_ o: FieldSet) -> FieldSet { FieldSet(members: members.union(o.members)) }
    func subtracting(_ o: FieldSet) -> FieldSet { FieldSet(members: members.subtracting(o.members)) }
    func intersection(_ o: FieldSet) -> FieldSet { FieldSet(members: members.intersection(o.members)) }
    /// True when a member is `p` or lies under it.
    func touches(_ p: OwnedPath) -> Bool { members.contains { $0.hasPrefix(p) } }

    /// The FieldsV1 form (fieldpath/serialize.go): a tree keyed by encoded path elements; a member without
    /// children is `{}`, a member with children carries `".": {}` among them.
    var fieldsV1: JSONValue { Self.encode(Array(members)) }

    private static func encode(_ paths: [OwnedPath]) -> JSONValue {
        var byHead: [PathElement: [OwnedPath]] = [:]
        for p in paths { if let head = p.first { byHead[head, default: []].append(Array(p.dropFirst())) } }
        var out: [String: JSONValue] = [:]
        for (head, rests) in byHead {
            let children = rests.filter { !$0.isEmpty }
            var node = encode(children).objectValue ?? [:]
            if rests.contains(where: \.isEmpty), !children.isEmpty { node["."] = .emptyObject }
            out[head.encoded] = .object(node)
        }
        return .object(out)
    }

    /// Reads FieldsV1; nil when it is not a FieldsV1 tree.
    init?(fieldsV1: JSONValue) {
        var members: Set<OwnedPath> = []
        func walk(_ node: JSONValue, _ prefix: OwnedPath) -> Bool {
            guard let o = node.objectValue else { return false }
            for (k, child) in o {
                if k == "." { if prefix.isEmpty { return false }; members.insert(prefix); continue }
                guard let pe = PathElement(encoded: k), let c = child.objectValue else { return false }
                if c.isEmpty { members.insert(prefix + [pe]) } else if !walk(child, prefix + [pe]) { return false }
            }
            return true
        }
        guard walk(fieldsV1, []) else { return nil }
        self.members = members
    }

    init(members: Set<OwnedPath> = []) { self.members = members }
}
