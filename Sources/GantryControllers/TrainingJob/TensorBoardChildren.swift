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

    public static func pod(_ job: TrainingJob, _ board: TensorBoard) -> JSONValue {
        var container: JSONValue = [
            "name": "tensorboard",
            "image": .string(board.image ?? defaultImage),
            "command": ["tensorboard", "--logdir", .string(board.logDir), "--bind_all", "--port", .string(String(port))],
            "ports": [["name": "http", "containerPort": .int(port)]],
            "readinessProbe": ["httpGet": ["path": "/", "port": "http"], "initialDelaySeconds": 2],
            "resources": ["requests": ["cpu": "100m", "memory": "256Mi"], "limits": ["memory": "1Gi"]],
        ]
        if let mounts = job.spec.volumeMounts { container["volumeMounts"] = .array(mounts) }
        var spec: JSONValue = ["containers": [container], "restartPolicy": "Always"]
        if let volumes = job.spec.volumes { spec["volumes"] = .array(volumes) }
        if let sa = job.spec.serviceAccountName { spec["serviceAccountName"] = .string(sa) }
        var pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "spec": spec]
        pod.name = name(job)
        pod.namespace = job.namespace
        pod.labels = labels(job)
        pod.ownerReferences = [job.ownerReference]
        return pod
    }

    public static func service(_ job: TrainingJob) -> JSONValue {
        var service: JSONValue = ["apiVersion": "v1", "kind": "Service", "spec": [
            "selector": .object(labels(job).mapValues(JSONValue.string)),
            "ports": [["name": "http", "port": 80, "targetPort": "http"]],
        ]]
        service.name = name(job)
        service.namespace = job.namespace
        service.labels = labels(job)
        service.ownerReferences = [job.ownerReference]
        return service
    }
}
