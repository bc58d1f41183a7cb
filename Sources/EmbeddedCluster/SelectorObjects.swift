import KubeCore

/// `metav1.LabelSelector` objects (`matchLabels` + `matchExpressions`), as the workload controllers read them.
extension LabelQuery {
    /// nil for a selector that cannot be read (an unknown operator): it selects nothing, as
    /// apimachinery's `LabelSelectorAsSelector` errors and the controllers then skip the object.
    init?(selector: JSONValue) {
        self.init()
        for (key, value) in (selector["matchLabels"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            requirements.append(.equals(key, value.stringValue ?? ""))
        }
        for e in selector["matchExpressions"]?.arrayValue ?? [] {
            guard let key = e["key"]?.stringValue else { return nil }
            let values = Set((e["values"]?.arrayValue ?? []).compactMap(\.stringValue))
            switch e["operator"]?.stringValue {
            case "In": requirements.append(.isIn(key, values))
            case "NotIn": requirements.append(.notIn(key, values))
            case "Exists": requirements.append(.exists(key))
            case "DoesNotExist": requirements.append(.notExists(key))
            default: return nil
            }
        }
    }

    /// The query-string form (`a=b,c in (x,y)`), as `labels.Selector.String()` prints it for a Scale's
    /// `status.selector`: requirements sorted by key, values sorted.
    var text: String {
        func key(_ r: Requirement) -> String {
            switch r {
            case .equals(let k, _), .notEquals(let k, _), .isIn(let k, _), .notIn(let k, _), .exists(let k), .notExists(let k): return k
            }
        }
        return requirements.sorted { key($0) < key($1) }.map { r in
            switch r {
            case .equals(let k, let v): return "\(k)=\(v)"
            case .notEquals(let k, let v): return "\(k)!=\(v)"
            case .isIn(let k, let vs): return "\(k) in (\(vs.sorted().joined(separator: ",")))"
            case .notIn(let k, let vs): return "\(k) notin (\(vs.sorted().joined(separator: ",")))"
            case .exists(let k): return k
            case .notExists(let k): return "!\(k)"
            }
        }.joined(separator: ",")
    }
}
