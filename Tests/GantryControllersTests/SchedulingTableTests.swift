import GantryControllers
import GantryTestSupport
import KubeCore
import Testing

/// The shared scheduling table (Tests/Support/SchedulingCases.swift) through the controllers' `SchedulingRules`;
/// EmbeddedClusterTests runs the same table through the embedded cluster's scheduler.
@Suite struct SchedulingTableTests {
    @Test(arguments: SchedulingCases.all)
    func rulesAnswerAsUpstream(_ c: SchedulingCase) {
        let constraints = SchedulingRules.PodConstraints(
            nodeSelector: c.nodeSelector, affinity: c.requiredAffinity.map(SchedulingRules.NodeSelector.init(json:)),
            tolerations: c.tolerations.map(Pod.Toleration.init(json:)), requests: c.requests)
        #expect(constraints.feasible(on: Node(json: c.node)) == c.feasible, "\(c.name)")
    }

    @Test func tableCoversEveryOperatorAndEffect() {
        let terms = SchedulingCases.all.flatMap { $0.nodeSelectorTerms ?? [] }
        let requirements = terms.flatMap { ($0["matchExpressions"]?.arrayValue ?? []) + ($0["matchFields"]?.arrayValue ?? []) }
        let operators = Set(requirements.compactMap { $0["operator"]?.stringValue })
        #expect(operators == ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"])
        #expect(terms.contains { $0["matchFields"] != nil })
        let effects = Set(SchedulingCases.all.flatMap { $0.node[path: "spec", "taints"]?.arrayValue ?? [] }.compactMap { $0["effect"]?.stringValue })
        #expect(effects == ["NoSchedule", "NoExecute", "PreferNoSchedule"])
        #expect(SchedulingCases.all.count >= 25)
        #expect(Set(SchedulingCases.all.map(\.name)).count == SchedulingCases.all.count, "case names are unique")
    }
}
