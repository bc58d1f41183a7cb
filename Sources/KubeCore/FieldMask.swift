/// Which parts of an object a cache keeps: declared by each reader, united per cache, applied to every object
/// on its way in. A controller that reads a field it never declared reads nothing, so a reader declares all it
/// reads; two readers of one cache get the union (one informer per resource, shared by every controller).
public indirect enum FieldMask: Sendable, Hashable {
    /// The whole value.
    case all
    /// Of an object: these keys (each with its own mask), and the keys starting with one of these prefixes.
    case object(keys: [String: FieldMask], prefixes: [String: FieldMask] = [:])
    /// Of an array: each element (whose `filterKey` member is one of `values`, when a filter is given).
    case elements(FieldMask, filterKey: String? = nil, values: Set<String> = [])

    /// Keys of an object, each kept whole.
    public static func keys(_ names: String...) -> FieldMask {
        .object(keys: Dictionary(uniqueKeysWithValues: names.map { ($0, FieldMask.all) }))
    }

    /// The mask that keeps only the value at `path` (object keys), with `leaf` below it.
    public static func path(_ path: [String], _ leaf: FieldMask = .all) -> FieldMask {
        path.reversed().reduce(leaf) { inner, key in .object(keys: [key: inner]) }
    }

    /// Everything either mask keeps.
    public func union(_ other: FieldMask) -> FieldMask {
        switch (self, other) {
        case (.all, _), (_, .all):
            return .all
        case let (.object(k1, p1), .object(k2, p2)):
            return .object(keys: k1.merging(k2) { $0.union($1) }, prefixes: p1.merging(p2) { $0.union($1) })
        case let (.elements(m1, f1, v1), .elements(m2, f2, v2)):
            // Two filters on the same member widen to both value sets; anything else keeps every element.
            if let f1, f1 == f2 { return .elements(m1.union(m2), filterKey: f1, values: v1.union(v2)) }
            return .elements(m1.union(m2))
        default:
            return .all  // masks of different shapes: the readers disagree about the type; keep it whole
        }
    }

    public static func union(_ masks: [FieldMask]) -> FieldMask? {
        guard var result = masks.first else { return nil }
        for m in masks.dropFirst() { result = result.union(m) }
        return result
    }

    /// The kept part of `value`, or nil when nothing of it is kept (an absent field stays absent).
    public func apply(_ value: JSONValue) -> JSONValue? {
        switch self {
        case .all:
            return value
        case let .object(keys, prefixes):
            guard case .object(let members) = value else { return nil }
            var kept: [String: JSONValue] = [:]
            for (key, mask) in keys { if let v = members[key], let k = mask.apply(v) { kept[key] = k } }
            if !prefixes.isEmpty {
                for (key, v) in members where kept[key] == nil {
                    guard let mask = prefixes.first(where: { key.hasPrefix($0.key) })?.value, let k = mask.apply(v) else { continue }
                    kept[key] = k
                }
            }
            return kept.isEmpty ? nil : .object(kept)
        case let .elements(mask, filterKey, values):
            guard case .array(let items) = value else { return nil }
            let kept = items.compactMap { item -> JSONValue? in
                if let filterKey, !values.contains(item[filterKey]?.stringValue ?? "") { return nil }
                return mask.apply(item)
            }
            return kept.isEmpty ? nil : .array(kept)
        }
    }

    /// Whether a string member `key` of an object would be kept (what `apply` does with it).
    public func keepsString(at key: String) -> Bool {
        switch self {
        case .all: return true
        case let .object(keys, prefixes):
            if keys[key] == .all { return true }
            return prefixes.first(where: { key.hasPrefix($0.key) })?.value == .all
        case .elements: return false
        }
    }

    /// A projection for `Store`: the masked object, or an empty object when nothing is kept.
    public func project(_ object: JSONValue) -> JSONValue { apply(object) ?? .emptyObject }
}
