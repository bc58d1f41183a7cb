import KubeCore

extension Validator {
    // MARK: - list types (apiextensions schema/listtype/validation.go)

    func listTypes(_ v: JSONValue, _ n: SchemaNode, _ p: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        switch v {
        case .object(let o):
            for key in o.keys.sorted() {
                guard let value = o[key] else { continue }
                if let sub = n.properties[key] {
                    errors += listTypes(value, sub, p.child(key))
                } else if let sub = n.additionalSchema {
                    errors += listTypes(value, sub, p.key(key))
                }
            }
        case .array(let a):
            if n.listType == "set" {
                for i in Self.firstRepeats(a) { errors.append(.duplicate(p.index(i).fieldPath, .json(a[i]))) }
            } else if n.listType == "map" {
                errors += listMap(a, n, p)
            }
            if let items = n.items {
                for (i, item) in a.enumerated() { errors += listTypes(item, items, p.index(i)) }
            }
        default:
            break
        }
        return errors
    }

    private func listMap(_ a: [JSONValue], _ n: SchemaNode, _ p: FieldPath) -> [FieldError] {
        for (i, x) in a.enumerated() {
            switch x {
            case .null, .object: continue
            default: return [.invalid(p.index(i).fieldPath, .json(x), "must be an object for an array of list-type map")]
            }
        }
        // A missing key is its own value ("unspecified"), distinct from an explicit null.
        let keys: [JSONValue] = a.map { x in
            var key: [String: JSONValue] = [:]
            for k in n.listMapKeys { if let value = x[k] { key[k] = value } }
            return .object(key)
        }
        return Self.firstRepeats(keys).map { i in
            .duplicate(p.index(i).fieldPath, .goSyntax(GoFormat.goSyntax(keys[i])))
        }
    }

    /// Indices of the second occurrence of each repeated value (validateListSet reports each value once).
    static func firstRepeats(_ a: [JSONValue]) -> [Int] {
        var seen: [JSONValue: Int] = [:]
        var out: [Int] = []
        for (i, x) in a.enumerated() {
            let count = (seen[x] ?? 0) + 1
            seen[x] = count
            if count == 2 { out.append(i) }
        }
        return out
    }
}
