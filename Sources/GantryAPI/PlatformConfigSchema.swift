import KubeCore

public enum PlatformConfigSchema {
    public static let spec = Schema.object("Cluster-wide defaults and limits for Gantry workloads (singleton named `default`).", [
        "gpu": Schema.object("GPU resource names and node labels of this cluster's device plugin.", [
            "resourceName": Schema.string("Extended resource of whole GPUs.", default: "nvidia.com/gpu"),
            "sharedResourceName": Schema.string("Extended resource of time-sliced GPUs.", default: "nvidia.com/gpu.shared"),
            "migResourcePrefix": Schema.string("Prefix of MIG slice resources (followed by the profile).", default: "nvidia.com/mig-"),
            "productLabel": Schema.string("Node label naming the GPU product.", default: "nvidia.com/gpu.product"),
            "memoryLabel": Schema.string("Node label giving GPU memory in MiB.", default: "nvidia.com/gpu.memory"),
            "tolerations": Schema.array("Tolerations added to every GPU pod.", of: Schema.passthrough("A toleration.")),
        ]),
        "quotas": Schema.array("GPU quotas per namespace; namespaces without an entry are unlimited.", of: Schema.object("A quota.", [
            "namespace": Schema.string("Namespace.", minLength: 1),
            "gpus": Schema.integer("GPUs all admitted jobs of the namespace may hold together.", minimum: 0),
        ], required: ["namespace", "gpus"])),
        "podPolicy": Schema.object("What training pods may use, checked before a job is admitted (a violation makes it Invalid with the field named), and the securityContext they get.", [
            "allowedVolumeTypes": Schema.array("Volume types pods may use, by their key in the Pod API (hostPath, nfs, ...). Default: the Pod Security restricted list (configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret).", of: Schema.string("A volume type.", minLength: 1), maxItems: 64),
            "allowedServiceAccounts": Schema.array("Service accounts pods may run as; unset allows any. The namespace's `default` is always allowed.", of: Schema.string("A service account name.", minLength: 1), maxItems: 256),
            "securityContext": Schema.string("Restricted: every training pod runs as non-root, without privilege escalation or capabilities, with the RuntimeDefault seccomp profile (Pod Security restricted). None: Gantry sets no securityContext.", enum: PodPolicy.SecurityProfile.allCases.map(\.rawValue), default: "Restricted"),
        ]),
        "notebooks": Schema.object("Idle culling of Notebooks.", [
            "defaultIdleTimeoutSeconds": Schema.integer("Idle timeout of Notebooks that set none (default 3600).", minimum: 10, maximum: 604800),
            "maxIdleTimeoutSeconds": Schema.integer("No Notebook stays idle longer: a longer idleTimeoutSeconds, or culling disabled, is limited to this (reported on the Notebook).", minimum: 10, maximum: 604800),
        ], rules: [("!has(self.defaultIdleTimeoutSeconds) || !has(self.maxIdleTimeoutSeconds) || self.defaultIdleTimeoutSeconds <= self.maxIdleTimeoutSeconds",
                    "notebooks: defaultIdleTimeoutSeconds must not exceed maxIdleTimeoutSeconds")]),
        "notifications": Schema.object("Where Gantry posts notifications: idle-culling warnings and culls of Notebooks, failed InferenceService rollouts. Posted in the background with retries; never delays a reconcile.", [
            "webhookSecretRef": Schema.object("The Secret holding a Slack-compatible incoming-webhook URL (JSON {\"text\": ...} is posted).", [
                "namespace": Schema.string("Namespace of the Secret.", maxLength: 63, minLength: 1),
                "name": Schema.string("Name of the Secret.", maxLength: 253, minLength: 1),
                "key": Schema.string("Key holding the URL.", maxLength: 253, default: "url"),
            ], required: ["namespace", "name"]),
        ]),
        "budgets": PlatformConfigBudgetSchema.budgets,
        "idleGPUs": PlatformConfigBudgetSchema.idleGPUs,
        "prometheus": Schema.object("The platform's Prometheus server: InferenceServices read it instead of their pods with rollout.analysis.source Prometheus and autoscaling.query.", [
            "url": Schema.string("Base URL of the server (http://prometheus.monitoring:9090); /api/v1/query is asked.", pattern: "^https?://", maxLength: 2048, minLength: 8),
        ], required: ["url"]),
        "finishedPodPolicy": Schema.string("Delete: pods of finished jobs are deleted at once (GPUs freed; logs and exit reasons kept in status). Keep: pods stay.", enum: PlatformConfigSpec.FinishedPodPolicy.allCases.map(\.rawValue), default: "Delete"),
    ])

    public static let status = Schema.object("What the controller observed.", [
        "observedGeneration": ["type": "integer", "format": "int64", "description": "Generation last read."],
        "conditions": SharedSchemas.conditions,
        "budgets": PlatformConfigBudgetSchema.usage,
        "accountedAt": Schema.string("The time up to which GPU-hours are counted."),
        "idleGPUs": PlatformConfigBudgetSchema.idlePods,
        "utilization": PlatformConfigBudgetSchema.utilization,
    ])

    public static var crd: JSONValue {
        CRDBuilder.crd(kind: "PlatformConfig", plural: "platformconfigs", singular: "platformconfig", shortNames: ["gpc"], namespaced: false,
                       description: "Cluster-wide defaults and GPU quotas for Gantry, kept in Git by cluster admins.",
                       spec: spec, status: status, printerColumns: [("Age", "date", ".metadata.creationTimestamp", 0)])
    }
}
