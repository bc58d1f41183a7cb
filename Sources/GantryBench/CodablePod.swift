import Foundation

/// A reasonably complete Codable model of a core/v1 Pod, as a typed client would generate it: the
/// comparison point for `JSONValue.parse` in `decode-pods`. Fields the fixture does not carry are still
/// declared (optional), because a real generated model has them and `JSONDecoder` pays for the lookups.
/// `managedFields.fieldsV1` is decoded as a recursive map (`FieldsV1`).
public struct PodListModel: Codable, Sendable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ListMetaModel?
    public var items: [PodModel]
}

public struct ListMetaModel: Codable, Sendable {
    public var resourceVersion: String?
    public var `continue`: String?
}

public struct PodModel: Codable, Sendable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMetaModel
    public var spec: PodSpecModel?
    public var status: PodStatusModel?
}

public struct ObjectMetaModel: Codable, Sendable {
    public var name: String?
    public var generateName: String?
    public var namespace: String?
    public var uid: String?
    public var resourceVersion: String?
    public var generation: Int64?
    public var creationTimestamp: String?
    public var deletionTimestamp: String?
    public var deletionGracePeriodSeconds: Int64?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var ownerReferences: [OwnerReferenceModel]?
    public var finalizers: [String]?
    public var managedFields: [ManagedFieldsEntryModel]?
}

public struct OwnerReferenceModel: Codable, Sendable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool?
    public var blockOwnerDeletion: Bool?
}

public struct ManagedFieldsEntryModel: Codable, Sendable {
    public var manager: String?
    public var operation: String?
    public var apiVersion: String?
    public var time: String?
    public var fieldsType: String?
    public var fieldsV1: FieldsV1?
    public var subresource: String?
}

/// `fieldsV1` is a tree of objects only (`{"f:metadata": {"f:labels": {".": {}}}}`), so it decodes as a
/// recursive map. Decoding it as `AnyJSON` would probe each node as bool, number, string and array before
/// object, throwing (and formatting) four `DecodingError`s per node: that measured the model, not the decoder.
public struct FieldsV1: Codable, Sendable {
    public var children: [String: FieldsV1]

    public init(from decoder: any Decoder) throws {
        children = try decoder.singleValueContainer().decode([String: FieldsV1].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(children)
    }
}

public struct PodSpecModel: Codable, Sendable {
    public var containers: [ContainerModel]
    public var initContainers: [ContainerModel]?
    public var volumes: [VolumeModel]?
    public var restartPolicy: String?
    public var terminationGracePeriodSeconds: Int64?
    public var activeDeadlineSeconds: Int64?
    public var dnsPolicy: String?
    public var nodeSelector: [String: String]?
    public var serviceAccountName: String?
    public var nodeName: String?
    public var hostNetwork: Bool?
    public var hostname: String?
    public var subdomain: String?
    public var affinity: AffinityModel?
    public var schedulerName: String?
    public var tolerations: [TolerationModel]?
    public var priorityClassName: String?
    public var priority: Int32?
    public var enableServiceLinks: Bool?
}

public struct ContainerModel: Codable, Sendable {
    public var name: String
    public var image: String?
    public var command: [String]?
    public var args: [String]?
    public var workingDir: String?
    public var ports: [ContainerPortModel]?
    public var env: [EnvVarModel]?
    public var resources: ResourceRequirementsModel?
    public var volumeMounts: [VolumeMountModel]?
    public var readinessProbe: ProbeModel?
    public var livenessProbe: ProbeModel?
    public var terminationMessagePath: String?
    public var terminationMessagePolicy: String?
    public var imagePullPolicy: String?
}

public struct ContainerPortModel: Codable, Sendable {
    public var name: String?
    public var containerPort: Int32
    public var `protocol`: String?
}

public struct EnvVarModel: Codable, Sendable {
    public var name: String
    public var value: String?
    public var valueFrom: EnvVarSourceModel?
}

public struct EnvVarSourceModel: Codable, Sendable {
    public struct FieldRef: Codable, Sendable { public var apiVersion: String?; public var fieldPath: String }
    public struct KeyRef: Codable, Sendable { public var name: String?; public var key: String; public var optional: Bool? }
    public var fieldRef: FieldRef?
    public var configMapKeyRef: KeyRef?
    public var secretKeyRef: KeyRef?
}

public struct ResourceRequirementsModel: Codable, Sendable {
    public var limits: [String: String]?
    public var requests: [String: String]?
}

public struct VolumeMountModel: Codable, Sendable {
    public var name: String
    public var mountPath: String
    public var readOnly: Bool?
    public var subPath: String?
}

public struct ProbeModel: Codable, Sendable {
    public struct HTTPGet: Codable, Sendable { public var path: String?; public var port: AnyJSON; public var scheme: String? }
    public var httpGet: HTTPGet?
    public var initialDelaySeconds: Int32?
    public var periodSeconds: Int32?
    public var timeoutSeconds: Int32?
    public var failureThreshold: Int32?
}

public struct VolumeModel: Codable, Sendable {
    public struct PVC: Codable, Sendable { public var claimName: String; public var readOnly: Bool? }
    public struct EmptyDir: Codable, Sendable { public var medium: String?; public var sizeLimit: String? }
    public struct Projected: Codable, Sendable { public var defaultMode: Int32?; public var sources: [AnyJSON]? }
    public struct ConfigMap: Codable, Sendable { public var name: String?; public var defaultMode: Int32? }
    public var name: String
    public var persistentVolumeClaim: PVC?
    public var emptyDir: EmptyDir?
    public var projected: Projected?
    public var configMap: ConfigMap?
}

public struct TolerationModel: Codable, Sendable {
    public var key: String?
    public var `operator`: String?
    public var value: String?
    public var effect: String?
    public var tolerationSeconds: Int64?
}

public struct AffinityModel: Codable, Sendable {
    public struct WeightedTerm: Codable, Sendable { public var weight: Int32; public var podAffinityTerm: PodAffinityTerm }
    public struct PodAffinityTerm: Codable, Sendable {
        public var topologyKey: String
        public var labelSelector: LabelSelectorModel?
        public var namespaces: [String]?
    }
    public struct PodAntiAffinity: Codable, Sendable {
        public var preferredDuringSchedulingIgnoredDuringExecution: [WeightedTerm]?
        public var requiredDuringSchedulingIgnoredDuringExecution: [PodAffinityTerm]?
    }
    public var podAntiAffinity: PodAntiAffinity?
    public var podAffinity: PodAntiAffinity?
    public var nodeAffinity: AnyJSON?
}

public struct LabelSelectorModel: Codable, Sendable {
    public var matchLabels: [String: String]?
    public var matchExpressions: [AnyJSON]?
}

public struct PodStatusModel: Codable, Sendable {
    public struct PodIP: Codable, Sendable { public var ip: String }
    public var phase: String?
    public var conditions: [PodConditionModel]?
    public var message: String?
    public var reason: String?
    public var hostIP: String?
    public var podIP: String?
    public var podIPs: [PodIP]?
    public var startTime: String?
    public var containerStatuses: [ContainerStatusModel]?
    public var qosClass: String?
}

public struct PodConditionModel: Codable, Sendable {
    public var type: String
    public var status: String
    public var lastProbeTime: String?
    public var lastTransitionTime: String?
    public var reason: String?
    public var message: String?
}

public struct ContainerStatusModel: Codable, Sendable {
    public struct State: Codable, Sendable {
        public struct Running: Codable, Sendable { public var startedAt: String? }
        public struct Waiting: Codable, Sendable { public var reason: String?; public var message: String? }
        public struct Terminated: Codable, Sendable {
            public var exitCode: Int32; public var reason: String?; public var message: String?
            public var startedAt: String?; public var finishedAt: String?
        }
        public var running: Running?
        public var waiting: Waiting?
        public var terminated: Terminated?
    }
    public var name: String
    public var state: State?
    public var lastState: State?
    public var ready: Bool
    public var started: Bool?
    public var restartCount: Int32
    public var image: String
    public var imageID: String
    public var containerID: String?
}

/// An untyped JSON tree for the small free-form parts of the model (projected sources, a probe's int-or-string
/// port). Probing with `try?` is acceptable here: these are a few nodes per pod, and a value that matches no
/// case still fails with the object decode's error.
public indirect enum AnyJSON: Codable, Sendable {
    case null, bool(Bool), number(Double), string(String), array([AnyJSON]), object([String: AnyJSON])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([AnyJSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: AnyJSON].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}
