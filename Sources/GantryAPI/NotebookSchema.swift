import KubeCore

/// The Notebook CRD's schema (the source of crds/notebooks.gantry.dev.yaml, `make crds`).
public enum NotebookSchema {
    public static let spec = Schema.object("A Jupyter server with GPUs and a workspace that survives restarts, culled when idle.", [
        "image": Schema.string("Jupyter server image (it is started with the token from the notebook's Secret).", maxLength: 4096, minLength: 1),
        "resources": SharedSchemas.resources,
        "gpu": SharedSchemas.gpu,
        "env": Schema.array("Environment variables of the server, as in the Pod API. JUPYTER_TOKEN is set by Gantry and refused here.", of: Schema.object("One variable.", [
            "name": Schema.string("Variable name.", maxLength: 256, minLength: 1),
            "value": Schema.string("Literal value.", maxLength: 32768),
            "valueFrom": Schema.passthrough("Source of the value (secretKeyRef, configMapKeyRef, fieldRef), as in the Pod API."),
        ], required: ["name"], rules: [("self.name != 'JUPYTER_TOKEN'", "env: JUPYTER_TOKEN is set by Gantry from the notebook's Secret")]), maxItems: 256),
        "podMetadata": SharedSchemas.podMetadata,
        "nodeSelector": Schema.labelMap("Node labels the notebook's node must have.", field: "nodeSelector"),
        "tolerations": Schema.array("Extra tolerations, as in the Pod API (the GPU taint is tolerated automatically).", of: Schema.passthrough("A toleration."), maxItems: 64),
        "serviceAccountName": Schema.string("Service account of the pod."),
        "imagePullSecrets": Schema.array("Secrets for pulling the image.", of: Schema.object("A reference.", ["name": Schema.string("Secret name.", maxLength: 253)], required: ["name"]), maxItems: 16),
        "workspace": Schema.object("The persistent workspace, kept across stop, cull and restart.", [
            "size": Schema.string("Size of the claim Gantry creates, e.g. 50Gi.", pattern: "^[0-9]+(\\.[0-9]+)?([EPTGMK]i?)?$", default: "10Gi"),
            "storageClassName": Schema.string("Storage class of the claim Gantry creates (default: the cluster's).", maxLength: 253),
            "mountPath": Schema.string("Where the workspace is mounted.", pattern: "^/.*", maxLength: 1024, default: "/home/jovyan"),
            "claimName": Schema.string("Use this existing claim instead of creating one (it is never deleted by Gantry).", maxLength: 253),
            "deletePolicy": Schema.string("Retain: the claim Gantry created outlives the Notebook. Delete: it is deleted with the Notebook (never on stop or cull).", enum: Workspace.DeletePolicy.allCases.map(\.rawValue), default: "Retain"),
        ], rules: [("!has(self.claimName) || !has(self.size)", "workspace: give size (Gantry creates a claim) or claimName (an existing one), not both")]),
        "stopped": Schema.boolean("True stops the notebook (the pod is deleted, the workspace kept); false starts it.", default: false),
        "culling": Schema.object("When an idle notebook is stopped (its pod deleted; workspace and token kept).", [
            "enabled": Schema.boolean("False: never culled.", default: true),
            "idleTimeoutSeconds": Schema.integer("Idle this long (no busy kernel, no connection, no activity reported by the server) and the notebook is culled. Default: the PlatformConfig's notebooks.defaultIdleTimeoutSeconds, else 3600; at most its maxIdleTimeoutSeconds (status.culling.idleTimeoutSeconds is the value in force).", minimum: 10, maximum: 604800),
            "checkPeriodSeconds": Schema.integer("How often the server is asked how active it is.", minimum: 1, maximum: 3600, default: 60),
            "warnBeforeSeconds": Schema.integer("An Event this long before culling (0: none).", minimum: 0, maximum: 86400, default: 0),
            "jupyterAPI": Schema.boolean("Ask Jupyter's REST API (/api/status, /api/kernels, /api/terminals) with the token. False for servers that are not Jupyter; they need probes.", default: true),
            "probes": Schema.array("More sources of activity, asked every check period through the API server's pod proxy (the token is not sent to them).", of: Schema.object("One probe: http or gpuUtilization.", [
                "http": Schema.object("An endpoint answering JSON with last_activity (RFC 3339) or lastHeartbeat (milliseconds since the epoch, as code-server's /healthz).", [
                    "path": Schema.string("Path, e.g. /healthz.", pattern: "^/.*", maxLength: 1024),
                    "port": Schema.integer("Container port.", minimum: 1, maximum: 65535, default: 8888),
                ], required: ["path"]),
                "gpuUtilization": Schema.object("A Prometheus text endpoint with a per-GPU utilisation gauge in percent; at or above threshold is activity now.", [
                    "port": Schema.integer("Container port of the metrics endpoint.", minimum: 1, maximum: 65535, default: 9400),
                    "path": Schema.string("Path of the metrics.", pattern: "^/.*", maxLength: 1024, default: "/metrics"),
                    "metric": Schema.string("Gauge name.", pattern: "^[a-zA-Z_:][a-zA-Z0-9_:]*$", maxLength: 256, default: "DCGM_FI_DEV_GPU_UTIL"),
                    "threshold": Schema.number("Percent at or above which a GPU is busy (default 10).", minimum: 0),
                ]),
            ], rules: [("has(self.http) != has(self.gpuUtilization)", "culling.probes: each probe sets exactly one of http and gpuUtilization")]), maxItems: 8),
        ], rules: [
            ("!has(self.jupyterAPI) || self.jupyterAPI || (has(self.probes) && size(self.probes) > 0)",
             "culling: with jupyterAPI false, list at least one probe (otherwise nothing says the notebook is active)"),
            ("!has(self.warnBeforeSeconds) || !has(self.idleTimeoutSeconds) || self.warnBeforeSeconds < self.idleTimeoutSeconds",
                    "culling: warnBeforeSeconds must be less than idleTimeoutSeconds")]),
    ], required: ["image"])

    public static let status = Schema.object("What the controller observed. Written only by Gantry.", [
        "observedGeneration": ["type": "integer", "format": "int64", "description": "The generation of the spec this status describes."],
        "conditions": SharedSchemas.conditions,
        "phase": Schema.string("Queued (its namespace used its GPU-hour budget: condition reason BudgetExhausted), Pending, Starting (the Reconciling condition names a pod problem), Running, Stopped, Culled, or Failed (the server cannot start: crash loop, image pull; culled after the idle timeout like an idle one).", enum: NotebookStatus.Phase.allCases.map(\.rawValue)),
        "url": Schema.string("Where the server is inside the cluster (the token is in the Secret <name>-token, never here)."),
        "lastActivity": Schema.string("The last activity seen."),
        "startedAt": Schema.string("When the current pod was asked for; the activity clock starts here."),
        "culledAt": Schema.string("When the notebook was last culled."),
        "startRequest": Schema.string("The gantry.dev/start annotation value last acted on; a new value starts a culled notebook."),
        "culling": Schema.object("What the culler knows.", [
            "lastCheck": Schema.string("When the server was last asked."),
            "probeErrors": Schema.array("Why probes failed at the last check, one entry per probe (the notebook counts as active meanwhile).", of: Schema.string("A failure."), maxItems: 16),
            "warnedFor": Schema.string("The start the idle warning was given for."),
            "idleTimeoutSeconds": Schema.integer("The idle timeout in force (spec, PlatformConfig default or maximum)."),
        ]),
        "workspaceClaim": Schema.string("The workspace's PersistentVolumeClaim."),
        "gpus": Schema.integer("GPUs the notebook holds now (0 while stopped or culled)."),
    ])

    public static var crd: JSONValue {
        CRDBuilder.crd(
            kind: "Notebook", plural: "notebooks", singular: "notebook", shortNames: ["gnb"], namespaced: true,
            description: "A Jupyter server with GPUs and a persistent workspace, culled when idle.",
            spec: spec, status: status,
            printerColumns: [
                ("Phase", "string", ".status.phase", 0),
                ("GPUs", "integer", ".status.gpus", 0),
                ("Last-Activity", "date", ".status.lastActivity", 0),
                ("URL", "string", ".status.url", 1),
                ("Age", "date", ".metadata.creationTimestamp", 0),
            ])
    }
}
