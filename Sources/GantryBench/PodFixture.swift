import GantryControllers
import KubeCore

/// Deterministic, realistic Pods (≈ 6 KiB of JSON each) shaped like a Gantry trainer pod as the API server
/// returns it: labels, annotations (one large, as sidecar configs are), an ownerReference, `managedFields`,
/// a spec with containers/env/resources/volumes/tolerations/affinity and a status with conditions and
/// container statuses. Same seed → same bytes, so runs on different days compare.
public enum PodFixture {
    /// SplitMix64 (the generator Experiment searches draw from): deterministic across platforms, unlike
    /// `SystemRandomNumberGenerator`.
    public typealias Generator = SeededRandom

    public static func pod(_ i: Int, rng: inout Generator) -> JSONValue {
        let job = "sweep-\(i / 8)"
        let name = "\(job)-worker-\(i % 8)"
        let uid = uuid(&rng)
        let ts = "2026-12-01T10:\(two(i / 60 % 60)):\(two(i % 60))Z"
        let metadata: JSONValue = [
            "name": .string(name), "namespace": .string("team-\(i % 16)"), "uid": .string(uid),
            "resourceVersion": .string(String(100_000 + i)), "creationTimestamp": .string(ts),
            "generateName": .string("\(job)-worker-"),
            "labels": [
                "app.kubernetes.io/managed-by": "gantry", "app.kubernetes.io/name": "trainingjob",
                "gantry.dev/trainingjob": .string(job), "gantry.dev/replica-index": .string(String(i % 8)),
                "gantry.dev/experiment": .string("exp-\(i / 64)"), "pod-template-hash": .string(hex(&rng, 10)),
            ],
            "annotations": [
                "gantry.dev/attempt": "1",
                "gantry.dev/config-hash": .string(hex(&rng, 64)),
                "sidecar.istio.io/status": .string(#"{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":"default"}"#),
                "prometheus.io/scrape": "true", "prometheus.io/port": "9090",
            ],
            "ownerReferences": [[
                "apiVersion": "gantry.dev/v1alpha1", "kind": "TrainingJob", "name": .string(job),
                "uid": .string(uuid(&rng)), "controller": true, "blockOwnerDeletion": true,
            ]],
            "managedFields": [
                managedField("gantry", "Update", ts, fields: ["f:metadata": ["f:labels": [".": [:], "f:gantry.dev/trainingjob": [:], "f:gantry.dev/replica-index": [:]], "f:ownerReferences": [".": [:]]], "f:spec": ["f:containers": ["k:{\"name\":\"trainer\"}": [".": [:], "f:image": [:], "f:env": [".": [:]], "f:resources": [".": [:], "f:limits": [:]]]], "f:nodeSelector": [:], "f:tolerations": [:]]]),
                managedField("kubelet", "Update", ts, subresource: "status", fields: ["f:status": ["f:conditions": ["k:{\"type\":\"Ready\"}": [".": [:], "f:status": [:], "f:lastTransitionTime": [:]]], "f:containerStatuses": [:], "f:hostIP": [:], "f:phase": [:], "f:podIP": [:], "f:startTime": [:]]]),
            ],
        ]
        let gpus = [1, 2, 4, 8][i % 4]
        let env: [JSONValue] = [
            ["name": "GANTRY_JOB", "value": .string(job)], ["name": "GANTRY_REPLICA", "value": .string(String(i % 8))],
            ["name": "WORLD_SIZE", "value": "8"], ["name": "MASTER_ADDR", "value": .string("\(job)-worker-0.\(job)")],
            ["name": "MASTER_PORT", "value": "29500"], ["name": "NCCL_DEBUG", "value": "WARN"],
            ["name": "LR", "value": .string(String(Double(rng.next() % 1000) / 1e5))],
            ["name": "POD_IP", "valueFrom": ["fieldRef": ["apiVersion": "v1", "fieldPath": "status.podIP"]]],
        ]
        let resources: JSONValue = [
            "limits": ["nvidia.com/gpu": .string(String(gpus)), "cpu": "16", "memory": "128Gi"],
            "requests": ["nvidia.com/gpu": .string(String(gpus)), "cpu": "8", "memory": "64Gi"],
        ]
        let spec: JSONValue = [
            "restartPolicy": "Never", "schedulerName": "default-scheduler", "serviceAccountName": "default",
            "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst", "hostname": .string(name), "subdomain": .string(job),
            "nodeName": .string("gpu-node-\(i % 64)"), "priority": 0, "enableServiceLinks": true,
            "containers": [[
                "name": "trainer", "image": "ghcr.io/example/cifar-trainer:2.0", "imagePullPolicy": "IfNotPresent",
                "command": ["python", "-m", "train"], "args": ["--epochs", "90", "--batch-size", "256", "--checkpoint-dir", "/ckpt"],
                "env": .array(env), "resources": resources,
                "ports": [["name": "metrics", "containerPort": 9090, "protocol": "TCP"], ["name": "nccl", "containerPort": 29500, "protocol": "TCP"]],
                "volumeMounts": [["name": "ckpt", "mountPath": "/ckpt"], ["name": "dshm", "mountPath": "/dev/shm"],
                                 ["name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true]],
                "readinessProbe": ["httpGet": ["path": "/healthz", "port": 9090, "scheme": "HTTP"], "initialDelaySeconds": 5, "periodSeconds": 10],
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
            ]],
            "volumes": [
                ["name": "ckpt", "persistentVolumeClaim": ["claimName": .string("\(job)-ckpt")]],
                ["name": "dshm", "emptyDir": ["medium": "Memory", "sizeLimit": "16Gi"]],
                ["name": "kube-api-access", "projected": ["defaultMode": 420, "sources": [
                    ["serviceAccountToken": ["expirationSeconds": 3607, "path": "token"]],
                    ["configMap": ["name": "kube-root-ca.crt", "items": [["key": "ca.crt", "path": "ca.crt"]]]],
                ]]],
            ],
            "nodeSelector": ["nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"],
            "tolerations": [
                ["key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"],
                ["key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300],
                ["key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300],
            ],
            "affinity": ["podAntiAffinity": ["preferredDuringSchedulingIgnoredDuringExecution": [[
                "weight": 100,
                "podAffinityTerm": ["topologyKey": "kubernetes.io/hostname",
                                    "labelSelector": ["matchLabels": ["gantry.dev/trainingjob": .string(job)]]],
            ]]]],
        ]
        let status: JSONValue = [
            "phase": "Running", "qosClass": "Burstable", "hostIP": .string("10.0.\(i % 64).1"),
            "podIP": .string("10.244.\(i % 250).\(i % 200 + 2)"), "podIPs": [["ip": .string("10.244.\(i % 250).\(i % 200 + 2)")]],
            "startTime": .string(ts),
            "conditions": .array(["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"].map {
                ["type": .string($0), "status": "True", "lastProbeTime": .null, "lastTransitionTime": .string(ts)]
            }),
            "containerStatuses": [[
                "name": "trainer", "ready": true, "started": true, "restartCount": 0,
                "image": "ghcr.io/example/cifar-trainer:2.0",
                "imageID": .string("ghcr.io/example/cifar-trainer@sha256:\(hex(&rng, 64))"),
                "containerID": .string("containerd://\(hex(&rng, 64))"),
                "state": ["running": ["startedAt": .string(ts)]], "lastState": [:],
            ]],
        ]
        return ["apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": status]
    }

    public static func pods(count: Int, seed: UInt64 = 42) -> [JSONValue] {
        var rng = Generator(seed: seed)
        return (0..<count).map { pod($0, rng: &rng) }
    }

    /// A `PodList` as the API server would answer a LIST.
    public static func podListBytes(count: Int, seed: UInt64 = 42) -> [UInt8] {
        let list: JSONValue = ["apiVersion": "v1", "kind": "PodList", "metadata": ["resourceVersion": "200000"],
                               "items": .array(pods(count: count, seed: seed))]
        return list.serializedBytes()
    }

    static func managedField(_ manager: String, _ operation: String, _ time: String, subresource: String? = nil, fields: JSONValue) -> JSONValue {
        var f: JSONValue = ["manager": .string(manager), "operation": .string(operation), "apiVersion": "v1", "time": .string(time),
                            "fieldsType": "FieldsV1", "fieldsV1": fields]
        if let subresource { f["subresource"] = .string(subresource) }
        return f
    }

    static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }

    static func hex(_ rng: inout Generator, _ count: Int) -> String {
        let digits = Array("0123456789abcdef")
        return String((0..<count).map { _ in digits[Int(rng.next() & 15)] })
    }

    static func uuid(_ rng: inout Generator) -> String {
        let h = hex(&rng, 32)
        let c = Array(h)
        return "\(String(c[0..<8]))-\(String(c[8..<12]))-\(String(c[12..<16]))-\(String(c[16..<20]))-\(String(c[20..<32]))"
    }
}
