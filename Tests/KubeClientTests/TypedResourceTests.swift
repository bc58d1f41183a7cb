import EmbeddedCluster
import Foundation
import GantryTestSupport
import KubeClient
import KubeCore
import Testing

/// The typed verbs against the embedded API server: every model Gantry reads or writes goes through create,
/// get, list, update and status, and an update built from a typed object keeps the fields the model does not
/// name (added by another writer, or by the server).
@Suite("Typed models through the typed verbs")
struct TypedResourceTests {
    @Test func updateKeepsFieldsTheModelDoesNotName() async throws {
        try await withCluster(ClusterFixture.start()) { f async throws in
            // Another client writes fields our Pod model does not name.
            var raw = Pod(name: "trainer-0", namespace: "default").json
            raw["spec"] = ["dnsPolicy": "ClusterFirst", "hostname": "trainer-0", "enableServiceLinks": false,
                           "containers": [["name": "main", "image": "trainer:1", "terminationMessagePolicy": "FallbackToLogsOnError",
                                           "resources": ["limits": ["nvidia.com/gpu": "1"]]]]]
            _ = try await f.client.create(.pods, raw)

            var pod = try await f.client.get(Pod.self, namespace: "default", name: "trainer-0")
            #expect(pod.spec.containers.first?.resources.limits["nvidia.com/gpu"] == "1")
            pod.labels["gantry.dev/rank"] = "0"
            pod.spec.containers[0].image = "trainer:2"
            let updated = try await f.client.update(pod)
            #expect(updated.resourceVersion != pod.resourceVersion)

            let back = try await f.client.get(.pods, namespace: "default", name: "trainer-0")
            #expect(back.labels["gantry.dev/rank"] == "0")
            #expect(back[path: "spec", "containers"]?.arrayValue?.first?["image"] == "trainer:2")
            #expect(back[path: "spec", "dnsPolicy"] == "ClusterFirst" && back[path: "spec", "enableServiceLinks"] == false)
            #expect(back[path: "spec", "containers"]?.arrayValue?.first?["terminationMessagePolicy"] == "FallbackToLogsOnError")

            // Status through the status subresource, typed.
            var withStatus = try await f.client.get(Pod.self, namespace: "default", name: "trainer-0")
            withStatus.status.phase = "Running"
            withStatus.status.podIP = "10.244.0.9"
            _ = try await f.client.updateStatus(withStatus)
            let running = try await f.client.get(Pod.self, namespace: "default", name: "trainer-0")
            #expect(running.status.phase == "Running" && running.status.podIP == "10.244.0.9")
            #expect(running.spec.containers.first?.image == "trainer:2")

            // A stale typed update is a conflict, as with the unstructured verb.
            await #expect { try await f.client.update(pod) } throws: { ($0 as? APIError)?.isConflict == true }
        }
    }

    @Test func everyModelGoesThroughTheAPI() async throws {
        try await withCluster(ClusterFixture.start()) { f async throws in
            let c = f.client

            let ns = try await c.create(Namespace(name: "ml"))
            #expect(ns.name == "ml")
            #expect(try await c.get(Namespace.self, namespace: nil, name: "ml").phase == "Active")

            var cm = ConfigMap(name: "settings", namespace: "ml")
            cm.data = ["lr": "0.001"]
            #expect(try await c.create(cm).data == ["lr": "0.001"])

            var secret = Secret(name: "creds", namespace: "ml")
            secret.type = "Opaque"
            secret.setValue("token", Array("s3cr3t".utf8))
            #expect(try await c.create(secret).value("token") == Array("s3cr3t".utf8))

            var service = Service(name: "llm", namespace: "ml")
            service.spec.selector = ["app": "llm"]
            service.spec.ports = [Service.Port(name: "http", port: 80, targetPort: 8000)]
            let createdService = try await c.create(service)
            #expect(createdService.spec.ports.first?.targetPort == 8000 && createdService.spec.selector == ["app": "llm"])

            var pvc = PersistentVolumeClaim(name: "workspace", namespace: "ml")
            pvc.spec.accessModes = ["ReadWriteOnce"]
            pvc.spec.storage = "50Gi"
            #expect(try await c.create(pvc).spec.storage == "50Gi")

            var ds = DaemonSet(name: "dataset-cache", namespace: "ml")
            ds.spec.selectorLabels = ["app": "dataset-cache"]
            ds.spec.template.labels = ["app": "dataset-cache"]
            ds.spec.template.spec.containers = [Container(name: "sync", image: "sync:1")]
            let createdDS = try await c.create(ds)
            #expect(createdDS.spec.template.spec.containers.first?.image == "sync:1" && createdDS.generation == 1)

            var lease = Lease(name: "gantry", namespace: "ml")
            lease.spec.holderIdentity = "a"
            lease.spec.leaseDurationSeconds = 15
            var createdLease = try await c.create(lease)
            createdLease.spec.holderIdentity = "b"
            #expect(try await c.update(createdLease).spec.holderIdentity == "b")

            var node = Node(name: "gpu-0")
            node.json["status"] = ["allocatable": ["nvidia.com/gpu": "8"]]
            _ = try await c.create(node)
            #expect(try await c.list(Node.self, namespace: nil).items.map(\.name) == ["gpu-0"])

            var event = Event(name: "e1", namespace: "ml")
            event.regarding = ObjectReference(json: ["kind": "Pod", "name": "trainer-0", "namespace": "ml"])
            event.reason = "Started"
            event.note = "rank 0 running"
            event.type = "Normal"
            event.action = "Start"
            event.reportingController = "gantry.dev/trainingjob-controller"
            event.reportingInstance = "gantry-0"
            event.eventTime = Timestamp.formatMicro(Date())
            _ = try await c.create(event)
            // The same event through core/v1, as kubectl describe reads it.
            let core = try await c.get(CoreEvent.self, namespace: "ml", name: "e1")
            #expect(core.message == "rank 0 running" && core.involvedObject.name == "trainer-0")

            let pods = try await c.listAll(Pod.self, namespace: "ml", pageSize: 1)
            #expect(pods.items.isEmpty && !pods.resourceVersion.isEmpty)
            try await c.delete(ConfigMap.self, namespace: "ml", name: "settings")
            await #expect { try await c.get(ConfigMap.self, namespace: "ml", name: "settings") } throws: { ($0 as? APIError)?.isNotFound == true }
        }
    }
}
