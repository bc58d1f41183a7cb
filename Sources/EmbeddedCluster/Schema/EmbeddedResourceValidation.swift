import KubeCore

extension Validator {
    // MARK: - embedded resources (apiextensions schema/objectmeta/validation.go)

    func embedded(_ v: JSONValue, _ n: SchemaNode, _ p: FieldPath, isRoot: Bool) -> [FieldError] {
        var errors: [FieldError] = []
        switch v {
        case .object(let o):
            // The root's apiVersion/kind are the server's business (it routes by them).
            if n.embeddedResource && !isRoot { errors += embeddedResource(o, p) }
            for key in o.keys.sorted() {
                guard let value = o[key] else { continue }
                if let sub = n.properties[key] {
                    errors += embedded(value, sub, p.child(key), isRoot: false)
                } else if let sub = n.additionalSchema {
                    errors += embedded(value, sub, p.key(key), isRoot: false)
                }
            }
        case .array(let a):
            if let items = n.items {
                for (i, item) in a.enumerated() { errors += embedded(item, items, p.index(i), isRoot: false) }
            }
        default:
            break
        }
        return errors
    }

    private func embeddedResource(_ o: [String: JSONValue], _ p: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if o["apiVersion"] == nil { errors.append(.required(p.child("apiVersion").fieldPath)) }
        if o["kind"] == nil { errors.append(.required(p.child("kind").fieldPath)) }
        if let av = o["apiVersion"] {
            let f = p.child("apiVersion").fieldPath
            if let s = av.stringValue {
                if s.isEmpty {
                    errors.append(.invalid(f, .json(av), "must not be empty"))
                } else if s.split(separator: "/", omittingEmptySubsequences: false).count > 2 {
                    // schema.ParseGroupVersion
                    errors.append(.invalid(f, .json(av), "unexpected GroupVersion string: \(s)"))
                }
            } else {
                errors.append(.invalid(f, .json(av), "must be a string"))
            }
        }
        if let k = o["kind"] {
            let f = p.child("kind").fieldPath
            if let s = k.stringValue {
                if s.isEmpty { errors.append(.invalid(f, .json(k), "must not be empty")) }
            } else {
                errors.append(.invalid(f, .json(k), "must be a string"))
            }
        }
        return errors
    }
}
