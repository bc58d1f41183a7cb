import GantryAPI
import KubeCore

/// Pure builders of a TrainingJob's children: one Pod per replica with a stable hostname, a headless Service
/// giving each replica a DNS name, and (for MPI) the hostfile ConfigMap.
public enum TrainingPods {
    /// Pods carry the gang attempt they belong to; failures of an older attempt were already acted on.
    public static let attemptAnnotation = "gantry.dev/attempt"
    public static let containerName = "trainer"

    public static func podName(_ job: TrainingJob, _ index: Int) -> String { ChildNaming.name(job.name, String(index)) }
    public static func serviceName(_ job: TrainingJob) -> String { ChildNaming.name(job.name, "") }
    public static func hostfileName(_ job: TrainingJob) -> String { ChildNaming.name(job.name, "hostfile") }

    /// DNS name of a replica through the headless Service: `<pod>.<service>`.
    public static func host(_ job: TrainingJob, _ index: Int) -> String { "\(podName(job, index)).\(serviceName(job))" }

    /// The job's name as a label value (shortened with a hash when it is not one): `kubectl logs -l
    /// gantry.dev/trainingjob=NAME` works for every name of up to 63 characters.
    public static func selectorLabels(_ job: TrainingJob) -> [String: String] {
        [GantryLabels.trainingJob: ChildNaming.labelValue(job.name), GantryLabels.managedBy: GantryLabels.managedByValue]
    }

    /// Only distributed jobs need the headless Service (ranks find each other through it).
    public static func needsService(_ job: TrainingJob) -> Bool { job.spec.framework != .none }

    public static func desiredPod(_ job: TrainingJob, index: Int, attempt: Int, placement: GPUPlacement,
                                  security: PodPolicy.SecurityProfile = .restricted) -> Pod {
        let spec = job.spec
        var labels = spec.podMetadata?.labels ?? [:]
        for (k, v) in selectorLabels(job) { labels[k] = v }
        labels[GantryLabels.replicaIndex] = String(index)
        labels[GantryLabels.role] = "trainer"
        if let experiment = job.labels[GantryLabels.experiment] { labels[GantryLabels.experiment] = experiment }
        var annotations = spec.podMetadata?.annotations ?? [:]
        annotations[attemptAnnotation] = String(attempt)

        var container = Container(name: containerName, image: spec.image)
        container.env = environment(job, index: index, placement: placement).map { Container.EnvVar(json: $0) }
        container.resources = ContainerSettings.resources(spec.resources, placement: placement)
        container.volumeMounts = ((spec.volumeMounts ?? []) + [["name": "dshm", "mountPath": "/dev/shm"]]
            + (spec.framework == .mpi ? [["name": "mpi-hostfile", "mountPath": "/etc/mpi", "readOnly": true]] : [])).map { RawObject(json: $0) }
        if security == .restricted {
            container.securityContext = RawObject(json: ["allowPrivilegeEscalation": false, "capabilities": ["drop": ["ALL"]]])
        }
        if let command = spec.command { container.command = command }
        if let args = spec.args { container.args = args }
        if spec.framework != .none {
            container.ports = [Container.Port(name: "rendezvous", containerPort: Int64(spec.distributed?.effectivePort ?? 29500))]
        }

        var pod = Pod(name: podName(job, index))
        ChildMetadata.stamp(&pod, name: podName(job, index), owner: job, labels: labels, annotations: annotations)
        pod.spec.restartPolicy = "Never"  // the controller restarts the whole gang; a lone restarted rank would hang
        pod.spec.hostname = podName(job, index)
        pod.spec.containers = [container]
        // PyTorch data loaders share tensors through /dev/shm; the container runtime's 64 MiB default breaks them.
        var volumes: [JSONValue] = (spec.volumes ?? []) + [["name": "dshm", "emptyDir": ["medium": "Memory"]]]
        if spec.framework == .mpi {
            volumes.append(["name": "mpi-hostfile", "configMap": ["name": .string(hostfileName(job))]])
        }
        pod.spec.volumes = volumes.map { RawObject(json: $0) }
        pod.spec.tolerations = (placement.tolerations + (spec.tolerations ?? [])).map { Pod.Toleration(json: $0) }
        if needsService(job) { pod.spec.subdomain = serviceName(job) }
        if security == .restricted {
            // Pod Security "restricted": enforced namespaces admit the pods, and a compromised trainer cannot
            // escalate. Images that need root: PlatformConfig spec.podPolicy.securityContext None.
            pod.spec.securityContext = RawObject(json: ["runAsNonRoot": true, "seccompProfile": ["type": "RuntimeDefault"]])
        }
        if let selector = spec.nodeSelector, !selector.isEmpty { pod.spec.nodeSelector = selector }
        if let affinity = placement.affinity { pod.spec.affinity = RawObject(json: affinity) }
        pod.spec.serviceAccountName = spec.serviceAccountName
        pod.spec.imagePullSecrets = (spec.imagePullSecrets ?? []).map(\.name)
        return pod
    }

    /// Environment of one replica: Gantry's own variables, hyperparameters, the framework's variables, then the
    /// user's. A user variable with a name Gantry sets is refused at validation (`reservedEnvNames`): silently
    /// replacing RANK or MASTER_ADDR would hang a gang, silently ignoring the user's value would surprise.
    public static func environment(_ job: TrainingJob, index: Int, placement: GPUPlacement) -> [JSONValue] {
        let gantry: [JSONValue] = gantryEnvironment(job, index: index, placement: placement).map { ["name": .string($0.0), "value": .string($0.1)] }
        return gantry + ContainerSettings.env(job.spec.env).map(\.json)
    }

    /// Names of the variables Gantry sets for this job (the same for every replica).
    public static func reservedEnvNames(_ job: TrainingJob, placement: GPUPlacement) -> Set<String> {
        Set(gantryEnvironment(job, index: 0, placement: placement).map(\.0))
    }

    static func gantryEnvironment(_ job: TrainingJob, index: Int, placement: GPUPlacement) -> [(String, String)] {
        var env: [(String, String)] = [
            ("GANTRY_JOB_NAME", job.name),
            ("GANTRY_REPLICA_INDEX", String(index)),
        ]
        for (key, value) in (job.spec.hyperparameters ?? [:]).sorted(by: { $0.key < $1.key }) {
            env.append(("HP_" + envName(key), value))
        }
        let replicas = job.spec.effectiveReplicas
        let port = job.spec.distributed?.effectivePort ?? 29500
        let perNode = max(1, placement.countPerPod)
        switch job.spec.framework {
        case .none:
            break
        case .pytorch:
            // As the Kubeflow PyTorchJob sets them: WORLD_SIZE and RANK count pods (nodes); torchrun spawns
            // LOCAL_WORLD_SIZE processes per pod (one per GPU). PET_* are torchrun's own variable names.
            env += [
                ("MASTER_ADDR", host(job, 0)), ("MASTER_PORT", String(port)),
                ("WORLD_SIZE", String(replicas)), ("RANK", String(index)),
                ("LOCAL_WORLD_SIZE", String(perNode)),
                ("PET_MASTER_ADDR", host(job, 0)), ("PET_MASTER_PORT", String(port)),
                ("PET_NNODES", String(replicas)), ("PET_NODE_RANK", String(index)), ("PET_NPROC_PER_NODE", String(perNode)),
            ]
        case .tensorflow:
            env.append(("TF_CONFIG", tfConfig(job, index: index, port: port)))
        case .mpi:
            env += [
                ("OMPI_MCA_orte_default_hostfile", "/etc/mpi/hostfile"),
                ("GANTRY_MPI_HOSTFILE", "/etc/mpi/hostfile"),
                ("OMPI_COMM_WORLD_SIZE_HINT", String(replicas * perNode)),
            ]
        }
        return env
    }

    /// `TF_CONFIG` for MultiWorkerMirroredStrategy: every replica is a worker; worker 0 acts as chief.
    static func tfConfig(_ job: TrainingJob, index: Int, port: Int) -> String {
        let workers = (0..<job.spec.effectiveReplicas).map { JSONValue.string("\(host(job, $0)):\(port)") }
        let config: JSONValue = ["cluster": ["worker": .array(workers)], "task": ["type": "worker", "index": .int(Int64(index))]]
        return config.serialized()
    }

    public static func envName(_ key: String) -> String {
        String(key.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    public static func desiredService(_ job: TrainingJob) -> Service {
        var service = Service(name: serviceName(job))
        ChildMetadata.stamp(&service, name: serviceName(job), owner: job, labels: selectorLabels(job))
        service.spec.clusterIP = "None"
        // Ranks must resolve each other before they are ready: rendezvous happens before readiness.
        service.spec.publishNotReadyAddresses = true
        service.spec.selector = selectorLabels(job)
        service.spec.ports = [Service.Port(name: "rendezvous", port: Int64(job.spec.distributed?.effectivePort ?? 29500))]
        return service
    }

    /// MPI hostfile: one line per replica with as many slots as GPUs per replica.
    public static func desiredHostfile(_ job: TrainingJob, placement: GPUPlacement) -> ConfigMap {
        let slots = max(1, placement.countPerPod)
        let lines = (0..<job.spec.effectiveReplicas).map { "\(host(job, $0)) slots=\(slots)" }.joined(separator: "\n") + "\n"
        var cm = ConfigMap(name: hostfileName(job))
        ChildMetadata.stamp(&cm, name: hostfileName(job), owner: job, labels: selectorLabels(job))
        cm.data = ["hostfile": lines]
        return cm
    }
}
