import Foundation
import Testing
import GantryAPI
import KubeCore
import KubeRuntime
@testable import GantryControllers

/// perNode rollouts as a pure function: the GPU fit node by node, a daemon pod's own failure named, Recreate.
extension InferencePerNodePlanningTests {
    func plan(_ service: InferenceService, daemonSets: [JSONValue], daemonPods: [JSONValue], gpu: GPUUsage? = nil,
              at now: Date = Self.start) -> KindPlan<InferenceServiceStatus> {
        planner.plan(KindObservation(object: service, children: [.pods: [], .daemonSets: daemonSets],
                                     inputs: .init(platform: PlatformConfigSpec(), gpu: gpu, daemonPods: daemonPods), now: now))
    }

    /// A pod of `ds` for `target` as the DaemonSet controller makes it (owned by the DaemonSet, pinned to its node
    /// by affinity), bound there unless `bound` is false, Ready when `ready`.
    static func daemonPod(_ ds: JSONValue, target: String, bound: Bool = true, ready: Bool = true) -> JSONValue {
        var pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ds[path: "spec", "template", "metadata"] ?? [:],
                              "spec": ds[path: "spec", "template", "spec"] ?? [:]]
        pod.name = "\(ds.name ?? "")-\(target)"
        pod.namespace = "default"
        pod.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "DaemonSet", name: ds.name ?? "", uid: "uid-\(ds.name ?? "")")]
        pod[path: "spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"] =
            ["nodeSelectorTerms": [["matchFields": [["key": "metadata.name", "operator": "In", "values": [.string(target)]]]]]]
        if bound { pod[path: "spec", "nodeName"] = .string(target) }
        pod[path: "status", "phase"] = bound ? "Running" : "Pending"
        if ready { pod[path: "status", "conditions"] = [["type": "Ready", "status": "True", "lastTransitionTime": "2020-01-01T00:00:00Z"]] }
        return pod
    }

    static func edgeGPUNode(_ name: String, gpus: Int) -> JSONValue {
        var node = gpuNode(name, gpus: gpus)
        node.labels["edge"] = "true"
        return node
    }

    @Test func aCandidateIsShortOfGPUsNodeByNodeNotInTotalAndRecreateIsTheWayOut() throws {
        // gpu-0 holds one GPU, taken by blue; gpu-1 has four, one taken: three free in all, none on gpu-0.
        let nodes = [Self.edgeGPUNode("gpu-0", gpus: 1), Self.edgeGPUNode("gpu-1", gpus: 4)]
        let first = plan(try service(image: "m:1", gpu: true), daemonSets: [], daemonPods: [])
        let blueSet = try #require(daemonSets(first).first)
        let blue = [Self.daemonPod(blueSet, target: "gpu-0"), Self.daemonPod(blueSet, target: "gpu-1")]
        let sets = [Self.rolledOut(blueSet, desired: 2, ready: 2)]
        let serving = plan(try service(image: "m:1", gpu: true, status: first.status), daemonSets: sets, daemonPods: blue)
        #expect(serving.status.conditions?.isTrue("Ready") == true)

        let short = plan(try service(image: "m:2", gpu: true, status: serving.status), daemonSets: sets, daemonPods: blue,
                         gpu: GPUUsage(nodes: nodes, pods: blue))
        let candidate = try #require(short.status.candidate)
        #expect(candidate.phase == .progressing && candidate.reason == "InsufficientGPUForSurge")
        let message = candidate.message ?? ""
        #expect(message.contains("needs 1 nvidia.com/gpu free on every node it runs on (one replica per node, spec.placement perNode)"), "\(message)")
        #expect(message.contains("1 of its 2 nodes lacks it: gpu-0 has 0 free of 1 (blue holds 1)"), "\(message)")
        #expect(message.contains("spec.rollout.strategy: Recreate"), "\(message)")
        #expect(short.status.conditions?[type: "Stalled"]?.reason == "InsufficientGPUForSurge")
        #expect(short.status.conditions?[type: "Progressing"]?.reason == "InsufficientGPUForSurge")
        #expect(short.events.contains { $0.type == .warning && $0.reason == "InsufficientGPUForSurge" })
        // Blue keeps its DaemonSet and the alias; green's DaemonSet is made (its pod on gpu-1 can start).
        #expect(short.status.activeColor == .blue && selector(short, "edge") == "blue")
        #expect(daemonSets(short).count == 2)

        // Green placed on gpu-1, Pending on gpu-0 where the scheduler found no GPU: still short there only.
        let greenSet = try #require(daemonSets(short).first { $0.name != blueSet.name })
        let green = [Self.daemonPod(greenSet, target: "gpu-1", ready: false), Self.daemonPod(greenSet, target: "gpu-0", bound: false, ready: false)]
        let still = plan(try service(image: "m:2", gpu: true, status: short.status), daemonSets: sets + [greenSet], daemonPods: blue + green,
                         gpu: GPUUsage(nodes: nodes, pods: blue + green), at: Self.start.addingTimeInterval(1))
        #expect(still.status.candidate?.reason == "InsufficientGPUForSurge")
        #expect(still.status.candidate?.message?.contains("gpu-0 has 0 free of 1") == true)
        #expect(still.status.candidate?.message?.contains("gpu-1") == false)
        #expect(!still.events.contains { $0.reason == "InsufficientGPUForSurge" })

        // Enough on every node: no shortage.
        let roomy = [Self.edgeGPUNode("gpu-0", gpus: 2), Self.edgeGPUNode("gpu-1", gpus: 4)]
        let fits = plan(try service(image: "m:2", gpu: true, status: serving.status), daemonSets: sets, daemonPods: blue, gpu: GPUUsage(nodes: roomy, pods: blue))
        #expect(fits.status.candidate?.reason == nil)
    }

    @Test func aShortNodeWhereTheServingColourHoldsNothingIsNotASurgeShortage() throws {
        let placement = GPUPlacement(request: GPURequest(count: 1), settings: GPUSettings())
        let constraints = placement.constraints(tolerations: placement.tolerations)
        // Another workload holds gpu-0's GPU (the caches see it free), and the scheduler says so for green's pod there.
        var pending = Self.daemonPod(["metadata": ["name": "edge-green-r2"]], target: "gpu-0", bound: false, ready: false)
        pending[path: "status", "conditions"] = [["type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                                  "message": "0/1 nodes are available: 1 Insufficient nvidia.com/gpu."]]
        let shortage = try #require(GPUShortage.perNode(candidate: [ServingPod(pending)], revision: "r2", serving: [], servingColor: .blue,
                                                        placement: placement, constraints: constraints, usage: GPUUsage(nodes: [gpuNode("gpu-0", gpus: 1)])))
        #expect(shortage.reason == "InsufficientGPU" && shortage.shortNodes?.map(\.node) == ["gpu-0"])
        #expect(shortage.message.contains("the serving colour holds none of it: free GPUs on those nodes"), "\(shortage.message)")
    }

    @Test func aFailingDaemonPodIsNamedWithItsNodeAndItsReasonFailsTheCandidateAtTheDeadline() throws {
        let first = plan(try service(image: "m:1"), daemonSets: [], daemonPods: [])
        let blueSet = try #require(daemonSets(first).first)
        let blue = [Self.daemonPod(blueSet, target: "edge-0"), Self.daemonPod(blueSet, target: "edge-1")]
        let serving = plan(try service(image: "m:1", status: first.status), daemonSets: [Self.rolledOut(blueSet, desired: 2, ready: 2)], daemonPods: blue)
        let rolling = plan(try service(image: "m:2", status: serving.status), daemonSets: [Self.rolledOut(blueSet, desired: 2, ready: 2)], daemonPods: blue)
        let greenSet = try #require(daemonSets(rolling).first { $0.name != blueSet.name })
        var pulling = Self.daemonPod(greenSet, target: "edge-1", ready: false)
        pulling[path: "status", "containerStatuses"] = [["name": "server", "state": ["waiting": ["reason": "ErrImagePull", "message": "not found"]]]]
        let sets = [Self.rolledOut(blueSet, desired: 2, ready: 2), Self.rolledOut(greenSet, desired: 2, ready: 1)]
        let pods = blue + [Self.daemonPod(greenSet, target: "edge-0"), pulling]

        let progressing = plan(try service(image: "m:2", status: rolling.status), daemonSets: sets, daemonPods: pods, at: Self.start.addingTimeInterval(5))
        let name = pulling.name ?? ""
        #expect(progressing.status.candidate?.message == "pod \(name) on node edge-1: ErrImagePull: not found")
        #expect(progressing.status.conditions?[type: "Progressing"]?.message.contains("pod \(name) on node edge-1: ErrImagePull") == true)

        let failed = plan(try service(image: "m:2", status: progressing.status), daemonSets: sets, daemonPods: pods, at: Self.start.addingTimeInterval(601))
        #expect(failed.status.candidate?.phase == .failed && failed.status.candidate?.reason == "ProgressDeadlineExceeded")
        #expect(failed.status.candidate?.message?.contains("pod \(name) on node edge-1: ErrImagePull: not found; blue keeps serving") == true)
        #expect(failed.events.contains { $0.reason == "RolloutFailed" && $0.note.contains("pod \(name) on node edge-1: ErrImagePull") })
        #expect(daemonSets(failed).map(\.name) == [blueSet.name] && selector(failed, "edge") == "blue")
    }

    @Test func recreateMakesTheNewDaemonSetOnlyOnceTheOldOneAndItsPodsAreGone() throws {
        func recreating(_ image: String, _ status: InferenceServiceStatus?) throws -> InferenceService {
            var object = try service(image: image, status: status)
            object.spec.rollout?.strategy = .recreate
            return object
        }
        let first = plan(try recreating("m:1", nil), daemonSets: [], daemonPods: [])
        let oldSet = try #require(daemonSets(first).first)
        let old = [Self.daemonPod(oldSet, target: "edge-0"), Self.daemonPod(oldSet, target: "edge-1")]
        let serving = plan(try recreating("m:1", first.status), daemonSets: [Self.rolledOut(oldSet, desired: 2, ready: 2)], daemonPods: old)

        // The new revision takes blue; the old DaemonSet is no longer desired (deleted in the foreground), the new one waits.
        let recreated = plan(try recreating("m:2", serving.status), daemonSets: [Self.rolledOut(oldSet, desired: 2, ready: 2)], daemonPods: old)
        let next = try #require(recreated.status.activeRevision)
        #expect(next.color == .blue && recreated.status.lastSwap?.reason == "Recreated" && recreated.status.candidate == nil)
        #expect(daemonSets(recreated).isEmpty)
        #expect(recreated.children.prune.contains(.daemonSets) && recreated.children.foreground.contains(.daemonSets))
        #expect(recreated.status.conditions?[type: "Progressing"]?.message.contains("waits until the previous revision's pods in blue are gone") == true)

        // Still there, being deleted, with its pods terminating: still waiting.
        var deleting = Self.rolledOut(oldSet, desired: 2, ready: 2)
        deleting[path: "metadata", "deletionTimestamp"] = "2027-01-15T08:00:00Z"
        #expect(daemonSets(plan(try recreating("m:2", recreated.status), daemonSets: [deleting], daemonPods: old)).isEmpty)
        // The DaemonSet gone but a pod still terminating (a background deletion): still waiting.
        let lingering = try recreating("m:2", recreated.status)
        #expect(daemonSets(planner.plan(KindObservation(object: lingering, children: [.pods: old, .daemonSets: []],
                                                        inputs: .init(platform: PlatformConfigSpec()), now: Self.start))).isEmpty)
        // Both gone: the new revision's DaemonSet.
        let gone = plan(try recreating("m:2", recreated.status), daemonSets: [], daemonPods: [])
        #expect(daemonSets(gone).map(\.name) == ["edge-blue-\(next.hash)"])
    }
}
