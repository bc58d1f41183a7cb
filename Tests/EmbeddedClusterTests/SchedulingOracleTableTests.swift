import GantryTestSupport
import KubeCore
import Testing

@testable import EmbeddedCluster

/// The shared scheduling table (Tests/Support/SchedulingCases.swift) through the embedded cluster's scheduler
/// filters (NodeUnschedulable, TaintToleration with NodeMatching, NodeAffinity, NodeResourcesFit); GantryControllersTests
/// runs the same table through the controllers' `SchedulingRules`.
@Suite struct SchedulingOracleTableTests {
    @Test(arguments: SchedulingCases.all)
    func oracleAnswersAsUpstream(_ c: SchedulingCase) {
        // The node as the scheduler reads it: stored through the API server's defaulting.
        var node = c.node
        ObjectStore.defaultNodeStatus(&node)
        let pod = c.pod
        let verdict = Scheduler.filter(pod: pod, requests: PodRequests.of(pod), node: node, usage: NodeUsage(nodes: [node], pods: []))
        #expect((verdict == nil) == c.feasible, "\(c.name): \(verdict?.reasons ?? [])")
    }
}
