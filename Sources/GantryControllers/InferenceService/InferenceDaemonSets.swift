import GantryAPI
import KubeCore

/// The DaemonSets of an InferenceService: one per live colour with `placement: perNode` (a replica on every
/// matching node), and the short-lived one that pulls a candidate's image first (`prepull: true`).
public enum InferenceDaemonSets {
    /// The prepull pods' main container: it only keeps the pod Running (and Ready) once the image is pulled.
    public static let pauseImage = "registry.k8s.io/pause:3.10"
    /// Labels a prepull pod with the revision whose image it pulls (it carries no colour: no Service selects it).
    public static let prepullLabel = "gantry.dev/prepull"

    public static func name(_ service: InferenceService, _ revision: InferenceServiceStatus.Revision) -> String {
        ChildNaming.name(service.name, "\(revision.color.rawValue)-\(revision.hash)")
    }

    public static func prepullName(_ service: InferenceService, _ revision: InferenceServiceStatus.Revision) -> String {
        ChildNaming.name(service.name, "prepull-\(revision.hash)")
    }

    /// One colour of a perNode service: the revision's server pod on every node matching its nodeSelector,
    /// tolerations and GPU request. Its selector (colour and revision) is immutable, as is its name: another
    /// revision in this colour is another DaemonSet.
    public static func serving(_ service: InferenceService, _ revision: InferenceServiceStatus.Revision, placement: GPUPlacement,
                               productLabel: String, security: PodPolicy.SecurityProfile, minReadySeconds: Int) -> DaemonSet {
        var template = InferenceChildren.servingPod(service, revision, placement: placement, security: security)
        template.labels = template.labels.merging(ChildMetadata.labels(of: service)) { _, new in new }
        if let affinity = placement.daemonAffinity(productLabel: productLabel) { template.spec.affinity = RawObject(json: affinity) }
        let dsName = Self.name(service, revision)
        var ds = DaemonSet(name: dsName)
        ChildMetadata.stamp(&ds, name: dsName, owner: service, labels: [GantryLabels.color: revision.color.rawValue, GantryLabels.revision: revision.hash])
        ds.spec.selectorLabels = InferenceChildren.colorLabels(service, revision.color).merging([GantryLabels.revision: revision.hash]) { _, new in new }
        ds.spec.template = PodTemplateSpec(json: ["metadata": template.json["metadata"] ?? .emptyObject, "spec": template.json["spec"] ?? .emptyObject])
        if minReadySeconds > 0 { ds.json[path: "spec", "minReadySeconds"] = .int(Int64(minReadySeconds)) }
        return ds
    }

    /// Pulls the candidate's image on the nodes its pods may land on (same nodeSelector, tolerations, GPU node
    /// matching and pull secrets): an init container of that image runs `true`, then a pause container keeps the
    /// pod Ready, so "every desired pod ready" means "pulled everywhere". It asks for no GPU and almost no CPU.
    public static func prepull(_ service: InferenceService, _ revision: InferenceServiceStatus.Revision, placement: GPUPlacement,
                               productLabel: String, security: PodPolicy.SecurityProfile) -> DaemonSet {
        let spec = service.spec
        let labels = ChildMetadata.labels(of: service).merging([GantryLabels.role: "prepull", prepullLabel: revision.hash]) { _, new in new }
        var pull = Container(name: "prepull", image: spec.image)
        pull.command = ["true"]
        pull.resources.requests = ["cpu": "1m", "memory": "8Mi"]
        var pause = Container(name: "pause", image: pauseImage)
        pause.resources.requests = ["cpu": "1m", "memory": "8Mi"]
        pause.resources.limits = ["memory": "16Mi"]
        var pod = Pod(json: ["spec": .emptyObject])
        pod.labels = labels
        pod.spec.initContainers = [pull]
        pod.spec.containers = [pause]
        pod.spec.tolerations = (placement.tolerations + (spec.tolerations ?? [])).map { Pod.Toleration(json: $0) }
        if let selector = spec.nodeSelector, !selector.isEmpty { pod.spec.nodeSelector = selector }
        if let affinity = placement.daemonAffinity(productLabel: productLabel) { pod.spec.affinity = RawObject(json: affinity) }
        pod.spec.imagePullSecrets = (spec.imagePullSecrets ?? []).map(\.name)
        pod.spec.serviceAccountName = spec.serviceAccountName
        // Stopped at once when the pull is done and the DaemonSet deleted.
        pod.json[path: "spec", "terminationGracePeriodSeconds"] = 0
        InferenceChildren.restrict(&pod, security)

        let name = prepullName(service, revision)
        var ds = DaemonSet(name: name)
        ChildMetadata.stamp(&ds, name: name, owner: service, labels: [GantryLabels.role: "prepull", prepullLabel: revision.hash])
        ds.spec.selectorLabels = [GantryLabels.instance: ChildNaming.labelValue(service.name), prepullLabel: revision.hash]
        ds.spec.template = PodTemplateSpec(json: pod.json)
        return ds
    }

    /// What a DaemonSet's status says of the current template: nodes that should run it, and nodes whose pod is
    /// ready, available (minReadySeconds) and updated. Nothing counts before the controller saw this generation.
    public struct Progress: Sendable, Hashable {
        public var desired: Int
        public var ready: Int
        public var observed: Bool

        public init(_ object: JSONValue?) {
            guard let object else {
                desired = 0; ready = 0; observed = false
                return
            }
            let ds = DaemonSet(json: object)
            let status = ds.status
            observed = (status.observedGeneration ?? 0) >= (object.generation ?? 1) && object.deletionTimestamp == nil
            desired = Int(status.desiredNumberScheduled)
            // Every desired node runs a ready, available pod of the current template.
            ready = observed ? Int(min(status.numberReady, status.numberAvailable, status.updatedNumberScheduled)) : 0
        }

        /// Every desired node runs a ready pod of this template (and there is at least one such node).
        public var complete: Bool { observed && desired > 0 && ready >= desired }
    }
}
