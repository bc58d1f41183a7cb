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
        "replicas": Schema.integer("Replicas of the serving revision; a candidate starts at the same number.", minimum: 1, maximum: 1000, default: 1),
        "rollout": Schema.object("How a new revision replaces the serving one.", [
            "strategy": Schema.string("BlueGreen: the candidate comes up beside the serving colour and the alias moves in one update. Recreate: the serving pods go first (no GPU surge, a gap in service).", enum: Rollout.Strategy.allCases.map(\.rawValue), default: "BlueGreen"),
            "autoPromote": Schema.boolean("Swap as soon as the candidate is ready; false waits in AwaitingPromotion for `gantry promote`.", default: true),
            "minReadySeconds": Schema.integer("How long every candidate replica must have been Ready before the swap.", minimum: 0, maximum: 3600, default: 0),
            "progressDeadlineSeconds": Schema.integer("A candidate not ready within this time fails and never gets traffic.", minimum: 1, maximum: 86400, default: 600),
            "scaleDownDelaySeconds": Schema.integer("How long the previous colour stays up after a swap; reverting the spec inside it swaps back without a new pod.", minimum: 0, maximum: 86400, default: 30),
            "validation": Schema.object("Checks the candidate must pass before it gets traffic: requests sent to the preview Service through the API server's service proxy once every candidate replica is ready.", [
                "requests": Schema.array("Requests, each with what its answer must be.", of: Schema.object("A request.", [
                    "method": Schema.string("HTTP method.", enum: ["GET", "POST", "PUT"], default: "GET"),
                    "path": Schema.string("Path on the server, e.g. /v1/models/sentiment:predict.", pattern: "^/.*", maxLength: 2048),
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
            ], required: ["requests"]),
            "analysis": Schema.object("After a swap, the new colour's error ratio and latency are read from its pods' Prometheus metrics (through the API server's pod proxy) for windowSeconds; a breach swaps back to the previous colour while it is warm and marks the service Degraded with the figures.", [
                "windowSeconds": Schema.integer("How long after the swap the new colour is analysed; at most scaleDownDelaySeconds (the previous colour must still be up to swap back to).", minimum: 1, maximum: 86400, default: 30),
                "intervalSeconds": Schema.integer("How often the metrics are read.", minimum: 1, maximum: 3600, default: 5),
                "port": Schema.integer("Port of the pods' metrics (default: spec.port).", minimum: 1, maximum: 65535),
                "path": Schema.string("Path of the pods' metrics.", pattern: "^/.*", maxLength: 1024, default: "/metrics"),
                "requestsMetric": Schema.string("Counter of requests served, summed over the colour's pods, e.g. http_requests_total; exact label matchers allowed: name{code=\"200\"}.", pattern: "^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{[^}]*\\})?$", maxLength: 512),
                "errorsMetric": Schema.string("Counter of failed requests, e.g. http_requests_total{code=\"500\"}.", pattern: "^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{[^}]*\\})?$", maxLength: 512),
                "maxErrorRatio": Schema.number("Failed over served requests in the window above this is a breach (default 0.05).", minimum: 0),
                "minRequests": Schema.integer("No error-ratio verdict before this many requests in the window.", minimum: 1, default: 10),
                "latencyMetric": Schema.string("A latency gauge in seconds (e.g. a p99); the highest over the colour's pods is compared.", pattern: "^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{[^}]*\\})?$", maxLength: 512),
                "maxLatencySeconds": Schema.number("A latency above this is a breach.", minimum: 0),
            ], required: ["requestsMetric"], rules: [
                ("has(self.errorsMetric) || has(self.latencyMetric)", "analysis: give errorsMetric, latencyMetric or both (otherwise nothing can breach)"),
                ("has(self.latencyMetric) == has(self.maxLatencySeconds)", "analysis: latencyMetric and maxLatencySeconds go together"),
            ]),
        ], rules: [
            ("!has(self.analysis) || !has(self.scaleDownDelaySeconds) || self.analysis.windowSeconds <= self.scaleDownDelaySeconds",
             "rollout.analysis.windowSeconds must not exceed rollout.scaleDownDelaySeconds: the previous colour must still be up to swap back to"),
        ]),
    ], required: ["image"])

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
            "phase": Schema.string("Progressing, Validating, AwaitingPromotion or Failed.", enum: InferenceServiceStatus.Candidate.Phase.allCases.map(\.rawValue)),
            "ready": Schema.integer("Candidate replicas ready for minReadySeconds."),
            "desired": Schema.integer("Candidate replicas wanted."),
            "startedAt": Schema.string("When the rollout started."),
            "reason": Schema.string("Why it waits or failed, CamelCase: InsufficientGPUForSurge, InsufficientGPU, ProgressDeadlineExceeded, ValidationFailed."),
            "message": Schema.string("Why it waits or failed."),
            "validation": Schema.object("What the candidate answered to rollout.validation.requests.", [
                "revision": Schema.string("The candidate revision validated."),
                "passed": Schema.boolean("Every expectation held."),
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
        "replicas": Schema.integer("Replicas of the serving revision."),
        "readyReplicas": Schema.integer("Ready replicas of the serving revision."),
        "selector": Schema.string("Label selector of the serving pods (the scale subresource's, for kubectl scale and autoscalers)."),
        "analysis": Schema.object("The analysis of the last swap (spec.rollout.analysis).", [
            "revision": Schema.string("The revision analysed (swapped to)."),
            "from": Schema.string("The revision swapped back to on a breach."),
            "phase": Schema.string("Running, Passed or Failed.", enum: AnalysisStatus.Phase.allCases.map(\.rawValue)),
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
                ("Revision", "string", ".status.activeRevision.hash", 1),
                ("Source", "string", ".status.activeRevision.source.trainingJob", 1),
                ("Age", "date", ".metadata.creationTimestamp", 0),
            ],
            scale: (".spec.replicas", ".status.replicas", ".status.selector"))
    }
}
