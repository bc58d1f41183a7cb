import KubeCore

/// The TrainingJob CRD's schema: the one source of truth for the YAML in crds/ (`make crds`).
/// A test checks field by field that it agrees with the Codable types.
public enum TrainingJobSchema {
    public static let spec = Schema.immutable(Schema.object("What to train, on which GPUs, with how many replicas, and when to stop.", [
        "image": Schema.string("Training container image.", maxLength: 4096, minLength: 1),
        "command": Schema.array("Entrypoint (as the Pod API's `command`).", of: Schema.string("Argument.", maxLength: 4096), maxItems: 256),
        "args": Schema.array("Arguments (as the Pod API's `args`).", of: Schema.string("Argument.", maxLength: 4096), maxItems: 256),
        "env": SharedSchemas.env,
        "resources": SharedSchemas.resources,
        "gpu": SharedSchemas.gpu,
        "replicas": Schema.integer("Number of replicas (pods), all started together (gang). More than 1 needs a distributed framework.", minimum: 1, maximum: 1024, default: 1),
        "hyperparameters": Schema.stringMap("Hyperparameters: injected as environment variables `HP_<NAME>` (upper-cased, other characters as `_`) and recorded in the experiment record. Two keys that give the same variable name are refused.", maxProperties: 128),
        "dataset": Schema.object("Training data.", [
            "uri": Schema.string("Where the data is (s3://, gs://, pvc://, http(s)://).", minLength: 1),
            "cache": Schema.string("`node` syncs the dataset once into a node-local cache shared by later runs.", enum: Dataset.Cache.allCases.map(\.rawValue), default: "none"),
        ], required: ["uri"]),
        "volumes": Schema.array("Pod volumes, as in the Pod API.", of: Schema.passthrough("A volume."), maxItems: 64),
        "volumeMounts": Schema.array("Mounts of the training container, as in the Pod API.", of: Schema.passthrough("A mount."), maxItems: 64),
        "serviceAccountName": Schema.string("Service account of the pods."),
        "imagePullSecrets": Schema.array("Secrets for pulling the image.", of: Schema.object("A reference.", ["name": Schema.string("Secret name.", maxLength: 253)], required: ["name"]), maxItems: 16),
        "podMetadata": SharedSchemas.podMetadata,
        "nodeSelector": Schema.labelMap("Node labels every replica's node must have.", field: "nodeSelector"),
        "tolerations": Schema.array("Extra tolerations, as in the Pod API (the GPU taint is tolerated automatically).", of: Schema.passthrough("A toleration."), maxItems: 64),
        "priority": Schema.integer("Admission priority: higher is admitted first; equal priorities in creation order.", minimum: -1000, maximum: 1000, default: 0),
        "suspend": Schema.boolean("Suspended jobs hold no pods; resuming starts them again.", default: false),
        "backoffLimit": Schema.integer("Gang restarts after a replica failure before the job fails (evictions do not count).", minimum: 0, maximum: 100, default: 3),
        "activeDeadlineSeconds": Schema.integer("The job fails when it has run this long.", minimum: 1),
        "startupDeadlineSeconds": Schema.integer("The job fails with a diagnosis when its pods have not all started within this time after admission.", minimum: 1),
        "ttlSecondsAfterFinished": Schema.integer("The TrainingJob (and its children) is deleted this long after it finished; the record ConfigMap stays.", minimum: 0),
        "distributed": Schema.object("Distributed training settings.", [
            "framework": Schema.string("none: a single pod. pytorch: MASTER_ADDR/MASTER_PORT/WORLD_SIZE/RANK. tensorflow: TF_CONFIG. mpi: a hostfile.", enum: Distributed.Framework.allCases.map(\.rawValue), default: "none"),
            "port": Schema.integer("Rendezvous port of rank 0.", minimum: 1, maximum: 65535, default: 29500),
        ], required: ["framework"]),
        "failurePolicy": Schema.object("How replica failures are treated.", [
            "permanentExitCodes": Schema.array("Exit codes that fail the job at once, without restarting.", of: Schema.integer("An exit code.", minimum: 0, maximum: 255), maxItems: 64),
        ]),
        "metrics": Schema.object("Where training metrics come from: the log of one replica.", [
            "format": Schema.string("KeyValue: `step=120 loss=0.42`. JSON: one object per line.", enum: MetricsSource.Format.allCases.map(\.rawValue), default: "KeyValue"),
            "stepKey": Schema.string("Key holding the step number.", default: "step"),
            "replica": Schema.integer("Index of the replica whose log is read.", minimum: 0, default: 0),
            "objective": Schema.object("The metric that says how good a run is: BEST, records and experiments use it. Unset: earlyStopping.metric, else loss to minimize.", [
                "metric": Schema.string("Metric name, e.g. val_acc.", maxLength: 128, minLength: 1),
                "goal": Schema.string("Whether lower or higher is better.", enum: EarlyStopping.Goal.allCases.map(\.rawValue), default: "minimize"),
            ], required: ["metric"]),
            "additional": Schema.array("More metrics kept in status with their best value and history.", of: Schema.string("Metric name.", maxLength: 128, minLength: 1), maxItems: 16),
        ]),
        "earlyStopping": Schema.object("Rules that stop a run that is not learning; any rule stops it.", [
            "metric": Schema.string("Metric the rules watch, e.g. `val_loss`.", minLength: 1),
            "goal": Schema.string("Whether lower or higher is better.", enum: EarlyStopping.Goal.allCases.map(\.rawValue), default: "minimize"),
            "patience": Schema.object("Stop after N evaluations without an improvement of at least minDelta.", [
                "evaluations": Schema.integer("Evaluations without improvement.", minimum: 1),
                "minDelta": Schema.number("Smallest change that counts as improvement.", minimum: 0),
            ], required: ["evaluations"]),
            "threshold": Schema.object("Stop when the metric is worse than a bound after startStep.", [
                "bound": Schema.number("The bound."),
                "startStep": Schema.integer("First step the rule applies to.", minimum: 0),
            ], required: ["bound"]),
            "median": Schema.object("Stop when the best value so far is worse than the median of other jobs of the same experiment (label gantry.dev/experiment) at the same step.", [
                "minTrials": Schema.integer("Other jobs that must have reported the step first.", minimum: 1, default: 3),
                "startStep": Schema.integer("First step the rule applies to.", minimum: 0),
            ]),
            "stopOnDivergence": Schema.boolean("NaN or Inf in the metric stops the run at once.", default: true),
        ], required: ["metric"]),
        "tensorboard": Schema.object("Adds a TensorBoard pod and Service beside the job.", [
            "logDir": Schema.string("Event files directory (shared storage or object store URI).", minLength: 1),
            "image": Schema.string("TensorBoard image."),
        ], required: ["logDir"]),
        "finishedPodPolicy": Schema.string("Delete: this job's pods are deleted when it finishes (GPUs freed; exit reasons and log tails kept in status). Keep: they stay, so `kubectl logs` still reads them. Unset: the PlatformConfig's policy.", enum: PlatformConfigSpec.FinishedPodPolicy.allCases.map(\.rawValue)),
    ], required: ["image"], rules: [
        ("!has(self.replicas) || self.replicas == 1 || (has(self.distributed) && self.distributed.framework != 'none')",
         "replicas greater than 1 need distributed.framework (pytorch, tensorflow or mpi)"),
    ]), except: TrainingJobSpec.mutableFields, kind: "TrainingJob")

    public static let status = Schema.object("What the controller observed. Written only by Gantry.", [
        "phase": Schema.string("Queued, Admitted, Running, Succeeded, Failed, EarlyStopped, Suspended, or Invalid (the spec can never run as written; see the Invalid condition).", enum: TrainingJobStatus.Phase.allCases.map(\.rawValue)),
        "observedGeneration": ["type": "integer", "format": "int64", "description": "The generation of the spec this status describes."],
        "conditions": SharedSchemas.conditions,
        "readyReplicas": Schema.string("Ready replicas as `ready/total`."),
        "replicas": Schema.object("Replica counts.", [
            "total": Schema.integer("Desired replicas."), "active": Schema.integer("Pods not finished."),
            "ready": Schema.integer("Ready pods."), "succeeded": Schema.integer("Succeeded pods."), "failed": Schema.integer("Failed pods."),
        ]),
        "gpus": Schema.integer("GPUs the whole job holds now: 0 while queued, suspended or finished."),
        "requestedGPUs": Schema.integer("GPUs the whole job asks for (replicas × GPUs per replica)."),
        "restarts": Schema.integer("Gang restarts counted against backoffLimit."),
        "evictionRestarts": Schema.integer("Gang restarts caused by evictions or node loss (not counted)."),
        "startTime": Schema.string("When the job started running."),
        "completionTime": Schema.string("When the job finished."),
        "queue": Schema.object("Why and where the job waits.", [
            "position": Schema.integer("Position in the admission queue of its namespace."),
            "reason": Schema.string("Why it is not admitted yet."),
        ]),
        "appliedDefaults": Schema.object("Effective platform defaults this job received.", [
            "gpuResourceName": Schema.string("Extended resource requested."),
            "tolerations": Schema.array("Tolerations added.", of: Schema.passthrough("A toleration.")),
            "finishedPodPolicy": Schema.string("Delete or Keep."),
            "namespaceGPUQuota": Schema.integer("GPU quota of the namespace at admission."),
            "securityContext": Schema.string("The securityContext profile the pods received (Restricted or None)."),
        ]),
        "metrics": Schema.object("Latest and best metric values.", [
            "step": Schema.integer("Latest step seen."),
            "latest": ["type": "object", "description": "Latest value of each metric.", "additionalProperties": ["type": "number"]],
            "best": SharedSchemas.bestMetric("Best value of the objective (spec.metrics.objective, else the early-stopping metric, else loss)."),
            "history": Schema.array("[step, value] pairs of the objective, downsampled to at most 128 points.",
                                    of: Schema.array("A point.", of: Schema.number("Step or value."), maxItems: 2), maxItems: 256),
            "additional": Schema.array("The early-stopping metric (when not the objective) and spec.metrics.additional.", of: Schema.object("A tracked metric.", [
                "name": Schema.string("Metric."),
                "goal": Schema.string("minimize or maximize.", enum: EarlyStopping.Goal.allCases.map(\.rawValue)),
                "best": SharedSchemas.bestMetric("Best value."),
                "history": Schema.array("[step, value] pairs, downsampled to at most 128 points.",
                                        of: Schema.array("A point.", of: Schema.number("Step or value."), maxItems: 2), maxItems: 256),
            ]), maxItems: 18),
        ]),
        "replicaStatuses": Schema.array("What is kept of each replica (exit reason, last log lines) once its pod is gone.", of: Schema.object("A replica.", [
            "index": Schema.integer("Replica index (rank)."), "podName": Schema.string("Pod name."), "node": Schema.string("Node."),
            "exitCode": Schema.integer("Exit code."), "reason": Schema.string("Termination reason."), "message": Schema.string("Detail."),
            "lastLogLines": Schema.array("Last lines of the log.", of: Schema.string("A line.")),
        ])),
        "earlyStop": Schema.object("The rule that stopped the run.", [
            "rule": Schema.string("patience, threshold, median or divergence."), "step": Schema.integer("Step."),
            "value": Schema.number("Metric value."), "message": Schema.string("Explanation."),
        ]),
        "recordRef": Schema.string("ConfigMap holding the experiment record."),
        "gpuHours": Schema.number("GPU-hours consumed so far."),
    ])

    public static var crd: JSONValue {
        CRDBuilder.crd(
            kind: "TrainingJob", plural: "trainingjobs", singular: "trainingjob", shortNames: ["gtj"], namespaced: true,
            description: "A training run on GPUs: one pod or a distributed gang, with experiment records, GPU quotas and early stopping.",
            spec: spec, status: status,
            printerColumns: [
                ("Phase", "string", ".status.phase", 0),
                ("Ready", "string", ".status.readyReplicas", 0),
                ("GPUs", "integer", ".status.gpus", 0),
                ("Metric", "string", ".status.metrics.best.name", 0),
                ("Best", "number", ".status.metrics.best.value", 0),
                ("Queue", "integer", ".status.queue.position", 0),
                ("Restarts", "integer", ".status.restarts", 1),
                ("Requested", "integer", ".status.requestedGPUs", 1),
                ("Age", "date", ".metadata.creationTimestamp", 0),
            ])
    }
}
