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
        ], rules: [("!has(self.warnBeforeSeconds) || !has(self.idleTimeoutSeconds) || self.warnBeforeSeconds < self.idleTimeoutSeconds",
                    "culling: warnBeforeSeconds must be less than idleTimeoutSeconds")]),
    ], required: ["image"])

    public static let status = Schema.object("What the controller observed. Written only by Gantry.", [
        "observedGeneration": ["type": "integer", "format": "int64", "description": "The generation of the spec this status describes."],
        "conditions": SharedSchemas.conditions,
        "phase": Schema.string("Pending, Starting (the Reconciling condition names a pod problem), Running, Stopped or Culled.", enum: NotebookStatus.Phase.allCases.map(\.rawValue)),
        "url": Schema.string("Where the server is inside the cluster (the token is in the Secret <name>-token, never here)."),
        "lastActivity": Schema.string("The last activity seen."),
        "startedAt": Schema.string("When the current pod was asked for; the activity clock starts here."),
        "culledAt": Schema.string("When the notebook was last culled."),
        "startRequest": Schema.string("The gantry.dev/start annotation value last acted on; a new value starts a culled notebook."),
        "culling": Schema.object("What the culler knows.", [
            "lastCheck": Schema.string("When the server was last asked."),
            "probeError": Schema.string("Why the last probe failed (the notebook counts as active meanwhile)."),
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
