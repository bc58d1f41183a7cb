import GantryAPI
import KubeCore

/// `dataset.cache: node`: one DaemonSet per dataset (and namespace) syncs the data once into a node-local cache
/// on the GPU nodes the jobs can use; replicas mount it read-only and prefer nodes whose cache is ready, so a
/// large dataset is reused by every later run instead of being downloaded again. The DaemonSet is shared by all
/// jobs of that dataset (no single owner) and removed when no unfinished job needs it.
public enum DatasetCache {
    public static let label = "gantry.dev/dataset"
    public static let uriAnnotation = "gantry.dev/dataset-uri"
    public static let role = "dataset-cache"
    public static let mountPath = "/datasets"
    /// The sync image: copies `--source` into `--dest` once, then reports ready (documented in docs/trainingjob.md).
    public static let syncImage = "ghcr.io/gantry-dev/dataset-sync:0.1.0"

    public static func key(_ uri: String) -> String { String(ChildNaming.fnv1a(uri), radix: 36) }
    public static func daemonSetName(_ uri: String) -> String { "gantry-dataset-\(key(uri))" }
    public static func hostPath(_ uri: String) -> String { "/var/lib/gantry/datasets/\(key(uri))" }

    /// The dataset a job wants cached on nodes, if any.
    public static func uri(of job: TrainingJob) -> String? {
        guard let dataset = job.spec.dataset, dataset.cache == .node, !dataset.uri.isEmpty else { return nil }
        return dataset.uri
    }

    public static func daemonSet(namespace: String, uri: String, placement: GPUPlacement, productLabel: String) -> DaemonSet {
        let labels: [String: String] = [label: key(uri), GantryLabels.managedBy: GantryLabels.managedByValue]
        var sync = Container(name: "sync", image: syncImage)
        sync.args = ["--source", uri, "--dest", "/cache", "--ready-file", "/cache/.gantry-ready"]
        sync.volumeMounts = [RawObject(json: ["name": "cache", "mountPath": "/cache"])]
        sync.readinessProbe = RawObject(json: ["exec": ["command": ["test", "-f", "/cache/.gantry-ready"]], "periodSeconds": 5])
        sync.resources.requests = ["cpu": "250m", "memory": "256Mi"]
        sync.resources.limits = ["memory": "1Gi"]

        var ds = DaemonSet(name: daemonSetName(uri), namespace: namespace)
        ds.labels = labels
        ds.annotations = [uriAnnotation: uri]
        ds.spec.selectorLabels = labels
        ds.spec.template.labels = labels.merging([GantryLabels.role: role]) { _, new in new }
        ds.spec.template.annotations = [uriAnnotation: uri]
        ds.spec.template.spec.containers = [sync]
        ds.spec.template.spec.volumes = [RawObject(json: ["name": "cache", "hostPath": ["path": .string(hostPath(uri)), "type": "DirectoryOrCreate"]])]
        // On the nodes the jobs' GPU placement allows (same affinity, GPU taint tolerated), and nowhere else: a
        // GPU job without a product still needs a GPU node, which carries the product label.
        if let affinity = placement.daemonAffinity(productLabel: productLabel) {
            ds.spec.template.spec.affinity = RawObject(json: affinity)
        }
        ds.spec.template.spec.tolerations = placement.tolerations.map { Pod.Toleration(json: $0) }
        return ds
    }

    /// Nodes where the cache's pod is ready (its sync finished).
    public static func readyNodes(pods: [JSONValue]) -> [String] {
        pods.compactMap { pod -> String? in
            let ready = pod[path: "status", "conditions"]?.arrayValue?.contains { $0["type"] == "Ready" && $0["status"] == "True" } ?? false
            return ready && pod.deletionTimestamp == nil ? pod[path: "spec", "nodeName"]?.stringValue : nil
        }.sorted()
    }

    /// Adds the read-only cache mount (to the trainer container) and the preference for nodes whose cache is
    /// ready to a replica pod.
    public static func attach(to pod: inout Pod, uri: String, readyNodes: [String]) {
        pod.spec.volumes.append(RawObject(json: ["name": "dataset-cache", "hostPath": ["path": .string(hostPath(uri)), "type": "DirectoryOrCreate"]]))
        var containers = pod.spec.containers
        if let trainer = containers.firstIndex(where: { $0.name == TrainingPods.containerName }) {
            containers[trainer].volumeMounts.append(RawObject(json: ["name": "dataset-cache", "mountPath": .string(mountPath), "readOnly": true]))
            containers[trainer].env.append(Container.EnvVar(name: "GANTRY_DATASET_PATH", value: mountPath))
            pod.spec.containers = containers
        }
        guard !readyNodes.isEmpty else { return }
        var affinity = pod.spec.affinity.json
        var preferred = affinity[path: "nodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution"]?.arrayValue ?? []
        preferred.append(["weight": 100, "preference": ["matchFields": [
            ["key": "metadata.name", "operator": "In", "values": .array(readyNodes.map(JSONValue.string))],
        ]]])
        affinity[path: "nodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution"] = .array(preferred)
        pod.spec.affinity = RawObject(json: affinity)
    }
}
