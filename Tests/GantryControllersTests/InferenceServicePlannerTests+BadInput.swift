import Foundation
import Testing
import GantryAPI
import KubeCore
import KubeRuntime
@testable import GantryControllers

/// A GPU request no node can hold, as a pure function (end to end: InferenceServiceTests+BadInput).
extension InferenceServicePlannerTests {
    @Test func aGPURequestNoNodeCanHoldMakesNoRevisionAndLeavesTheServingOneAlone() throws {
        let nodes = [gpuNode("gpu-0", gpus: 4)]
        let inputs = InferenceServicePlanner.Inputs(platform: PlatformConfigSpec(), nodes: nodes)
        let first = plan(try service(image: "m:1", spec: ["gpu": ["count": 8]]), pods: [], inputs: inputs, at: Self.start)
        #expect(first.status.activeRevision == nil && first.children.desired.isEmpty)
        #expect(first.status.conditions?[type: "Stalled"]?.reason == "NoMatchingGPUNodes")
        #expect(first.status.conditions?[type: "Stalled"]?.message.hasPrefix("spec.gpu: no node can ever run one replica: it needs 8 nvidia.com/gpu; the largest matching node has 4") == true)
        #expect(first.events.contains { $0.reason == "NoMatchingGPUNodes" && $0.type == .warning })
        #expect(first.requeueAfter == .seconds(30))

        // Serving m:1 on one GPU each; an update asking for 8 makes no candidate and keeps blue's pods.
        let serving = plan(try service(image: "m:1", spec: ["gpu": ["count": 1]]), pods: [], inputs: inputs, at: Self.start)
        let blue = readyPods(serving, now: Self.start)
        let bad = plan(try service(image: "m:2", status: serving.status, spec: ["gpu": ["count": 8]]), pods: blue, inputs: inputs, at: Self.start)
        #expect(bad.status.candidate == nil && bad.status.activeRevision == serving.status.activeRevision)
        #expect(bad.status.conditions?[type: "Stalled"]?.message.contains("keeps serving in blue") == true)
        #expect(Set(bad.children.desired.filter { $0.type == .pods }.compactMap(\.object.name)) == Set(blue.compactMap(\.name)))
        #expect(selector(bad, "api") == "blue")
    }
}
