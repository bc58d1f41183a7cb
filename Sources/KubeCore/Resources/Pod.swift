/// core/v1 Pod. Typed: what Gantry's controllers read and write; everything else stays in `json`.
public struct Pod: KubeResource {
    public static let resourceType = ResourceType.pods
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var spec: Spec {
        get { nested("spec") }
        set { setNested("spec", newValue) }
    }
    public var status: Status {
        get { nested("status") }
        set { setNested("status", newValue) }
    }

    public struct Spec: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public var containers: [Container] { get { list("containers") } set { setList("containers", newValue) } }
        public var initContainers: [Container] { get { list("initContainers") } set { setList("initContainers", newValue) } }
        public var restartPolicy: String? { get { string("restartPolicy") } set { setString("restartPolicy", newValue) } }
        public var nodeName: String? { get { string("nodeName") } set { setString("nodeName", newValue) } }
        public var nodeSelector: [String: String] { get { stringMap("nodeSelector") } set { setStringMap("nodeSelector", newValue) } }
        public var serviceAccountName: String? { get { string("serviceAccountName") } set { setString("serviceAccountName", newValue) } }
        public var schedulerName: String? { get { string("schedulerName") } set { setString("schedulerName", newValue) } }
        public var priorityClassName: String? { get { string("priorityClassName") } set { setString("priorityClassName", newValue) } }
        public var hostname: String? { get { string("hostname") } set { setString("hostname", newValue) } }
        public var subdomain: String? { get { string("subdomain") } set { setString("subdomain", newValue) } }
        public var tolerations: [Toleration] { get { list("tolerations") } set { setList("tolerations", newValue) } }
        public var volumes: [RawObject] { get { list("volumes") } set { setList("volumes", newValue) } }
        public var affinity: RawObject { get { nested("affinity") } set { setNested("affinity", newValue) } }
        public var securityContext: RawObject { get { nested("securityContext") } set { setNested("securityContext", newValue) } }
        /// Names of the Secrets to pull images with.
        public var imagePullSecrets: [String] {
            get { (json["imagePullSecrets"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue } }
            set { json["imagePullSecrets"] = newValue.isEmpty ? nil : .array(newValue.map { ["name": .string($0)] }) }
        }
        public var terminationGracePeriodSeconds: Int64? {
            get { int("terminationGracePeriodSeconds") } set { setInt("terminationGracePeriodSeconds", newValue) }
        }
        public var activeDeadlineSeconds: Int64? { get { int("activeDeadlineSeconds") } set { setInt("activeDeadlineSeconds", newValue) } }
    }

    public struct Toleration: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        /// `operator` defaults as the API does: `Equal` with a value, `Exists` without one.
        public init(key: String?, operator op: String? = nil, value: String? = nil, effect: String? = nil) {
            json = .emptyObject
            self.key = key
            self.operator = op ?? (value == nil ? "Exists" : "Equal")
            self.value = value
            self.effect = effect
        }
        public var key: String? { get { string("key") } set { setString("key", newValue) } }
        public var `operator`: String? { get { string("operator") } set { setString("operator", newValue) } }
        public var value: String? { get { string("value") } set { setString("value", newValue) } }
        public var effect: String? { get { string("effect") } set { setString("effect", newValue) } }
        public var tolerationSeconds: Int64? { get { int("tolerationSeconds") } set { setInt("tolerationSeconds", newValue) } }
    }

    public struct Status: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public var phase: String? { get { string("phase") } set { setString("phase", newValue) } }
        public var reason: String? { get { string("reason") } set { setString("reason", newValue) } }
        public var message: String? { get { string("message") } set { setString("message", newValue) } }
        public var podIP: String? { get { string("podIP") } set { setString("podIP", newValue) } }
        public var hostIP: String? { get { string("hostIP") } set { setString("hostIP", newValue) } }
        public var startTime: String? { get { string("startTime") } set { setString("startTime", newValue) } }
        public var conditions: [Condition] { conditions() }
        public var containerStatuses: [ContainerStatus] {
            get { list("containerStatuses") } set { setList("containerStatuses", newValue) }
        }
        public var initContainerStatuses: [ContainerStatus] {
            get { list("initContainerStatuses") } set { setList("initContainerStatuses", newValue) }
        }
        /// The `Ready` condition is `True`.
        public var isReady: Bool { conditions.contains { $0.type == "Ready" && $0.status == .true } }
    }
}

/// A container of a pod (or of a pod template).
public struct Container: JSONBacked {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }
    public init(name: String, image: String) {
        json = ["name": .string(name), "image": .string(image)]
    }
    public var name: String? { get { string("name") } set { setString("name", newValue) } }
    public var image: String? { get { string("image") } set { setString("image", newValue) } }
    public var command: [String] { get { strings("command") } set { setStrings("command", newValue) } }
    public var args: [String] { get { strings("args") } set { setStrings("args", newValue) } }
    public var workingDir: String? { get { string("workingDir") } set { setString("workingDir", newValue) } }
    public var env: [EnvVar] { get { list("env") } set { setList("env", newValue) } }
    public var ports: [Port] { get { list("ports") } set { setList("ports", newValue) } }
    public var resources: Resources { get { nested("resources") } set { setNested("resources", newValue) } }
    public var volumeMounts: [RawObject] { get { list("volumeMounts") } set { setList("volumeMounts", newValue) } }
    public var readinessProbe: RawObject { get { nested("readinessProbe") } set { setNested("readinessProbe", newValue) } }
    public var securityContext: RawObject { get { nested("securityContext") } set { setNested("securityContext", newValue) } }

    public struct EnvVar: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public init(name: String, value: String) { json = ["name": .string(name), "value": .string(value)] }
        public var name: String? { get { string("name") } set { setString("name", newValue) } }
        /// nil when the value comes from `valueFrom` (a secret, a field), kept in `json`.
        public var value: String? { get { string("value") } set { setString("value", newValue) } }
    }

    public struct Port: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public init(name: String? = nil, containerPort: Int64, protocol proto: String = "TCP") {
            json = ["containerPort": .int(containerPort), "protocol": .string(proto)]
            self.name = name
        }
        public var name: String? { get { string("name") } set { setString("name", newValue) } }
        public var containerPort: Int64? { get { int("containerPort") } set { setInt("containerPort", newValue) } }
        public var `protocol`: String? { get { string("protocol") } set { setString("protocol", newValue) } }
    }

    /// `requests` and `limits` as quantities in text form (`"8"`, `"64Gi"`, `"500m"`).
    public struct Resources: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public var requests: [String: String] { get { quantities("requests") } set { setQuantities("requests", newValue) } }
        public var limits: [String: String] { get { quantities("limits") } set { setQuantities("limits", newValue) } }

        /// Quantities are strings in the API, but manifests often carry bare numbers (`nvidia.com/gpu: 1`).
        func quantities(_ key: String) -> [String: String] {
            (json[key]?.objectValue ?? [:]).compactMapValues { v in
                v.stringValue ?? v.intValue.map(String.init) ?? v.doubleValue.map { String($0) }
            }
        }
        mutating func setQuantities(_ key: String, _ value: [String: String]) { setStringMap(key, value) }
    }
}

/// The status of one container: readiness, restarts and its current and last state.
public struct ContainerStatus: JSONBacked {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }
    public var name: String? { get { string("name") } set { setString("name", newValue) } }
    public var ready: Bool { get { bool("ready") ?? false } set { setBool("ready", newValue) } }
    public var restartCount: Int64 { get { int("restartCount") ?? 0 } set { setInt("restartCount", newValue) } }
    public var image: String? { get { string("image") } set { setString("image", newValue) } }
    public var imageID: String? { get { string("imageID") } set { setString("imageID", newValue) } }
    public var state: State { get { nested("state") } set { setNested("state", newValue) } }
    public var lastState: State { get { nested("lastState") } set { setNested("lastState", newValue) } }

    /// One of `waiting`, `running`, `terminated` (as the API: at most one is set).
    public struct State: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public var waiting: Waiting? { json["waiting"].map { Waiting(json: $0) } }
        public var runningSince: String? { json[path: "running", "startedAt"]?.stringValue }
        public var terminated: Terminated? { json["terminated"].map { Terminated(json: $0) } }
    }
    public struct Waiting: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public var reason: String? { string("reason") }
        public var message: String? { string("message") }
    }
    public struct Terminated: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public var exitCode: Int64? { int("exitCode") }
        public var reason: String? { string("reason") }
        public var message: String? { string("message") }
        public var finishedAt: String? { string("finishedAt") }
    }
}

/// A pod template (DaemonSets and other workloads): labels and annotations plus a pod spec.
public struct PodTemplateSpec: HasLabels {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }
    public var spec: Pod.Spec { get { nested("spec") } set { setNested("spec", newValue) } }
}
