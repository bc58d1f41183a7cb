import KubeCore

/// The InferenceService CRD's schema (the source of crds/inferenceservices.gantry.dev.yaml, `make crds`).
public enum InferenceServiceSchema {
    public static let spec = Schema.object("A model served as an HTTP API. A change of anything that shapes the pods starts a candidate beside the serving revision; the alias Service moves to it in one update once it is ready.", [
        "image": Schema.string("Model server image.", maxLength: 4096, minLength: 1),
        "command": Schema.array("Entrypoint (as the Pod API's `command`).", of: Schema.string("Argument.", maxLength: 4096), maxItems: 256),
        "args": Schema.array("Arguments (as the Pod API's `args`).", of: Schema.string("Argument.", maxLength: 4096), maxItems: 256),
        "env": Schema.array("Environment variables of the server container, as in the Pod API. MODEL_* are set by Gantry and refused here.", of: Schema.object("One variable.", [
            "name": Schema.string("Variable name.", maxLength: 256, minLength: 1),
            "value": Schema.string("Literal value.", maxLength: 32768),
            "valueFrom": Schema.passthrough("Source of the value (secretKeyRef, configMapKeyRef, fieldRef), as in the Pod API."),
        ], required: ["name"], rules: [("!self.name.startsWith('MODEL_')", "env: MODEL_* variables are set by Gantry (MODEL_DIR, MODEL_URI, MODEL_VERSION)")]), maxItems: 256),
        "port": Schema.integer("Container port the server listens on; the alias Service serves it on port 80.", minimum: 1, maximum: 65535, default: 8080),
        "readinessPath": Schema.string("HTTP path of the readiness probe (e.g. /v2/health/ready). Without it a pod is ready once its container runs.", pattern: "^/.*", maxLength: 1024),
        "resources": SharedSchemas.resources,
        "gpu": SharedSchemas.gpu,
        "volumes": Schema.array("Pod volumes, as in the Pod API.", of: Schema.passthrough("A volume."), maxItems: 64),
        "volumeMounts": Schema.array("Mounts of the server container, as in the Pod API.", of: Schema.passthrough("A mount."), maxItems: 64),
        "podMetadata": SharedSchemas.podMetadata,
        "nodeSelector": Schema.labelMap("Node labels every replica's node must have.", field: "nodeSelector"),
        "tolerations": Schema.array("Extra tolerations, as in the Pod API (the GPU taint is tolerated automatically).", of: Schema.passthrough("A toleration."), maxItems: 64),
        "serviceAccountName": Schema.string("Service account of the pods."),
        "imagePullSecrets": Schema.array("Secrets for pulling the image.", of: Schema.object("A reference.", ["name": Schema.string("Secret name.", maxLength: 253)], required: ["name"]), maxItems: 16),
        "model": Schema.object("The model: fetched by an init container into a shared volume; the server finds it at MODEL_DIR.", [
            "uri": Schema.string("Where the model is (s3://, gs://, pvc://, http(s)://).", maxLength: 4096, minLength: 1),
            "version": Schema.string("Version label, shown in status and passed as MODEL_VERSION.", maxLength: 128),
            "fromTrainingJob": Schema.string("A TrainingJob in this namespace that produced the model: its experiment record (`<job>-record`: image digest, git commit, dataset, hyperparameters, best metric) is copied into the revision's status. Only a run that Succeeded (or EarlyStopped with a best value) is accepted; the record holds no model location, so uri is still required.", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", maxLength: 253, minLength: 1),
        ], required: ["uri"]),
        "replicas": Schema.integer("Replicas of the serving revision (default 1); a candidate starts at the same number. Exclusive with autoscaling.", minimum: 1, maximum: 1000),
        "autoscaling": autoscaling,
        "placement": Schema.string("perNode: one replica on every node that matches nodeSelector, tolerations and the GPU request, as a DaemonSet per colour (node-local or edge inference), swapped blue/green like pods; exclusive with replicas and autoscaling. Absent: replicas pods spread over nodes.", enum: InferenceServiceSpec.Placement.allCases.map(\.rawValue)),
        "prepull": Schema.boolean("Before a candidate starts, a short-lived DaemonSet pulls its image on the nodes it may land on; the candidate's pods are created once every one of them pulled (or after min(300, progressDeadlineSeconds / 2) seconds, with a PrepullTimedOut Event). The image must contain `true` (its prepull container runs `true`)."),
        "rollout": Schema.object("How a new revision replaces the serving one.", [
            "strategy": Schema.string("BlueGreen: the candidate comes up beside the serving colour and the alias moves in one update. Recreate: the serving pods go first (no GPU surge, a gap in service).", enum: Rollout.Strategy.allCases.map(\.rawValue), default: "BlueGreen"),
            "autoPromote": Schema.boolean("Swap as soon as the candidate is ready; false waits in AwaitingPromotion for `gantry promote`.", default: true),
            "minReadySeconds": Schema.integer("How long every candidate replica must have been Ready before the swap.", minimum: 0, maximum: 3600, default: 0),
            "progressDeadlineSeconds": Schema.integer("A candidate not ready within this time fails and never gets traffic.", minimum: 1, maximum: 86400, default: 600),
            "scaleDownDelaySeconds": Schema.integer("How long the previous colour stays up after a swap; reverting the spec inside it swaps back without a new pod.", minimum: 0, maximum: 86400, default: 30),
            "keepFailedCandidate": Schema.boolean("A failed candidate's pods (or DaemonSet) stay, without traffic, for debugging: the preview Service selects them until the spec changes. They keep their GPUs meanwhile.", default: false),
            "validation": Schema.object("Checks the candidate must pass before it gets traffic: requests sent to the preview Service through the API server's service proxy once every candidate replica is ready.", [
                "requests": Schema.array("Requests, each with what its answer must be.", of: Schema.object("A request.", [
                    "method": Schema.string("HTTP method.", enum: ["GET", "POST", "PUT"], default: "GET"),
                    "path": Schema.string("Path on the server, e.g. /v1/models/sentiment:predict.", pattern: "^/.*", maxLength: 2048),
                    "headers": Schema.array("HTTP headers sent with the request, as a probe's httpGet.httpHeaders (e.g. an API key the server asks for; the value is stored in the spec as written). The API server's proxy passes them on, except those it consumes, which are refused here: Authorization, Impersonate-*, hop-by-hop headers (Connection, Upgrade, Transfer-Encoding, …), Host and Content-Length.", of: Schema.object("A header.", [
                        "name": Schema.string("Header name, e.g. X-Api-Key.", maxLength: 256, minLength: 1),
                        "value": Schema.string("Header value.", maxLength: 4096),
                    ], required: ["name", "value"], rules: ProxiedHeaders.schemaRules), maxItems: 16),
                    "body": Schema.string("Request body (JSON as text).", maxLength: 65536),
                    "expect": Schema.object("What the answer must be.", [
                        "status": Schema.integer("HTTP status code.", minimum: 100, maximum: 599, default: 200),
                        "json": Schema.array("Fields of the JSON answer.", of: Schema.object("A field.", [
                            "path": Schema.string("Dotted path; numbers index arrays (predictions.0.label).", maxLength: 512, minLength: 1),
                            "equals": Schema.string("The value as text (a string as is, a number or boolean as JSON writes it).", maxLength: 4096),
                            "value": Schema.number("A number the field must be within tolerance of."),
                            "tolerance": Schema.number("Allowed distance from value.", minimum: 0),
                        ], required: ["path"], rules: [("has(self.equals) != has(self.value)", "json: give exactly one of equals or value")]), maxItems: 32),
                        "maxLatencyMilliseconds": Schema.integer("Slowest acceptable answer.", minimum: 1),
                    ]),
                ], required: ["path"]), maxItems: 32),
                "job": Schema.object("A pod that must exit 0 before the swap (an accuracy check on a held-out set), once the requests passed. Every container gets PREVIEW_URL, the preview Service's URL (it selects the candidate). The pod is owned by the InferenceService and removed once its outcome is in status.", [
                    "template": Schema.object("A Pod template, as in the Pod API (restartPolicy is set to Never).", [
                        "metadata": Schema.passthrough("Labels and annotations of the pod."),
                        "spec": Schema.passthrough("The pod's spec: containers, volumes, serviceAccountName, nodeSelector, tolerations, …"),
                    ], required: ["spec"]),
                    "activeDeadlineSeconds": Schema.integer("The job fails when it runs longer than this.", minimum: 1, maximum: 86400, default: 600),
                ], required: ["template"]),
            ], rules: [("has(self.requests) || has(self.job)", "rollout.validation: give requests, a job or both")]),
            "analysis": Schema.object("After a swap, the new colour's error ratio and latency are read for windowSeconds, from its pods' Prometheus metrics (through the API server's pod proxy) or, with source Prometheus, from PromQL queries to the platform's Prometheus (PlatformConfig spec.prometheus.url); a breach swaps back to the previous colour while it is warm and marks the service Degraded with the figures.", [
                "source": Schema.string("Pods (default): each pod's metrics endpoint, read with requestsMetric, errorsMetric and latencyMetric. Prometheus: requestsQuery, errorsQuery and latencyQuery sent to the platform's Prometheus.", enum: Analysis.Source.allCases.map(\.rawValue), default: "Pods"),
                "windowSeconds": Schema.integer("How long after the swap the new colour is analysed; at most scaleDownDelaySeconds (the previous colour must still be up to swap back to).", minimum: 1, maximum: 86400, default: 30),
                "intervalSeconds": Schema.integer("How often the metrics are read.", minimum: 1, maximum: 3600, default: 5),
                "port": Schema.integer("Port of the pods' metrics (default: spec.port). Source Pods.", minimum: 1, maximum: 65535),
                "path": Schema.string("Path of the pods' metrics. Source Pods.", pattern: "^/.*", maxLength: 1024),
                "requestsMetric": Schema.string("Counter of requests served, summed over the colour's pods, e.g. http_requests_total; exact label matchers allowed: name{code=\"200\"}. Source Pods.", pattern: "^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{[^}]*\\})?$", maxLength: 512),
                "errorsMetric": Schema.string("Counter of failed requests, e.g. http_requests_total{code=\"500\"}. Source Pods.", pattern: "^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{[^}]*\\})?$", maxLength: 512),
                "maxErrorRatio": Schema.number("Failed over served requests in the window above this is a breach (default 0.05).", minimum: 0),
                "minRequests": Schema.integer("No error-ratio verdict before this many requests in the window.", minimum: 1, default: 10),
                "latencyMetric": Schema.string("A latency gauge in seconds (e.g. a p99); the highest over the colour's pods is compared. Source Pods.", pattern: "^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{[^}]*\\})?$", maxLength: 512),
                "maxLatencySeconds": Schema.number("A latency above this is a breach.", minimum: 0),
                "requestsQuery": Schema.string(prometheusQuery("Source Prometheus: the analysed revision's counter of requests served (its samples summed), e.g. sum(http_requests_total{namespace=\"{{namespace}}\", revision=\"{{revision}}\"})."), maxLength: 4096, minLength: 1),
                "errorsQuery": Schema.string(prometheusQuery("Source Prometheus: its counter of failed requests (samples summed; no sample counts as 0)."), maxLength: 4096, minLength: 1),
                "latencyQuery": Schema.string(prometheusQuery("Source Prometheus: a latency in seconds (the highest sample is compared with maxLatencySeconds)."), maxLength: 4096, minLength: 1),
            ], rules: [
                (fromPrometheus + " || has(self.requestsMetric)", "analysis: requestsMetric is required (the pods' counter of requests served), or set source: Prometheus and requestsQuery"),
                (fromPrometheus + " || (!has(self.requestsQuery) && !has(self.errorsQuery) && !has(self.latencyQuery))",
                 "analysis: requestsQuery, errorsQuery and latencyQuery are read with source: Prometheus only; set it, or use requestsMetric, errorsMetric and latencyMetric"),
                ("!" + fromPrometheus + " || has(self.requestsQuery)", "analysis: source Prometheus needs requestsQuery (PromQL answering the revision's requests served)"),
                ("!" + fromPrometheus + " || (!has(self.requestsMetric) && !has(self.errorsMetric) && !has(self.latencyMetric) && !has(self.port) && !has(self.path))",
                 "analysis: with source Prometheus remove requestsMetric, errorsMetric, latencyMetric, port and path (they are read from the pods); write requestsQuery, errorsQuery and latencyQuery instead"),
                ("has(self.errorsMetric) || has(self.latencyMetric) || has(self.errorsQuery) || has(self.latencyQuery)",
                 "analysis: give errorsMetric, latencyMetric or both (errorsQuery, latencyQuery with source Prometheus); otherwise nothing can breach"),
                ("(has(self.latencyMetric) || has(self.latencyQuery)) == has(self.maxLatencySeconds)",
                 "analysis: latencyMetric (or latencyQuery) and maxLatencySeconds go together"),
            ]),
        ], rules: [
            ("!has(self.analysis) || !has(self.scaleDownDelaySeconds) || self.analysis.windowSeconds <= self.scaleDownDelaySeconds",
             "rollout.analysis.windowSeconds must not exceed rollout.scaleDownDelaySeconds: the previous colour must still be up to swap back to"),
        ]),
    ], required: ["image"], rules: [
        ("!has(self.placement) || self.placement != 'perNode' || (!has(self.replicas) && !has(self.autoscaling))",
         "spec.placement perNode runs one replica on every matching node: remove spec.replicas and spec.autoscaling (choose the nodes with spec.nodeSelector, spec.tolerations and spec.gpu)"),
        ("!has(self.replicas) || !has(self.autoscaling)",
         "spec.replicas and spec.autoscaling are exclusive: remove spec.replicas (the autoscaler sizes the service between autoscaling.minReplicas and autoscaling.maxReplicas, and kubectl scale is refused while it does) or remove spec.autoscaling"),
        ("!has(self.autoscaling) || self.autoscaling.metric != 'cpu' || (has(self.resources) && has(self.resources.cpu))",
         "spec.autoscaling.metric cpu needs spec.resources.cpu: the target is a percentage of the CPU request"),
    ])

    static let autoscaling = Schema.object("The serving size follows a metric, by the rules of Kubernetes' HorizontalPodAutoscaler: desired = ceil(current × value / target) outside the tolerance; up at once, down only to the highest recommendation of the scale-down window; within minReplicas..maxReplicas. The size decided is in status.autoscaling and status.replicas (spec is never written). A candidate starts at the serving colour's current size.", [
        "minReplicas": Schema.integer("Fewest replicas; 0 scales to zero when the metric says so for the scale-down window (needs metricsFrom or query: no pod is left to read).", minimum: 0, maximum: 1000, default: 1),
        "maxReplicas": Schema.integer("Most replicas.", minimum: 1, maximum: 1000),
        "metric": Schema.string("concurrency: requests in flight per replica (gauge); rps: requests per second per replica (rate of a counter); cpu: percentage of resources.cpu (rate of process_cpu_seconds_total); queueAge: age in seconds of the oldest waiting message (a value, for workers pulling from a queue); custom: metricName, as targetType says.", enum: Autoscaling.Metric.allCases.map(\.rawValue)),
        "target": ["type": "number", "minimum": 0, "exclusiveMinimum": true,
                   "description": "The metric's target: per replica (concurrency, rps, custom AverageValue), percent of the CPU request (cpu), seconds (queueAge), or the value (custom Value)."],
        "metricName": Schema.string("The Prometheus series read, with exact label matchers allowed (vllm:num_requests_running, queue_length{queue=\"jobs\"}). Defaults: http_requests_in_flight (concurrency), http_requests_total (rps), process_cpu_seconds_total (cpu), queue_oldest_message_age_seconds (queueAge); required for custom.", pattern: "^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{[^}]*\\})?$", maxLength: 512),
        "targetType": Schema.string("custom only. AverageValue (default): the target is per replica (the pods' values averaged; a Service's value divided by the replicas). Value: the target is for the value itself (the highest of the pods').", enum: Autoscaling.TargetType.allCases.map(\.rawValue)),
        "counter": Schema.boolean("custom only: the series is a counter; its per-second rate is compared with the target."),
        "port": Schema.integer("Port of the serving pods' metrics (default: spec.port).", minimum: 1, maximum: 65535),
        "path": Schema.string("Path of the serving pods' metrics.", pattern: "^/.*", maxLength: 1024, default: "/metrics"),
        "metricsFrom": Schema.object("Read the metric from a Service (e.g. the queue's exporter) through the API server's service proxy instead of from the serving pods; required with minReplicas 0.", [
            "service": Schema.string("A Service in this namespace.", pattern: "^[a-z]([-a-z0-9]*[a-z0-9])?$", maxLength: 63, minLength: 1),
            "port": Schema.integer("The Service's port (default: its first).", minimum: 1, maximum: 65535),
            "path": Schema.string("Path of the Prometheus text.", pattern: "^/.*", maxLength: 1024, default: "/metrics"),
        ], required: ["service"]),
        "query": Schema.string(prometheusQuery("PromQL sent to the platform's Prometheus (PlatformConfig spec.prometheus.url) instead of reading the pods: its samples summed (the highest for a Value target) are the service's value in the target's unit, divided by the replicas for a per-replica target; write rate() for a rate. Works at zero replicas."), maxLength: 4096, minLength: 1),
        "intervalSeconds": Schema.integer("How often the metric is read (HPA's sync period).", minimum: 1, maximum: 3600, default: 15),
        "tolerance": ["type": "number", "minimum": 0, "maximum": 1, "default": 0.1,
                      "description": "No change while |value / target − 1| is at most this (HPA's 10 % by default)."],
        "scaleUpStabilizationSeconds": Schema.integer("A scale-up goes only to the lowest recommendation of this window (0: at once, HPA's default).", minimum: 0, maximum: 3600, default: 0),
        "scaleUp": scalingRules("up", "added"),
        "scaleDown": scalingRules("down", "removed"),
        "scaleDownStabilizationSeconds": Schema.integer("A scale-down goes only to the highest recommendation of this window, so a dip shorter than it scales nothing down (HPA's default 300).", minimum: 0, maximum: 3600, default: 300),
    ], required: ["maxReplicas", "metric", "target"], rules: [
        ("!has(self.minReplicas) || self.minReplicas <= self.maxReplicas", "spec.autoscaling.minReplicas must not exceed spec.autoscaling.maxReplicas"),
        ("!has(self.minReplicas) || self.minReplicas > 0 || has(self.metricsFrom) || has(self.query)",
         "spec.autoscaling.minReplicas 0 needs spec.autoscaling.metricsFrom or query: at zero replicas there is no pod to read the metric from (name the Service of the queue's exporter, or a Prometheus query)"),
        ("!has(self.query) || (!has(self.metricsFrom) && !has(self.metricName) && !has(self.counter) && !has(self.port))",
         "spec.autoscaling.query says what is read: remove metricsFrom, metricName, counter and port (write rate() in the query for a counter)"),
        ("self.metric != 'custom' || has(self.metricName) || has(self.query)",
         "spec.autoscaling.metricName is required with metric custom (or a query): the Prometheus series to scale on"),
        ("self.metric == 'custom' || (!has(self.targetType) && !has(self.counter))",
         "spec.autoscaling.targetType and counter apply to metric custom only (concurrency, rps and cpu are per replica, queueAge is a value)"),
        ("self.metric != 'cpu' || !has(self.metricsFrom)",
         "spec.autoscaling.metric cpu is read from the serving pods: remove metricsFrom"),
    ])

    /// autoscaling/v2 HPAScalingRules' policies and selectPolicy (the window is scaleUp/DownStabilizationSeconds).
    static func scalingRules(_ direction: String, _ verb: String) -> JSONValue {
        Schema.object("How fast the size may go \(direction), as HPA's behavior.scale\(direction == "up" ? "Up" : "Down"): each policy limits the replicas \(verb) within its period; selectPolicy picks among them. Unset: no limit but the bounds.", [
            "policies": Schema.array("Rate limits.", of: Schema.object("A rate limit.", [
                "type": Schema.string("Pods: at most value replicas \(verb) within periodSeconds. Percent: at most value percent of the replicas at the start of the period.", enum: Autoscaling.ScalingPolicy.Kind.allCases.map(\.rawValue)),
                "value": Schema.integer("Replicas, or percent.", minimum: 1, maximum: 100_000),
                "periodSeconds": Schema.integer("The window the change is counted over (HPA allows up to 1800).", minimum: 1, maximum: 1800),
            ], required: ["type", "value", "periodSeconds"]), maxItems: 10),
            "selectPolicy": Schema.string("Max (default): the policy allowing the biggest change applies; Min: the smallest; Disabled: the size never goes \(direction).", enum: Autoscaling.ScalingRules.Select.allCases.map(\.rawValue)),
        ], rules: [("has(self.policies) || (has(self.selectPolicy) && self.selectPolicy == 'Disabled')",
                    "spec.autoscaling.scale\(direction == "up" ? "Up" : "Down"): give policies, or selectPolicy Disabled")])
    }

    /// Whether an analysis reads Prometheus (CEL; `source` may be unset).
    static let fromPrometheus = "(has(self.source) && self.source == 'Prometheus')"

    static func prometheusQuery(_ text: String) -> String {
        text + " Placeholders: {{namespace}}, {{name}}, {{revision}} (the pods' label gantry.dev/revision), {{color}} (gantry.dev/color)."
    }

    static let revision = Schema.object("A pod template revision.", [
        "hash": Schema.string("Hash of everything that shapes the pods (not replicas)."),
        "color": Schema.string("blue or green.", enum: InferenceServiceStatus.Color.allCases.map(\.rawValue)),
        "image": Schema.string("Server image."),
        "modelVersion": Schema.string("spec.model.version."),
        "source": Schema.object("The run that produced the model (spec.model.fromTrainingJob), from its experiment record.", [
            "trainingJob": Schema.string("TrainingJob name."),
            "record": Schema.string("The record ConfigMap, which outlives the job."),
            "uid": Schema.string("The job's uid."),
            "phase": Schema.string("How the run ended: Succeeded or EarlyStopped."),
            "image": Schema.string("Training image."),
            "imageID": Schema.string("Training image's resolved digest."),
            "gitCommit": Schema.string("The job's gantry.dev/git-commit annotation."),
            "dataset": Schema.string("Dataset URI."),
            "hyperparameters": Schema.stringMap("Hyperparameters of the run."),
            "bestMetric": SharedSchemas.bestMetric("Best value of the run's objective."),
            "completionTime": Schema.string("When the run finished."),
        ]),
    ])

    public static let status = Schema.object("What the controller observed. Written only by Gantry.", [
        "observedGeneration": ["type": "integer", "format": "int64", "description": "The generation of the spec this status describes."],
        "conditions": SharedSchemas.conditions,
        "url": Schema.string("The alias Service's URL inside the cluster."),
        "activeColor": Schema.string("The colour the alias Service selects.", enum: InferenceServiceStatus.Color.allCases.map(\.rawValue)),
        "activeRevision": revision,
        "previousRevision": revision,
        "warmUntil": Schema.string("Until when the previous revision stays up for a rollback without new pods."),
        "candidate": Schema.object("The revision being rolled out.", [
            "revision": revision,
            "phase": Schema.string("Prepulling, Progressing, Validating, AwaitingPromotion or Failed.", enum: InferenceServiceStatus.Candidate.Phase.allCases.map(\.rawValue)),
            "ready": Schema.integer("Candidate replicas ready for minReadySeconds."),
            "desired": Schema.integer("Candidate replicas wanted."),
            "startedAt": Schema.string("When the rollout started."),
            "prepull": Schema.object("spec.prepull: the DaemonSet pulling the candidate's image before its pods start.", [
                "phase": Schema.string("Pulling, Pulled or TimedOut (the candidate started anyway).", enum: InferenceServiceStatus.Prepull.Phase.allCases.map(\.rawValue)),
                "daemonSet": Schema.string("The prepull DaemonSet (deleted once the phase is Pulled or TimedOut)."),
                "desired": Schema.integer("Nodes that should pull the image."),
                "ready": Schema.integer("Nodes that pulled it."),
                "startedAt": Schema.string("When the pull started."),
                "finishedAt": Schema.string("When it ended."),
            ]),
            "reason": Schema.string("Why it waits or failed, CamelCase: InsufficientGPUForSurge, InsufficientGPU, ProgressDeadlineExceeded, ValidationFailed."),
            "message": Schema.string("Why it waits or failed."),
            "validation": Schema.object("What the candidate answered to rollout.validation.requests, and how its validation job ended.", [
                "revision": Schema.string("The candidate revision validated."),
                "passed": Schema.boolean("Every expectation held (and the job, once it ran, exited 0)."),
                "job": Schema.object("The validation job's pod.", [
                    "pod": Schema.string("Pod name."), "passed": Schema.boolean("It exited 0 (absent while it runs)."),
                    "startedAt": Schema.string("When it started."), "finishedAt": Schema.string("When it ended."),
                    "exitCode": Schema.integer("Its container's exit code."), "message": Schema.string("How it ended."),
                    "logTail": Schema.array("The last lines of its log, when it failed.", of: Schema.string("A line.")),
                ]),
                "at": Schema.string("When."),
                "results": Schema.array("One per request.", of: Schema.object("A result.", [
                    "request": Schema.string("Method and path."), "code": Schema.integer("HTTP status."),
                    "latencyMilliseconds": Schema.integer("Time to answer."), "passed": Schema.boolean("Expectations held."),
                    "message": Schema.string("What differed, or ok."),
                ])),
            ]),
        ]),
        "lastSwap": Schema.object("The last move of the alias.", [
            "from": Schema.string("Revision hash it served before."), "to": Schema.string("Revision hash it serves now."),
            "at": Schema.string("When."), "reason": Schema.string("Swapped or RolledBack."),
        ]),
        "perNode": Schema.array("placement perNode: each live colour's DaemonSet.", of: Schema.object("A colour.", [
            "color": Schema.string("blue or green.", enum: InferenceServiceStatus.Color.allCases.map(\.rawValue)),
            "revision": Schema.string("Revision hash."), "daemonSet": Schema.string("DaemonSet name."),
            "desired": Schema.integer("Nodes that should run a replica: the DaemonSet's desiredNumberScheduled less the unfit nodes."),
            "ready": Schema.integer("Of those, nodes whose replica is ready and of this revision."),
            "unfit": Schema.array("Nodes the DaemonSet places a pod on that can never hold one replica (allocatable below its request): not counted in desired; their pods stay Pending.", of: Schema.object("A node.", [
                "node": Schema.string("Node name."), "message": Schema.string("What it has against what one replica asks."),
            ])),
        ])),
        "replicas": Schema.integer("Replicas of the serving revision."),
        "readyReplicas": Schema.integer("Ready replicas of the serving revision."),
        "selector": Schema.string("Label selector of the serving pods (the scale subresource's, for kubectl scale and autoscalers)."),
        "autoscaling": Schema.object("What the autoscaler read and decided (spec.autoscaling).", [
            "metric": Schema.string("The metric and its series."),
            "currentValue": Schema.number("The value compared with the target (per replica, or the value); absent when unreadable."),
            "target": Schema.number("spec.autoscaling.target."),
            "desiredReplicas": Schema.integer("The serving size decided (every live revision's replicas; never written to spec)."),
            "recommendation": Schema.integer("The last reading's recommendation, before stabilization and bounds."),
            "lastScale": Schema.object("The last change of the size.", [
                "from": Schema.integer("Replicas before."), "to": Schema.integer("Replicas after."), "at": Schema.string("When."),
            ]),
            "lastCheck": Schema.string("When the metric was last read."),
            "reason": Schema.string("ScaledUp, ScaledDown, ScaleDownStabilized, ScaleUpStabilized, ScaleUpLimit, ScaleDownLimit, AtMaxReplicas, AtMinReplicas, WithinTolerance, MetricsUnreadable."),
            "message": Schema.string("The decision with its figures."),
            "recommendations": Schema.array("Recommendations still inside a stabilization window.", of: Schema.object("A recommendation.", [
                "at": Schema.string("When."), "replicas": Schema.integer("Replicas asked for."),
            ])),
            "recentScales": Schema.array("Changes of the size inside the longest scaleUp/scaleDown policy period (what the rate limits count).", of: Schema.object("A change.", [
                "from": Schema.integer("Replicas before."), "to": Schema.integer("Replicas after."), "at": Schema.string("When."),
            ])),
        ]),
        "analysis": Schema.object("The analysis of the last swap (spec.rollout.analysis).", [
            "revision": Schema.string("The revision analysed (swapped to)."),
            "from": Schema.string("The revision swapped back to on a breach."),
            "phase": Schema.string("Running, Passed, Failed, or Inconclusive (the window ended without a reading).", enum: AnalysisStatus.Phase.allCases.map(\.rawValue)),
            "startedAt": Schema.string("When the window started (the swap)."),
            "until": Schema.string("When the window ends."),
            "lastCheck": Schema.string("When the metrics were last read."),
            "baseline": Schema.object("Counters summed over the colour's pods and the highest latency.", [
                "requests": Schema.number("Requests."), "errors": Schema.number("Failed requests."), "latencySeconds": Schema.number("Latency."),
            ]),
            "last": Schema.object("Counters summed over the colour's pods and the highest latency.", [
                "requests": Schema.number("Requests."), "errors": Schema.number("Failed requests."), "latencySeconds": Schema.number("Latency."),
            ]),
            "errorRatio": Schema.number("Failed over served requests since the start of the window."),
            "message": Schema.string("The verdict, with the figures."),
        ]),
    ])

    public static var crd: JSONValue {
        CRDBuilder.crd(
            kind: "InferenceService", plural: "inferenceservices", singular: "inferenceservice", shortNames: ["gis"], namespaced: true,
            description: "A model served as an HTTP API, deployed blue/green by one update of its alias Service.",
            spec: spec, status: status,
            printerColumns: [
                ("URL", "string", ".status.url", 0),
                ("Active", "string", ".status.activeColor", 0),
                ("Candidate", "string", ".status.candidate.phase", 0),
                ("Ready", "integer", ".status.readyReplicas", 0),
                ("Replicas", "integer", ".status.replicas", 1),
                ("Revision", "string", ".status.activeRevision.hash", 1),
                ("Source", "string", ".status.activeRevision.source.trainingJob", 1),
                ("Age", "date", ".metadata.creationTimestamp", 0),
            ],
            scale: (".spec.replicas", ".status.replicas", ".status.selector"))
    }
}
