import KubeCore

/// Create/update rules of the apps/v1 workload kinds (pkg/registry/apps/{deployment,replicaset,daemonset}/strategy.go
/// and pkg/apis/apps/validation): defaults, the selector the template must match, and the selector's
/// immutability in apps/v1.
extension ObjectStore {
    static let workloadKinds: Set<String> = ["Deployment", "ReplicaSet", "DaemonSet"]

    func prepareWorkloadForCreate(_ info: ResourceInfo, _ obj: inout JSONValue) throws(APIStatusError) {
        Self.defaultWorkload(info.kind, &obj)
        let causes = Self.validateWorkload(obj)
        if !causes.isEmpty { throw .invalid(kind: info.kind, group: info.group, name: obj.name ?? "", causes: causes) }
    }

    func prepareWorkloadForUpdate(_ info: ResourceInfo, _ obj: inout JSONValue, old: JSONValue) throws(APIStatusError) {
        Self.defaultWorkload(info.kind, &obj)
        var causes = Self.validateWorkload(obj)
        // Immutable in apps/v1 (and every version after extensions/v1beta1): changing it would orphan the
        // controller's children (kubernetes/kubernetes#50808). ValidateImmutableField prints the Go value.
        let selector = obj[path: "spec", "selector"] ?? .null
        if selector != (old[path: "spec", "selector"] ?? .null) {
            causes.append(.invalid("spec.selector", Self.goLabelSelector(selector), "field is immutable"))
        }
        if !causes.isEmpty { throw .invalid(kind: info.kind, group: info.group, name: obj.name ?? "", causes: causes) }
    }

    /// pkg/apis/apps/v1/defaults.go: `SetDefaults_Deployment`, `SetDefaults_ReplicaSet`, `SetDefaults_DaemonSet`.
    static func defaultWorkload(_ kind: String, _ obj: inout JSONValue) {
        if kind != "DaemonSet", obj[path: "spec", "replicas"] == nil { obj[path: "spec", "replicas"] = 1 }
        if kind == "Deployment" {
            if obj[path: "spec", "strategy", "type"] == nil { obj[path: "spec", "strategy", "type"] = "RollingUpdate" }
            if obj[path: "spec", "strategy", "type"] == "RollingUpdate" {
                if obj[path: "spec", "strategy", "rollingUpdate", "maxUnavailable"] == nil {
                    obj[path: "spec", "strategy", "rollingUpdate", "maxUnavailable"] = "25%"
                }
                if obj[path: "spec", "strategy", "rollingUpdate", "maxSurge"] == nil {
                    obj[path: "spec", "strategy", "rollingUpdate", "maxSurge"] = "25%"
                }
            }
            if obj[path: "spec", "revisionHistoryLimit"] == nil { obj[path: "spec", "revisionHistoryLimit"] = 10 }
            if obj[path: "spec", "progressDeadlineSeconds"] == nil { obj[path: "spec", "progressDeadlineSeconds"] = 600 }
        }
    }

    /// The checks of `ValidateDeploymentSpec`/`ValidateReplicaSetSpec`/`ValidateDaemonSetSpec` an operator meets:
    /// a selector is required and must select the template's labels; the template needs containers.
    static func validateWorkload(_ obj: JSONValue) -> [APIStatusError.Cause] {
        var causes: [APIStatusError.Cause] = []
        guard let selector = obj[path: "spec", "selector"], selector != .null else {
            causes.append(.required("spec.selector"))
            return causes
        }
        let labels = (obj[path: "spec", "template", "metadata", "labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        if selector["matchLabels"] == nil && selector["matchExpressions"] == nil {
            causes.append(.invalid("spec.selector", goLabelSelector(selector), "empty selector is invalid for \(obj.kind?.lowercased() ?? "deployment")"))
        } else if let query = LabelQuery(selector: selector), !query.matches(labels) {
            causes.append(.invalid("spec.template.metadata.labels", goStringMap(labels), "`selector` does not match template `labels`"))
        }
        if obj[path: "spec", "template", "spec", "containers"]?.arrayValue?.isEmpty ?? true {
            causes.append(.required("spec.template.spec.containers"))
        }
        return causes
    }

    /// Go's `%#v` of a `metav1.LabelSelector`, as field errors print it.
    static func goLabelSelector(_ s: JSONValue) -> String {
        let labels = s["matchLabels"]?.objectValue.map { goStringMap($0.compactMapValues(\.stringValue)) } ?? "map[string]string(nil)"
        let expressions: String
        if let list = s["matchExpressions"]?.arrayValue {
            expressions = "[]v1.LabelSelectorRequirement{" + list.map { e in
                let values = e["values"]?.arrayValue.map { "[]string{" + $0.map { goQuote($0.stringValue ?? "") }.joined(separator: ", ") + "}" } ?? "[]string(nil)"
                return "v1.LabelSelectorRequirement{Key:\(goQuote(e["key"]?.stringValue ?? "")), Operator:\(goQuote(e["operator"]?.stringValue ?? "")), Values:\(values)}"
            }.joined(separator: ", ") + "}"
        } else {
            expressions = "[]v1.LabelSelectorRequirement(nil)"
        }
        return "v1.LabelSelector{MatchLabels:\(labels), MatchExpressions:\(expressions)}"
    }

    /// Go's `%#v` of a `map[string]string` (keys sorted, as fmt prints maps).
    static func goStringMap(_ m: [String: String]) -> String {
        "map[string]string{" + m.keys.sorted().map { "\(goQuote($0)):\(goQuote(m[$0] ?? ""))" }.joined(separator: ", ") + "}"
    }

    static func goQuote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}
