import Foundation
import KubeCore

/// A model served as an HTTP API, deployed blue/green: a new revision comes up beside the serving one and the
/// alias Service is switched to it in one update once it is ready.
public struct InferenceServiceSpec: Codable, Sendable, Hashable {
    public var image: String
    public var command: [String]?
    public var args: [String]?
    public var env: [EnvVar]?
    /// Container port the server listens on (default 8080).
    public var port: Int?
    /// HTTP path of the readiness probe; without it a pod is ready once its container runs.
    public var readinessPath: String?
    public var resources: ComputeResources?
    public var gpu: GPURequest?
    public var volumes: [JSONValue]?
    public var volumeMounts: [JSONValue]?
    public var podMetadata: PodMetadata?
    public var nodeSelector: [String: String]?
    public var tolerations: [JSONValue]?
    public var serviceAccountName: String?
    public var imagePullSecrets: [LocalObjectReference]?
    public var model: ModelSource?
    /// Replicas of the serving revision (a candidate starts at the same number); exclusive with `autoscaling`.
    public var replicas: Int?
    /// The serving size follows a metric instead of `replicas` (the size decided is in status).
    public var autoscaling: Autoscaling?
    public var rollout: Rollout?
    /// `perNode`: one replica on every matching node, as a DaemonSet per colour (exclusive with `replicas` and
    /// `autoscaling`); absent: `replicas` pods spread over nodes.
    public var placement: Placement?
    /// Before a candidate starts, a short-lived DaemonSet pulls its image on the nodes it may land on.
    public var prepull: Bool?

    public enum Placement: String, Codable, Sendable, Hashable, CaseIterable {
        case perNode
    }

    public init(image: String) { self.image = image }

    public var perNode: Bool { placement == .perNode }

    public var effectivePort: Int { port ?? 8080 }
    public var effectiveReplicas: Int { replicas ?? 1 }
    public var effectiveRollout: Rollout { rollout ?? Rollout() }
}

/// Where the model comes from: fetched by an init container into a shared volume, exposed as `MODEL_DIR`.
public struct ModelSource: Codable, Sendable, Hashable {
    public var uri: String
    public var version: String?
    /// The TrainingJob (same namespace) whose experiment record says how the model was made: its image digest,
    /// git commit, dataset, hyperparameters and best metric go to the revision's status. The run must have
    /// finished successfully. The record holds no model location, so `uri` is still where the model is.
    public var fromTrainingJob: String?
    public init(uri: String, version: String? = nil, fromTrainingJob: String? = nil) {
        self.uri = uri
        self.version = version
        self.fromTrainingJob = fromTrainingJob
    }
}

/// How a new revision replaces the serving one.
public struct Rollout: Codable, Sendable, Hashable {
    public enum Strategy: String, Codable, Sendable, Hashable, CaseIterable {
        /// The candidate comes up in the idle colour; the alias moves to it in one update once it is ready.
        case blueGreen = "BlueGreen"
        /// The serving pods go first, then the new ones come up (no surge of GPUs; a gap in service).
        case recreate = "Recreate"
    }
    public var strategy: Strategy?
    /// Swap as soon as the candidate is ready (default), or wait for `gantry promote`.
    public var autoPromote: Bool?
    /// How long every candidate replica must have been Ready before the swap.
    public var minReadySeconds: Int?
    /// A candidate not ready within this time fails and never gets traffic.
    public var progressDeadlineSeconds: Int?
    /// How long the previous colour stays up after a swap (a rollback inside it starts no pod).
    public var scaleDownDelaySeconds: Int?
    /// A failed candidate's pods stay (no traffic; the preview Service selects them) for debugging, until the
    /// spec changes.
    public var keepFailedCandidate: Bool?
    /// Checks the candidate must pass, through its preview Service, before it gets traffic.
    public var validation: Validation?
    /// Watches the new colour for a window after the swap; a breach swaps back while the previous one is warm.
    public var analysis: Analysis?

    public init() {}

    public var effectiveStrategy: Strategy { strategy ?? .blueGreen }
    public var effectiveAutoPromote: Bool { autoPromote ?? true }
    public var effectiveMinReadySeconds: Int { minReadySeconds ?? 0 }
    public var effectiveProgressDeadlineSeconds: Int { progressDeadlineSeconds ?? 600 }
    public var effectiveScaleDownDelaySeconds: Int { scaleDownDelaySeconds ?? 30 }
    public var effectiveKeepFailedCandidate: Bool { keepFailedCandidate ?? false }
}

/// Checks the candidate must pass once it is ready, before the swap: requests sent to it (through the preview
/// Service, by the API server's service proxy), each expectation of which must hold, then a job that must exit 0.
public struct Validation: Codable, Sendable, Hashable {
    public var requests: [ValidationRequest]?
    public var job: ValidationJob?
    public init(requests: [ValidationRequest]? = nil, job: ValidationJob? = nil) {
        self.requests = requests
        self.job = job
    }
}

/// A pod that must exit 0 before the swap (an accuracy check on a held-out set), given `PREVIEW_URL`: the
/// preview Service's URL inside the cluster, which selects the candidate.
public struct ValidationJob: Codable, Sendable, Hashable {
    /// A Pod template (`metadata`, `spec`) as in the Pod API; its restartPolicy is Never.
    public var template: JSONValue
    /// The job fails when it runs longer than this (the pod's activeDeadlineSeconds, default 600).
    public var activeDeadlineSeconds: Int?
    public init(template: JSONValue, activeDeadlineSeconds: Int? = nil) {
        self.template = template
        self.activeDeadlineSeconds = activeDeadlineSeconds
    }
    public var effectiveActiveDeadlineSeconds: Int { activeDeadlineSeconds ?? 600 }
}

public struct ValidationRequest: Codable, Sendable, Hashable {
    public var method: String?
    public var path: String
    /// Sent with the request, like a probe's `httpGet.httpHeaders` (e.g. the API key the server asks for). The
    /// schema refuses names the API server consumes and never forwards (`ProxiedHeader`).
    public var headers: [Header]?
    public var body: String?
    public var expect: Expectation?

    public struct Header: Codable, Sendable, Hashable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public struct Expectation: Codable, Sendable, Hashable {
        /// HTTP status code (default 200).
        public var status: Int?
        /// Fields of a JSON answer, by dotted path (`predictions.0.label`).
        public var json: [FieldExpectation]?
        /// Slowest acceptable answer.
        public var maxLatencyMilliseconds: Int?
    }

    public struct FieldExpectation: Codable, Sendable, Hashable {
        public var path: String
        /// The field's value as text (a string as is, a number or boolean as JSON writes it).
        public var equals: String?
        /// A number within `tolerance` of this.
        public var value: Double?
        public var tolerance: Double?
    }

    public var effectiveMethod: String { method ?? "GET" }
}

/// After a swap: the new colour's error ratio and latency, every `intervalSeconds` for `windowSeconds`, read from
/// its pods' Prometheus metrics (through the API server's pod proxy) or, with `source: Prometheus`, from queries
/// to the platform's Prometheus (PlatformConfig `spec.prometheus.url`). Counters are compared with their values
/// at the start of the window, summed over the colour's pods (or over the query's samples).
public struct Analysis: Codable, Sendable, Hashable {
    public enum Source: String, Codable, Sendable, Hashable, CaseIterable {
        /// Each pod's metrics endpoint, through the API server's pod proxy.
        case pods = "Pods"
        /// PromQL instant queries (`requestsQuery`, `errorsQuery`, `latencyQuery`) to the platform's Prometheus.
        case prometheus = "Prometheus"
    }
    public var source: Source?
    public var windowSeconds: Int?
    public var intervalSeconds: Int?
    /// Port and path of the pods' metrics (default: the serving port, /metrics).
    public var port: Int?
    public var path: String?
    /// Counter of requests served, e.g. `http_requests_total` (optionally with exact label matchers,
    /// `http_requests_total{code="500"}`). Source Pods.
    public var requestsMetric: String?
    /// Counter of failed requests. Source Pods.
    public var errorsMetric: String?
    public var maxErrorRatio: Double?
    /// No error-ratio verdict before this many requests in the window.
    public var minRequests: Int?
    /// A latency gauge in seconds (e.g. a p99 the server exports); the highest over the pods is compared. Source Pods.
    public var latencyMetric: String?
    public var maxLatencySeconds: Double?
    /// Source Prometheus: PromQL answering the analysed revision's request counter (samples summed), its failed
    /// requests counter (summed; no sample is 0) and a latency in seconds (the highest sample), with the
    /// placeholders of `PrometheusTemplate` ({{namespace}}, {{name}}, {{revision}}, {{color}}).
    public var requestsQuery: String?
    public var errorsQuery: String?
    public var latencyQuery: String?

    public init(requestsMetric: String) { self.requestsMetric = requestsMetric }
    public init(requestsQuery: String) {
        source = .prometheus
        self.requestsQuery = requestsQuery
    }

    public var effectiveSource: Source { source ?? .pods }
    public var effectiveWindowSeconds: Int { windowSeconds ?? 30 }
    public var effectiveIntervalSeconds: Int { intervalSeconds ?? 5 }
    public var effectivePath: String { path ?? "/metrics" }
    public var effectiveMaxErrorRatio: Double { maxErrorRatio ?? 0.05 }
    public var effectiveMinRequests: Int { minRequests ?? 10 }
    /// What the latency figure is, for messages: the gauge or the query.
    public var latencyDescription: String { latencyMetric ?? latencyQuery ?? "" }
}

/// The placeholders a PromQL template of an InferenceService may use, replaced before the query is sent:
/// `{{namespace}}`, `{{name}}` (the InferenceService), `{{revision}}` (the revision's hash, the pods' label
/// `gantry.dev/revision`) and `{{color}}` (blue or green, the pods' label `gantry.dev/color`).
public enum PrometheusTemplate {
    public static func expand(_ template: String, namespace: String, name: String, revision: String?, color: String?) -> String {
        [("namespace", namespace), ("name", name), ("revision", revision ?? ""), ("color", color ?? "")]
            .reduce(template) { text, pair in text.replacingOccurrences(of: "{{\(pair.0)}}", with: pair.1) }
    }
}
