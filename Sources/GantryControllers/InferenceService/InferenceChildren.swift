import GantryAPI
import KubeCore

/// Pure builders of an InferenceService's children: the pods of a revision in one colour, the alias Service (the
/// active colour), the preview Service (the candidate, else the active colour) and the PodDisruptionBudget of the
/// active colour.
public enum InferenceChildren {
    public static let containerName = "server"
    public static let modelFetchImage = "ghcr.io/gantry-dev/model-fetch:0.1.0"
    public static let modelDir = "/models"
    /// The alias and preview Services serve on this port (targetPort: the container's `http` port).
    public static let servicePort: Int64 = 80

    public static func aliasName(_ service: InferenceService) -> String { ChildNaming.name(service.name, "") }
    public static func previewName(_ service: InferenceService) -> String { ChildNaming.name(service.name, "preview") }
    public static func podName(_ service: InferenceService, _ revision: InferenceServiceStatus.Revision, _ index: Int) -> String {
        ChildNaming.name(service.name, "\(revision.color.rawValue)-\(revision.hash)-\(index)")
    }

    /// The hash of everything that shapes a revision's pods (not `replicas`, `autoscaling` or `rollout`): the same
    /// spec gives the same hash in every process (keys are serialized sorted).
    public static func revisionHash(_ spec: InferenceServiceSpec) -> String {
        var shaping = spec
        shaping.replicas = nil
        shaping.autoscaling = nil
        shaping.rollout = nil
        shaping.prepull = nil
        let text = ((try? JSONValue(encoding: shaping)) ?? .null).droppingNulls().serialized()
        return String(String(ChildNaming.fnv1a(text), radix: 36).prefix(8))
    }

    /// `source`: the run the model comes from (`model.fromTrainingJob`), judged from its record.
    public static func revision(_ service: InferenceService, color: InferenceServiceStatus.Color,
                                source: InferenceServiceStatus.ModelProvenance? = nil) -> InferenceServiceStatus.Revision {
        InferenceServiceStatus.Revision(hash: revisionHash(service.spec), color: color, image: service.spec.image,
                                        modelVersion: service.spec.model?.version, source: source)
    }

    /// The pods of `revision` select on these (with the standard instance label).
    static func colorLabels(_ service: InferenceService, _ color: InferenceServiceStatus.Color) -> [String: String] {
        [GantryLabels.instance: ChildNaming.labelValue(service.name), GantryLabels.managedBy: GantryLabels.managedByValue,
         GantryLabels.color: color.rawValue]
    }

    /// A revision's server pod without identity (no name, owner or replica index): the replica pods and the
    /// `placement: perNode` DaemonSet's template are both made from it.
    static func servingPod(_ service: InferenceService, _ revision: InferenceServiceStatus.Revision,
                           placement: GPUPlacement, security: PodPolicy.SecurityProfile) -> Pod {
        let spec = service.spec
        var labels = spec.podMetadata?.labels ?? [:]
        labels[GantryLabels.color] = revision.color.rawValue
        labels[GantryLabels.revision] = revision.hash
        labels[GantryLabels.role] = "server"

        var container = Container(name: containerName, image: spec.image)
        if let command = spec.command { container.command = command }
        if let args = spec.args { container.args = args }
        var env = ContainerSettings.env(spec.env)
        container.ports = [Container.Port(name: "http", containerPort: Int64(spec.effectivePort))]
        if let path = spec.readinessPath {
            container.readinessProbe = RawObject(json: ["httpGet": ["path": .string(path), "port": "http"], "periodSeconds": 2])
        }
        container.resources = ContainerSettings.resources(spec.resources, placement: placement)
        var mounts = (spec.volumeMounts ?? []).map { RawObject(json: $0) }
        var volumes = (spec.volumes ?? []).map { RawObject(json: $0) }
        var initContainers: [Container] = []
        if let model = spec.model {
            // The model is fetched once per pod into a shared volume before the server starts.
            volumes.append(RawObject(json: ["name": "model", "emptyDir": .emptyObject]))
            mounts.append(RawObject(json: ["name": "model", "mountPath": .string(modelDir)]))
            var fetch = Container(name: "model-fetch", image: modelFetchImage)
            fetch.args = ["--source", model.uri, "--dest", modelDir]
            fetch.volumeMounts = [RawObject(json: ["name": "model", "mountPath": .string(modelDir)])]
            initContainers.append(fetch)
            env += [Container.EnvVar(name: "MODEL_DIR", value: modelDir), Container.EnvVar(name: "MODEL_URI", value: model.uri)]
            if let version = model.version { env.append(Container.EnvVar(name: "MODEL_VERSION", value: version)) }
            if let source = revision.source {
                // The server can name the run behind every answer; the record says the rest.
                env += [Container.EnvVar(name: "MODEL_TRAINING_JOB", value: source.trainingJob), Container.EnvVar(name: "MODEL_RECORD", value: source.record)]
            }
        }
        container.env = env
        container.volumeMounts = mounts

        var pod = Pod(json: ["apiVersion": "v1", "kind": "Pod", "metadata": .emptyObject, "spec": .emptyObject])
        pod.labels = labels
        if let annotations = spec.podMetadata?.annotations, !annotations.isEmpty { pod.annotations = annotations }
        pod.spec.containers = [container]
        pod.spec.initContainers = initContainers
        pod.spec.volumes = volumes
        pod.spec.restartPolicy = "Always"
        pod.spec.tolerations = (placement.tolerations + (spec.tolerations ?? [])).map { Pod.Toleration(json: $0) }
        if let selector = spec.nodeSelector, !selector.isEmpty { pod.spec.nodeSelector = selector }
        pod.spec.serviceAccountName = spec.serviceAccountName
        pod.spec.imagePullSecrets = (spec.imagePullSecrets ?? []).map(\.name)
        restrict(&pod, security)
        return pod
    }

    /// The restricted Pod Security profile's settings, on the pod and each of its containers (init ones too:
    /// the profile checks them alike).
    static func restrict(_ pod: inout Pod, _ security: PodPolicy.SecurityProfile) {
        guard security == .restricted else { return }
        pod.spec.securityContext = RawObject(json: ["runAsNonRoot": true, "seccompProfile": ["type": "RuntimeDefault"]])
        func restricted(_ container: Container) -> Container {
            var c = container
            c.securityContext = RawObject(json: ["allowPrivilegeEscalation": false, "capabilities": ["drop": ["ALL"]]])
            return c
        }
        pod.spec.containers = pod.spec.containers.map(restricted)
        pod.spec.initContainers = pod.spec.initContainers.map(restricted)
    }

    public static func pod(_ service: InferenceService, _ revision: InferenceServiceStatus.Revision, index: Int,
                           placement: GPUPlacement, security: PodPolicy.SecurityProfile) -> Pod {
        var pod = servingPod(service, revision, placement: placement, security: security)
        let name = podName(service, revision, index)
        ChildMetadata.stamp(&pod, name: name, owner: service, labels: [GantryLabels.replicaIndex: String(index)])
        var affinity = placement.affinity ?? .emptyObject
        // Replicas of one colour on different nodes where possible: a node lost takes one replica, not all.
        affinity[path: "podAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution"] = [[
            "weight": 100, "podAffinityTerm": [
                "topologyKey": "kubernetes.io/hostname",
                "labelSelector": ["matchLabels": .object(colorLabels(service, revision.color).mapValues(JSONValue.string))],
            ],
        ]]
        pod.spec.affinity = RawObject(json: affinity)
        return pod
    }

    public static func validationPodName(_ service: InferenceService, _ revision: InferenceServiceStatus.Revision) -> String {
        ChildNaming.name(service.name, "validate-\(revision.hash)")
    }

    /// `rollout.validation.job`'s pod for a candidate: the user's template, never restarted, bounded by
    /// activeDeadlineSeconds, owned by the service, every container given PREVIEW_URL (the preview Service selects
    /// the candidate). It carries no colour, so no Service or budget selects it. Under the platform's Restricted
    /// profile it gets Pod Security "restricted" where the template leaves a field unset (the template's own win).
    public static func validationPod(_ service: InferenceService, _ revision: InferenceServiceStatus.Revision, _ job: ValidationJob,
                                     security: PodPolicy.SecurityProfile) -> Pod {
        let name = validationPodName(service, revision)
        var pod = Pod(json: ["apiVersion": "v1", "kind": "Pod", "metadata": .emptyObject, "spec": job.template["spec"] ?? .emptyObject])
        var labels = job.template[path: "metadata", "labels"]?.objectValue?.compactMapValues(\.stringValue) ?? [:]
        labels[GantryLabels.role] = "validation"
        labels[validatesLabel] = revision.hash
        let annotations = job.template[path: "metadata", "annotations"]?.objectValue?.compactMapValues(\.stringValue) ?? [:]
        ChildMetadata.stamp(&pod, name: name, owner: service, labels: labels, annotations: annotations)
        pod.spec.restartPolicy = "Never"
        pod.json[path: "spec", "activeDeadlineSeconds"] = .int(Int64(job.effectiveActiveDeadlineSeconds))
        let preview = "http://\(previewName(service)).\(service.namespace).svc.cluster.local"
        pod.spec.containers = pod.spec.containers.map { container in
            var c = container
            c.env = c.env.filter { $0.name != "PREVIEW_URL" } + [Container.EnvVar(name: "PREVIEW_URL", value: preview)]
            return c
        }
        if security == .restricted { restrict(&pod) }
        return pod
    }

    /// Pod Security Standards' "restricted" fields (runAsNonRoot, RuntimeDefault seccomp; per container no privilege
    /// escalation and every capability dropped), each only where the pod does not set it already.
    static func restrict(_ pod: inout Pod) {
        func filled(_ context: JSONValue?, _ defaults: [String: JSONValue]) -> JSONValue {
            .object((context?.objectValue ?? [:]).merging(defaults) { own, _ in own })
        }
        pod.json[path: "spec", "securityContext"] = filled(pod.json[path: "spec", "securityContext"],
                                                           ["runAsNonRoot": true, "seccompProfile": ["type": "RuntimeDefault"]])
        for key in ["initContainers", "containers"] {
            guard let containers = pod.json[path: "spec", key]?.arrayValue else { continue }
            pod.json[path: "spec", key] = .array(containers.map { container in
                var c = container
                c["securityContext"] = filled(container["securityContext"], ["allowPrivilegeEscalation": false, "capabilities": ["drop": ["ALL"]]])
                return c
            })
        }
    }

    /// The candidate revision a validation pod checks.
    public static let validatesLabel = "gantry.dev/validates"

    /// A Service on port 80 selecting the pods of one colour.
    public static func service(_ service: InferenceService, name: String, color: InferenceServiceStatus.Color) -> Service {
        var svc = Service(name: name)
        ChildMetadata.stamp(&svc, name: name, owner: service)
        svc.spec.selector = colorLabels(service, color)
        svc.spec.ports = [Service.Port(name: "http", port: servicePort, targetPort: "http")]
        return svc
    }

    /// Node drains may take at most one ready pod of the serving colour at a time: `minAvailable` is the serving
    /// size less one, as an integer. Not `maxUnavailable`: for that (and for percentages) the disruption controller
    /// reads the scale of the pods' controller (pkg/controller/disruption getExpectedPodCount), and an autoscaled
    /// InferenceService has no spec.replicas for its scale subresource to answer, which leaves the budget at 0
    /// disruptions allowed and blocks every drain. `maxUnavailable: null` removes the field older versions set.
    public static func disruptionBudget(_ service: InferenceService, color: InferenceServiceStatus.Color, replicas: Int) -> PodDisruptionBudget {
        var budget = PodDisruptionBudget(name: aliasName(service))
        ChildMetadata.stamp(&budget, name: aliasName(service), owner: service)
        budget.spec.selectorLabels = colorLabels(service, color)
        budget.spec.minAvailable = .int(Int64(max(0, replicas - 1)))
        budget.spec.maxUnavailable = .null
        return budget
    }

    public static func url(_ service: InferenceService) -> String {
        "http://\(aliasName(service)).\(service.namespace).svc.cluster.local"
    }
}
