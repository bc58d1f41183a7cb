import Foundation
import KubeCore
import Testing

@testable import EmbeddedCluster

@Suite struct SimulationDaemonSetTests {
    let nodes = SimFixtures.nodes("2x{gpu: 8}, 1x{cpu: 16}")

    func daemonSet(tolerateGPU: Bool, nodeSelector: JSONValue? = nil) -> JSONValue {
        var ds: JSONValue = [
            "apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": ["name": "dcgm", "namespace": "gpu-system", "uid": "ds-uid", "generation": 3],
            "spec": ["template": ["metadata": ["labels": ["app": "dcgm"]],
                                  "spec": ["containers": [["name": "exporter", "image": "nvidia/dcgm-exporter"]]]]],
        ]
        if tolerateGPU { ds[path: "spec", "template", "spec", "tolerations"] = [SimFixtures.gpuToleration] }
        if let nodeSelector { ds[path: "spec", "template", "spec", "nodeSelector"] = nodeSelector }
        return ds
    }

    @Test func onePodPerEligibleNode() {
        let plan = DaemonSetSimulator.plan(daemonSet: daemonSet(tolerateGPU: true), nodes: nodes, pods: [])
        #expect(plan.create.count == 3)
        let pod = plan.create[0]
        #expect(pod.namespace == "gpu-system" && pod.labels["app"] == "dcgm")
        #expect(pod.controllerReference?.kind == "DaemonSet" && pod.controllerReference?.uid == "ds-uid")
        #expect(DaemonSetSimulator.targetNode(pod) == "cpu-0")
        #expect(pod.labels["pod-template-generation"] == "3")
        #expect(plan.status["desiredNumberScheduled"] == 3 && plan.status["currentNumberScheduled"] == 0)
        #expect(plan.status["observedGeneration"] == 3)
        // The created pod schedules onto exactly its node.
        let bound = Scheduler.schedule(pending: plan.create, nodes: nodes, bound: [])
        #expect(bound.bindings.map(\.node).sorted() == ["cpu-0", "gpu-a100-0", "gpu-a100-1"])
    }

    @Test func taintsAndSelectorsLimitNodes() {
        let untolerant = DaemonSetSimulator.plan(daemonSet: daemonSet(tolerateGPU: false), nodes: nodes, pods: [])
        #expect(untolerant.create.compactMap(DaemonSetSimulator.targetNode) == ["cpu-0"])
        let selected = DaemonSetSimulator.plan(daemonSet: daemonSet(tolerateGPU: true, nodeSelector: ["nvidia.com/gpu.present": "true"]),
                                               nodes: nodes, pods: [])
        #expect(selected.create.compactMap(DaemonSetSimulator.targetNode) == ["gpu-a100-0", "gpu-a100-1"])
    }

    @Test func statusCountsAndCleanup() {
        let ds = daemonSet(tolerateGPU: false)
        var running = DaemonSetSimulator.plan(daemonSet: ds, nodes: nodes, pods: []).create[0]
        running[path: "spec", "nodeName"] = "cpu-0"
        running[path: "status", "conditions"] = [["type": "Ready", "status": "True"]]
        var stray = running
        stray.name = "dcgm-stray"
        stray[path: "spec", "nodeName"] = "gpu-a100-0"
        stray[path: "spec", "affinity"] = nil
        let plan = DaemonSetSimulator.plan(daemonSet: ds, nodes: nodes, pods: [running, stray])
        #expect(plan.create.isEmpty)
        #expect(plan.delete == [stray.objectKey])
        #expect(plan.status["desiredNumberScheduled"] == 1 && plan.status["currentNumberScheduled"] == 1)
        #expect(plan.status["numberReady"] == 1 && plan.status["numberAvailable"] == 1 && plan.status["numberMisscheduled"] == 1)
        #expect(plan.status["updatedNumberScheduled"] == 1)
    }

    /// As `updateDaemonSetStatus`: a pod not yet bound still counts as current on its node; available waits for
    /// minReadySeconds from the Ready transition; misscheduled counts nodes, not pods.
    @Test func statusCountsTargetedPodsAndMinReadySeconds() throws {
        var ds = daemonSet(tolerateGPU: false)
        ds[path: "spec", "minReadySeconds"] = 10
        var pod = DaemonSetSimulator.plan(daemonSet: ds, nodes: nodes, pods: []).create[0]
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(DaemonSetSimulator.plan(daemonSet: ds, nodes: nodes, pods: [pod], now: now).status["currentNumberScheduled"] == 1)
        pod[path: "spec", "nodeName"] = "cpu-0"
        pod[path: "status", "conditions"] = [["type": "Ready", "status": "True", "lastTransitionTime": .string(Timestamp.format(now.addingTimeInterval(-4)))]]
        let early = DaemonSetSimulator.plan(daemonSet: ds, nodes: nodes, pods: [pod], now: now).status
        #expect(early["numberReady"] == 1 && early["numberAvailable"] == 0 && early["numberUnavailable"] == 1)
        let later = DaemonSetSimulator.plan(daemonSet: ds, nodes: nodes, pods: [pod], now: now.addingTimeInterval(6)).status
        #expect(later["numberAvailable"] == 1 && later["numberUnavailable"] == 0)
    }

    /// A rolling update deletes outdated pods that are not available at once, without spending maxUnavailable;
    /// OnDelete leaves them.
    @Test func outdatedUnavailablePodsAreReplacedAtOnce() {
        var ds = daemonSet(tolerateGPU: true)
        var pods = DaemonSetSimulator.plan(daemonSet: ds, nodes: nodes, pods: []).create
        for i in pods.indices { pods[i][path: "spec", "nodeName"] = .string(DaemonSetSimulator.targetNode(pods[i]) ?? "") }
        ds[path: "spec", "template", "spec", "containers"] = [["name": "exporter", "image": "nvidia/dcgm-exporter:2"]]
        let plan = DaemonSetSimulator.plan(daemonSet: ds, nodes: nodes, pods: pods)
        #expect(Set(plan.delete) == Set(pods.map(\.objectKey)))
        #expect(plan.status["updatedNumberScheduled"] == 0 && plan.status["numberReady"] == 0)
        ds[path: "spec", "updateStrategy"] = ["type": "OnDelete"]
        #expect(DaemonSetSimulator.plan(daemonSet: ds, nodes: nodes, pods: pods).delete.isEmpty)
    }
}

@Suite struct SimulationEndpointsTests {
    let service: JSONValue = [
        "apiVersion": "v1", "kind": "Service",
        "metadata": ["name": "llm", "namespace": "default", "labels": ["app": "llm"]],
        "spec": ["selector": ["app": "llm"], "ports": [["name": "http", "port": 80, "targetPort": "http"],
                                                        ["name": "metrics", "port": 9090, "targetPort": 9090]]],
    ]

    func pod(_ name: String, ip: String?, ready: Bool, deleting: Bool = false, app: String = "llm") -> JSONValue {
        var p = SimFixtures.pod(name, labels: ["app": app])
        p[path: "spec", "containers"] = [["name": "main", "image": "vllm", "ports": [["name": "http", "containerPort": 8000]]]]
        p[path: "spec", "nodeName"] = "gpu-a100-0"
        if let ip { p[path: "status", "podIP"] = .string(ip) }
        p[path: "status", "phase"] = "Running"
        p[path: "status", "conditions"] = [["type": "Ready", "status": .string(ready ? "True" : "False")]]
        if deleting { p[path: "metadata", "deletionTimestamp"] = "2026-01-01T00:00:00Z" }
        return p
    }

    @Test func readyAndNotReadyAddresses() throws {
        let pods = [pod("b", ip: "10.244.0.3", ready: true), pod("a", ip: "10.244.0.2", ready: true),
                    pod("c", ip: "10.244.0.4", ready: false), pod("d", ip: nil, ready: false),
                    pod("e", ip: "10.244.0.6", ready: true, deleting: true), pod("f", ip: "10.244.0.7", ready: true, app: "other")]
        let ep = try #require(EndpointsSimulator.endpoints(service: service, pods: pods))
        #expect(ep.name == "llm" && ep.namespace == "default" && ep.labels["app"] == "llm")
        let subsets = ep["subsets"]?.arrayValue ?? []
        #expect(subsets.count == 1)
        #expect(subsets[0]["addresses"]?.arrayValue?.compactMap { $0["ip"]?.stringValue } == ["10.244.0.2", "10.244.0.3"])
        #expect(subsets[0]["notReadyAddresses"]?.arrayValue?.compactMap { $0["ip"]?.stringValue } == ["10.244.0.4"])
        #expect(subsets[0]["ports"] == [["name": "http", "port": 8000, "protocol": "TCP"], ["name": "metrics", "port": 9090, "protocol": "TCP"]])
        #expect(subsets[0]["addresses"]?.arrayValue?.first?[path: "targetRef", "name"] == "a")
        #expect(subsets[0]["addresses"]?.arrayValue?.first?["nodeName"] == "gpu-a100-0")
    }

    @Test func publishNotReadyAndNoSelector() throws {
        var s = service
        s[path: "spec", "publishNotReadyAddresses"] = true
        let ep = try #require(EndpointsSimulator.endpoints(service: s, pods: [pod("c", ip: "10.244.0.4", ready: false)]))
        #expect(ep["subsets"]?.arrayValue?.first?["addresses"]?.arrayValue?.count == 1)
        s[path: "spec", "selector"] = nil
        #expect(EndpointsSimulator.endpoints(service: s, pods: []) == nil)
        let empty = try #require(EndpointsSimulator.endpoints(service: service, pods: []))
        #expect(empty["subsets"] == nil)
    }
}

@Suite struct SimulationEndpointSliceTests {
    let service: JSONValue = {
        var s = SimulationEndpointsTests().service
        s[path: "metadata", "uid"] = "svc-uid"
        return s
    }()
    func pod(_ name: String, ip: String?, ready: Bool, deleting: Bool = false, app: String = "llm") -> JSONValue {
        SimulationEndpointsTests().pod(name, ip: ip, ready: ready, deleting: deleting, app: app)
    }

    @Test func endpointsCarryReadyServingAndTerminating() throws {
        let pods = [pod("b", ip: "10.244.0.3", ready: true), pod("a", ip: "10.244.0.2", ready: true),
                    pod("c", ip: "10.244.0.4", ready: false), pod("d", ip: nil, ready: false),
                    pod("e", ip: "10.244.0.6", ready: true, deleting: true), pod("f", ip: "10.244.0.7", ready: true, app: "other")]
        let slices = try #require(EndpointSliceSimulator.desired(service: service, pods: pods))
        #expect(slices.count == 1)
        let endpoints = slices[0].endpoints
        #expect(endpoints.compactMap { $0["addresses"]?.arrayValue?.first?.stringValue } == ["10.244.0.2", "10.244.0.3", "10.244.0.4", "10.244.0.6"])
        #expect(endpoints.map { $0[path: "conditions", "ready"] } == [true, true, false, false])
        #expect(endpoints.map { $0[path: "conditions", "serving"] } == [true, true, false, true])
        #expect(endpoints.map { $0[path: "conditions", "terminating"] } == [false, false, false, true])
        #expect(endpoints[0][path: "targetRef", "name"] == "a" && endpoints[0]["nodeName"] == "gpu-a100-0")
        #expect(slices[0].ports == [["name": "http", "port": 8000, "protocol": "TCP"], ["name": "metrics", "port": 9090, "protocol": "TCP"]])

        // publishNotReadyAddresses: every endpoint ready, serving still the pod's readiness (upstream podToEndpoint).
        var publishing = service
        publishing[path: "spec", "publishNotReadyAddresses"] = true
        let published = try #require(EndpointSliceSimulator.desired(service: publishing, pods: pods))[0].endpoints
        #expect(published.map { $0[path: "conditions", "ready"] } == [true, true, true, true])
        #expect(published.map { $0[path: "conditions", "serving"] } == [true, true, false, true])
    }

    @Test func podsInTheServicesSubdomainCarryTheirHostname() throws {
        var named = pod("a", ip: "10.244.0.2", ready: true)
        named[path: "spec", "hostname"] = "worker-0"
        named[path: "spec", "subdomain"] = "llm"
        var elsewhere = pod("b", ip: "10.244.0.3", ready: true)
        elsewhere[path: "spec", "hostname"] = "worker-1"
        elsewhere[path: "spec", "subdomain"] = "other"
        let endpoints = try #require(EndpointSliceSimulator.desired(service: service, pods: [named, elsewhere]))[0].endpoints
        #expect(endpoints.map { $0["hostname"] } == ["worker-0", nil])
    }

    @Test func slicesAreNamedOwnedAndReused() throws {
        let desired = try #require(EndpointSliceSimulator.desired(service: service, pods: [pod("a", ip: "10.244.0.2", ready: true)]))
        let first = EndpointSliceSimulator.reconcile(service: service, desired: desired, existing: [])
        #expect(first.create.count == 1 && first.update.isEmpty && first.delete.isEmpty)
        var slice = first.create[0]
        #expect(slice[path: "metadata", "generateName"] == "llm-")
        #expect(slice["addressType"] == "IPv4")
        #expect(slice.labels["kubernetes.io/service-name"] == "llm" && slice.labels["app"] == "llm")
        #expect(slice.labels["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io")
        #expect(slice[path: "metadata", "ownerReferences"]?.arrayValue?.first?["uid"] == "svc-uid")
        #expect(slice[path: "metadata", "ownerReferences"]?.arrayValue?.first?["controller"] == true)
        slice.name = "llm-abcde"
        // Converged: nothing to write.
        let again = EndpointSliceSimulator.reconcile(service: service, desired: desired, existing: [slice])
        #expect(again.create.isEmpty && again.update.isEmpty && again.delete.isEmpty)
        // No pods left: the slice stays, empty (the real controller keeps one placeholder slice).
        let empty = try #require(EndpointSliceSimulator.desired(service: service, pods: []))
        let drained = EndpointSliceSimulator.reconcile(service: service, desired: empty, existing: [slice])
        #expect(drained.update.count == 1 && drained.update[0]["endpoints"] == [] && drained.update[0]["ports"] == nil)
        // A selector-less service has no controller-managed slices.
        var manual = service
        manual[path: "spec", "selector"] = nil
        #expect(EndpointSliceSimulator.desired(service: manual, pods: []) == nil)
    }

    @Test func atMostAHundredEndpointsPerSlice() throws {
        let pods = (0..<250).map { i in pod("p\(i)", ip: "10.245.\(i / 200).\(i % 200 + 1)", ready: true) }
        let slices = try #require(EndpointSliceSimulator.desired(service: service, pods: pods))
        #expect(slices.map(\.endpoints.count) == [100, 100, 50])
        let extra: [JSONValue] = (0..<4).map { i in
            var s: JSONValue = ["metadata": ["name": .string("llm-\(i)"), "namespace": "default"]]
            s.labels = ["kubernetes.io/service-name": "llm"]
            return s
        }
        let plan = EndpointSliceSimulator.reconcile(service: service, desired: slices, existing: extra)
        #expect(plan.update.count == 3 && plan.create.isEmpty && plan.delete == [ObjectKey(namespace: "default", name: "llm-3")])
    }
}

@Suite struct SimulationNodeDisruptionTests {
    func runningPod() -> JSONValue {
        var p = SimFixtures.pod("train", nodeName: "gpu-a100-0")
        let r = PodRuntime(acceptedAt: SimFixtures.now, podIP: "10.244.0.2", hostIP: "10.0.0.2")
        p["status"] = KubeletSimulator.decide(pod: p, script: .success(PodScript()), runtime: r, now: SimFixtures.now.addingTimeInterval(5)).status
        return p
    }

    @Test func spotPreemptionLooksLikeGracefulNodeShutdown() {
        let s = NodeDisruption.shutdownStatus(pod: runningPod(), now: SimFixtures.now.addingTimeInterval(60))
        #expect(s["phase"] == "Failed" && s["reason"] == "Terminated")
        #expect(s["message"] == "Pod was terminated in response to imminent node shutdown.")
        let disruption = s["conditions"]?.arrayValue?.first { $0["type"] == "DisruptionTarget" }
        #expect(disruption?["status"] == "True" && disruption?["reason"] == "TerminationByKubelet")
        #expect(s["containerStatuses"]?.arrayValue?.first?[path: "state", "terminated", "exitCode"] == 143)
        #expect(s["conditions"]?.arrayValue?.first { $0["type"] == "Ready" }?["status"] == "False")
    }

    @Test func lostNodeAndEvictionDelay() {
        let node = SimFixtures.nodes("{gpu: 8}")[0]
        let lost = NodeDisruption.lostNode(node, now: SimFixtures.now)
        #expect(!NodeMatching.isReady(lost))
        #expect(lost[path: "status", "conditions"]?.arrayValue?.first { $0["type"] == "Ready" }?["reason"] == "NodeStatusUnknown")
        #expect(NodeMatching.effectiveTaints(node: lost).contains(Taint(key: "node.kubernetes.io/unreachable", effect: "NoExecute")))
        var pod = runningPod()
        #expect(NodeDisruption.evictionDelay(pod: pod) == 300)
        pod[path: "spec", "tolerations"] = [["key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30]]
        #expect(NodeDisruption.evictionDelay(pod: pod) == 30)
        pod[path: "spec", "tolerations"] = [["operator": "Exists"]]
        #expect(NodeDisruption.evictionDelay(pod: pod) == nil)
        let gc = NodeDisruption.podGCStatus(pod: runningPod(), now: SimFixtures.now)
        #expect(gc["conditions"]?.arrayValue?.first { $0["type"] == "DisruptionTarget" }?["reason"] == "DeletionByPodGC")
    }
}
