import GantryAPI
import KubeCore

/// `spec.tensorboard`: a TensorBoard Pod and Service beside the job, owned by it (deleted with it). They stay
/// after the job finishes: looking at the curves of a finished run is the point.
public enum TensorBoardChildren {
    public static let role = "tensorboard"
    public static let port: Int64 = 6006
    public static let defaultImage = "tensorflow/tensorflow:2.17.0"

    public static func name(_ job: TrainingJob) -> String { ChildNaming.name(job.name, "tensorboard") }

    static func labels(_ job: TrainingJob) -> [String: String] {
        var labels = TrainingPods.selectorLabels(job)
        labels[GantryLabels.role] = role
        return labels
    }

    public static func pod(_ job: TrainingJob, _ board: TensorBoard) -> Pod {
        var container = Container(name: "tensorboard", image: board.image ?? defaultImage)
        container.command = ["tensorboard", "--logdir", board.logDir, "--bind_all", "--port", String(port)]
        container.ports = [Container.Port(name: "http", containerPort: port)]
        container.readinessProbe = RawObject(json: ["httpGet": ["path": "/", "port": "http"], "initialDelaySeconds": 2])
        container.resources.requests = ["cpu": "100m", "memory": "256Mi"]
        container.resources.limits = ["memory": "1Gi"]
        container.volumeMounts = (job.spec.volumeMounts ?? []).map { RawObject(json: $0) }
        var pod = Pod(name: name(job))
        ChildMetadata.stamp(&pod, name: name(job), owner: job, labels: labels(job))
        pod.spec.containers = [container]
        pod.spec.restartPolicy = "Always"
        pod.spec.volumes = (job.spec.volumes ?? []).map { RawObject(json: $0) }
        pod.spec.serviceAccountName = job.spec.serviceAccountName
        return pod
    }

    public static func service(_ job: TrainingJob) -> Service {
        var service = Service(name: name(job))
        ChildMetadata.stamp(&service, name: name(job), owner: job, labels: labels(job))
        service.spec.selector = labels(job)
        service.spec.ports = [Service.Port(name: "http", port: 80, targetPort: "http")]
        return service
    }
}
