import KubeCore

/// Required node affinity as k8s.io/component-helpers/scheduling/corev1/nodeaffinity matches it.
extension SchedulingRules {
    /// A `NodeSelector` (`nodeSelectorTerms`): the terms are ORed; an empty or unparsable term matches no node, so a
    /// selector without a usable term matches none (`LazyErrorNodeSelector.Match`).
    public struct NodeSelector: Sendable, Hashable {
        public var terms: [Term]

        public init(terms: [Term]) { self.terms = terms }

        /// From `{nodeSelectorTerms: [...]}`; empty and invalid terms are dropped (they could match nothing).
        public init(json: JSONValue) {
            terms = (json["nodeSelectorTerms"]?.arrayValue ?? []).compactMap(Term.init(json:))
        }

        public func matches(_ node: Node) -> Bool { terms.contains { $0.matches(node) } }
    }

    /// One term: its label expressions and field expressions are ANDed.
    public struct Term: Sendable, Hashable {
        public var matchExpressions: [Requirement]
        /// Only `metadata.name` is a node field; operators In and NotIn with exactly one value.
        public var matchFields: [Requirement]

        /// nil for an empty term (it selects nothing) or one with an invalid requirement (a parse error: the
        /// term does not match, other terms still may).
        public init?(matchExpressions: [Requirement] = [], matchFields: [Requirement] = []) {
            guard !matchExpressions.isEmpty || !matchFields.isEmpty else { return nil }
            guard matchFields.allSatisfy({ ($0.op == .in || $0.op == .notIn) && $0.values.count == 1 }) else { return nil }
            self.matchExpressions = matchExpressions
            self.matchFields = matchFields
        }

        public init?(json: JSONValue) {
            var labels: [Requirement] = [], fields: [Requirement] = []
            for e in json["matchExpressions"]?.arrayValue ?? [] {
                guard let r = Requirement(json: e) else { return nil }
                labels.append(r)
            }
            for f in json["matchFields"]?.arrayValue ?? [] {
                guard let r = Requirement(json: f) else { return nil }
                fields.append(r)
            }
            self.init(matchExpressions: labels, matchFields: fields)
        }

        public func matches(_ node: Node) -> Bool {
            guard matchExpressions.allSatisfy({ $0.matches(node.label($0.key)) }) else { return false }
            // The node's field set holds only a non-empty metadata.name; an absent field reads as "" (fields.Set).
            guard let name = node.name, !name.isEmpty else { return true }
            return matchFields.allSatisfy { $0.matches($0.key == "metadata.name" ? name : "") }
        }
    }

    /// A `NodeSelectorRequirement`: key, operator, values.
    public struct Requirement: Sendable, Hashable {
        public enum Operator: String, Sendable, Hashable {
            case `in` = "In", notIn = "NotIn", exists = "Exists", doesNotExist = "DoesNotExist", gt = "Gt", lt = "Lt"
        }
        public var key: String
        public var op: Operator
        public var values: [String]

        /// nil when apimachinery's `labels.NewRequirement` would reject it: In/NotIn need values, Exists and
        /// DoesNotExist take none, Gt/Lt take exactly one integer.
        public init?(key: String, op: Operator, values: [String] = []) {
            switch op {
            case .in, .notIn: guard !values.isEmpty else { return nil }
            case .exists, .doesNotExist: guard values.isEmpty else { return nil }
            case .gt, .lt: guard values.count == 1, Int64(values[0]) != nil else { return nil }
            }
            self.key = key
            self.op = op
            self.values = values
        }

        public init?(json: JSONValue) {
            guard let key = json["key"]?.stringValue, let op = json["operator"]?.stringValue.flatMap(Operator.init(rawValue:)) else { return nil }
            self.init(key: key, op: op, values: json["values"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        }

        /// apimachinery `labels.Requirement.Matches`: NotIn and DoesNotExist match an absent label; Gt and Lt
        /// parse the label as a base-10 int64, and a label that is absent or not an integer does not match.
        public func matches(_ value: String?) -> Bool {
            switch op {
            case .in: return value.map(values.contains) ?? false
            case .notIn: return value.map { !values.contains($0) } ?? true
            case .exists: return value != nil
            case .doesNotExist: return value == nil
            case .gt, .lt:
                guard let label = value.flatMap({ Int64($0) }), let bound = values.first.flatMap({ Int64($0) }) else { return false }
                return op == .gt ? label > bound : label < bound
            }
        }
    }
}
