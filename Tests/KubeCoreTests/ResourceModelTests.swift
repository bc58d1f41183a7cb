import Foundation
import KubeCore
import Testing

/// The typed models are views over the JSON: typed reads and writes, and every field they do not model kept.
@Suite struct ResourceModelTests {
    static let podJSON = #"""
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "trainer-0", "namespace": "ml", "labels": {"app": "trainer"}, "futureMetadata": 7},
         "spec": {"restartPolicy": "Never", "dnsPolicy": "ClusterFirst", "overhead": {"cpu": "250m"},
                  "volumes": [{"name": "scratch", "emptyDir": {}}],
                  "containers": [{"name": "main", "image": "trainer:1", "terminationMessagePolicy": "File",
                                  "resources": {"limits": {"nvidia.com/gpu": 1, "memory": "64Gi"}},
                                  "env": [{"name": "RANK", "value": "0"}, {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}]},
         "status": {"phase": "Running", "podIP": "10.244.0.2", "qosClass": "Guaranteed",
                    "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": null}],
                    "containerStatuses": [{"name": "main", "ready": true, "restartCount": 2, "started": true,
                                           "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}}
        """#

    @Test func typedEditsKeepEverythingElse() throws {
        var pod = Pod(json: try JSONValue.parse(Self.podJSON))
        #expect(pod.name == "trainer-0" && pod.namespace == "ml" && pod.labels == ["app": "trainer"])
        #expect(pod.spec.restartPolicy == "Never")
        #expect(pod.spec.containers.first?.resources.limits == ["nvidia.com/gpu": "1", "memory": "64Gi"])
        #expect(pod.spec.containers.first?.env.map(\.value) == ["0", nil])
        #expect(pod.status.isReady && pod.status.podIP == "10.244.0.2")
        #expect(pod.status.containerStatuses.first?.restartCount == 2)
        #expect(pod.status.containerStatuses.first?.lastState.terminated?.reason == "OOMKilled")

        pod.spec.containers[0].image = "trainer:2"
        pod.spec.containers[0].env.append(Container.EnvVar(name: "WORLD_SIZE", value: "4"))
        pod.labels["gantry.dev/job"] = "llama"
        pod.spec.nodeSelector = ["nvidia.com/gpu.product": "A100"]

        let j = pod.json
        #expect(j[path: "spec", "containers"]?.arrayValue?.first?["image"] == "trainer:2")
        // Not modelled, still there: metadata, spec, container, env valueFrom, volumes' empty emptyDir, status.
        #expect(j[path: "metadata", "futureMetadata"] == 7)
        #expect(j[path: "spec", "dnsPolicy"] == "ClusterFirst" && j[path: "spec", "overhead", "cpu"] == "250m")
        #expect(j[path: "spec", "containers"]?.arrayValue?.first?["terminationMessagePolicy"] == "File")
        #expect(j[path: "spec", "containers"]?.arrayValue?.first?["env"]?.arrayValue?[1]["valueFrom"] != nil)
        #expect(j[path: "spec", "volumes"]?.arrayValue?.first?["emptyDir"] == .emptyObject)
        #expect(j[path: "status", "qosClass"] == "Guaranteed")
        #expect(j[path: "status", "containerStatuses"]?.arrayValue?.first?["started"] == true)
    }

    @Test func codableRoundTripIsTheWholeObject() throws {
        let pod = Pod(json: try JSONValue.parse(Self.podJSON))
        let data = try JSONEncoder().encode(pod)
        let back = try JSONDecoder().decode(Pod.self, from: data)
        #expect(back == pod)
        #expect(back.json[path: "status", "qosClass"] == "Guaranteed")
    }

    @Test func absentObjectsAreNotInvented() {
        var pod = Pod(name: "p", namespace: "ns")
        #expect(pod.json["apiVersion"] == "v1" && pod.json["kind"] == "Pod")
        let before = pod.json
        pod.status = pod.status  // read and write back an absent status
        pod.spec.containers = pod.spec.containers
        #expect(pod.json == before)
        pod.spec.containers = [Container(name: "main", image: "busybox")]
        #expect(pod.json[path: "spec", "containers"]?.arrayValue?.count == 1)
    }

    @Test func clearingSettersInventNothing() {
        var pvc = PersistentVolumeClaim(name: "w", namespace: "ml")
        let before = pvc.json
        pvc.spec.storage = nil
        var ds = DaemonSet(name: "d", namespace: "ml")
        ds.spec.selectorLabels = [:]
        #expect(pvc.json == before && ds.json[path: "spec", "selector"] == nil)
        #expect(Pod.Toleration(key: "nvidia.com/gpu").operator == "Exists")
        #expect(Pod.Toleration(key: "pool", value: "spot", effect: "NoSchedule").operator == "Equal")
    }

    @Test func otherKinds() throws {
        var secret = Secret(name: "creds", namespace: "ml")
        secret.setValue("token", Array("s3cr3t".utf8))
        #expect(secret.json[path: "data", "token"] == "czNjcjN0")
        #expect(secret.value("token") == Array("s3cr3t".utf8))
        #expect(secret.keys == ["token"])

        var lease = Lease(name: "gantry", namespace: "gantry-system")
        lease.spec.holderIdentity = "a"
        lease.spec.leaseDurationSeconds = 15
        #expect(lease.json[path: "spec", "leaseDurationSeconds"] == 15)
        #expect(Lease.resourceType == .leases)

        var service = Service(name: "llm", namespace: "ml")
        service.spec.selector = ["app": "llm"]
        service.spec.ports = [Service.Port(name: "http", port: 80, targetPort: "http")]
        #expect(service.json[path: "spec", "ports"]?.arrayValue?.first?["targetPort"] == "http")

        var ds = DaemonSet(name: "cache", namespace: "ml")
        ds.spec.selectorLabels = ["app": "cache"]
        ds.spec.template.labels = ["app": "cache"]
        ds.spec.template.spec.containers = [Container(name: "sync", image: "sync:1")]
        #expect(ds.json[path: "spec", "template", "metadata", "labels", "app"] == "cache")
        #expect(ds.json[path: "spec", "template", "spec", "containers"]?.arrayValue?.count == 1)

        var pvc = PersistentVolumeClaim(name: "workspace", namespace: "ml")
        pvc.spec.accessModes = ["ReadWriteOnce"]
        pvc.spec.storage = "50Gi"
        #expect(pvc.json[path: "spec", "resources", "requests", "storage"] == "50Gi")

        let node = Node(json: ["metadata": ["name": "gpu-0"], "spec": ["taints": [["key": "nvidia.com/gpu", "effect": "NoSchedule"]]],
                               "status": ["allocatable": ["nvidia.com/gpu": "8"], "conditions": [["type": "Ready", "status": "True"]]]])
        #expect(node.status.allocatable["nvidia.com/gpu"] == "8" && node.status.isReady && node.spec.taints.first?.effect == "NoSchedule")
    }
}
