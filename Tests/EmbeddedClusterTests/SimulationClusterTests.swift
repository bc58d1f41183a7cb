import GantryTestSupport
import Foundation
import KubeCore
import Testing

@testable import EmbeddedCluster

/// The simulation inside a real DevCluster, driven by kubectl. Wall-clock time here (the server's clock), so
/// every wait is `eventually` with a deadline; the pure parts are covered deterministically elsewhere.
@Suite(.serialized) struct SimulationClusterTests {
    @Test func nodesPodsLogsProxyAndScheduling() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(nodes: "1x{gpu: 2, product: H100}, 1x{cpu: 4}"))) { t async throws in
            var r = await t.kubectl("get", "nodes")
            #expect(r.stdout.contains("gpu-h100-0") && r.stdout.contains("cpu-0") && r.stdout.contains("Ready"), "\(r.stdout) \(r.stderr)")

            let pod = """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: train
                  annotations:
                    sim.gantry.dev/script: |
                      {startDelay: 0s,
                       logs: [{at: 0s, line: "starting on {node}"}, {at: 0.5s, line: "step=1 loss=0.9"}],
                       http: {"/status": {body: {state: "training"}}},
                       exit: {code: 0, after: 2s}}
                spec:
                  restartPolicy: Never
                  tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
                  containers:
                  - name: main
                    image: trainer:v1
                    ports: [{containerPort: 8080}]
                    resources: {limits: {nvidia.com/gpu: 1}}
                """
            r = await t.kubectl("apply", "-f", "-", stdin: pod)
            #expect(r.ok, "\(r.stderr)")
            let running = try await eventually {
                await t.cluster.store.get("pods", namespace: "default", name: "train")?[path: "status", "phase"] == "Running"
            }
            #expect(running)
            let node = await t.cluster.store.get("pods", namespace: "default", name: "train")?[path: "spec", "nodeName"]
            #expect(node == "gpu-h100-0")
            r = await t.kubectl("get", "--raw", "/api/v1/namespaces/default/pods/train:8080/proxy/status")
            #expect(r.stdout.contains("training"), "\(r.stdout) \(r.stderr)")
            let succeeded = try await eventually {
                await t.cluster.store.get("pods", namespace: "default", name: "train")?[path: "status", "phase"] == "Succeeded"
            }
            #expect(succeeded)
            r = await t.kubectl("logs", "train")
            #expect(r.stdout == "starting on gpu-h100-0\nstep=1 loss=0.9\n", "\(r.stdout) \(r.stderr)")

            let greedy = """
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "greedy"},
                 "spec": {"containers": [{"name": "main", "image": "busybox", "resources": {"requests": {"cpu": "64"}}}]}}
                """
            r = await t.kubectl("apply", "-f", "-", stdin: greedy)
            #expect(r.ok, "\(r.stderr)")
            let unschedulable = try await eventually {
                let p = await t.cluster.store.get("pods", namespace: "default", name: "greedy")
                return p?[path: "status", "conditions"]?.arrayValue?.contains { $0["reason"] == "Unschedulable" } ?? false
            }
            #expect(unschedulable)
            r = await t.kubectl("describe", "pod", "greedy")
            #expect(r.stdout.contains("0/2 nodes are available"), "\(r.stdout) \(r.stderr)")
        }
    }

    /// Endpoints and EndpointSlices follow the pods behind a Service; the slices go with the Service.
    @Test func serviceEndpointsAndEndpointSlices() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(nodes: "1x{cpu: 8}"))) { t async throws in
            let manifest = """
                apiVersion: v1
                kind: Service
                metadata: {name: web}
                spec:
                  selector: {app: web}
                  ports: [{name: http, port: 80, targetPort: 8080}]
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: web-1, labels: {app: web}}
                spec: {containers: [{name: main, image: nginx, ports: [{containerPort: 8080}]}]}
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: web-2, labels: {app: web}}
                spec: {containers: [{name: main, image: nginx, ports: [{containerPort: 8080}]}]}
                """
            var r = await t.kubectl("apply", "-f", "-", stdin: manifest)
            #expect(r.ok, "\(r.stderr)")
            @Sendable func readyEndpoints() async throws -> [String] {
                let list = try await t.json("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb")
                return (list["items"]?.arrayValue ?? []).flatMap { $0["endpoints"]?.arrayValue ?? [] }
                    .filter { $0[path: "conditions", "ready"] == true }.compactMap { $0[path: "targetRef", "name"]?.stringValue }.sorted()
            }
            #expect(try await eventually { try await readyEndpoints() == ["web-1", "web-2"] })
            r = await t.kubectl("get", "endpointslices", "-l", "kubernetes.io/service-name=web")
            #expect(r.ok && r.stdout.contains("ADDRESSTYPE") && r.stdout.contains("IPv4") && r.stdout.contains("8080"), "\(r.stdout) \(r.stderr)")
            r = await t.kubectl("get", "endpoints", "web")
            #expect(r.ok && r.stdout.contains(":8080"), "\(r.stdout) \(r.stderr)")

            r = await t.kubectl("delete", "pod", "web-1", "--wait=true")
            #expect(r.ok, "\(r.stderr)")
            #expect(try await eventually { try await readyEndpoints() == ["web-2"] })

            r = await t.kubectl("delete", "service", "web")
            #expect(r.ok, "\(r.stderr)")
            let collected = try await eventually {
                (try await t.json("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices")["items"]?.arrayValue ?? []).isEmpty
            }
            #expect(collected, "the Service's slices are garbage-collected with it")
        }
    }

    @Test func deletionWaitsForTheCheckpoint() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(nodes: "{cpu: 4}"))) { t async throws in
            let pod = """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: ckpt
                  annotations: {sim.gantry.dev/script: "{startDelay: 0s, terminate: {after: 1s, lines: [saving checkpoint]}}"}
                spec: {containers: [{name: main, image: busybox}]}
                """
            var r = await t.kubectl("apply", "-f", "-", stdin: pod)
            #expect(r.ok, "\(r.stderr)")
            #expect(try await eventually { await t.cluster.store.get("pods", namespace: "default", name: "ckpt")?[path: "status", "phase"] == "Running" })
            r = await t.kubectl("delete", "pod", "ckpt", "--wait=false")
            #expect(r.ok, "\(r.stderr)")
            let terminating = await t.cluster.store.get("pods", namespace: "default", name: "ckpt")
            #expect(terminating?.deletionTimestamp != nil)
            #expect(try await eventually { await t.cluster.logs.lines(namespace: "default", pod: "ckpt", container: "main") == ["saving checkpoint"] })
            #expect(try await eventually { await t.cluster.store.get("pods", namespace: "default", name: "ckpt") == nil })
        }
    }

    @Test func badNodeSpecFailsStart() async throws {
        do {
            _ = try await DevCluster.start(DevClusterOptions(nodes: "2x{gpus: 8}"))
            Issue.record("expected the node spec to be rejected")
        } catch {
            #expect("\(error)".contains("did you mean gpu?"))
        }
    }
}
