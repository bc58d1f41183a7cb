import KubeCore

/// Schema pieces shared by the Gantry kinds.
enum SharedSchemas {
    static let gpu = Schema.object("GPUs per replica and how they are shared. Compiles to the extended resource the device plugin exposes and to node affinity on the GPU feature labels.", [
        "count": Schema.integer("GPUs per replica (per pod). 0 runs on CPU only.", minimum: 0, maximum: 64),
        "product": Schema.string("Required GPU product, matched against the `nvidia.com/gpu.product` node label (e.g. `A100`, `NVIDIA-H100-80GB-HBM3`).", maxLength: 128),
        "minMemoryMiB": Schema.integer("Minimum memory per GPU in MiB, matched against the `nvidia.com/gpu.memory` node label.", minimum: 1),
        "sharing": Schema.string("Exclusive: whole GPUs. TimeSliced: time-sliced GPU replicas. MIG: a MIG slice of `migProfile`.", enum: GPURequest.Sharing.allCases.map(\.rawValue), default: "Exclusive"),
        "migProfile": Schema.string("MIG profile such as `1g.10gb`; required when sharing is MIG.", pattern: "^[0-9]+g\\.[0-9]+gb$"),
    ], required: ["count"], rules: [
        ("self.sharing != 'MIG' || has(self.migProfile)", "migProfile is required when sharing is MIG"),
    ])

    static let podMetadata = Schema.object("Labels and annotations added to every pod (e.g. `sim.gantry.dev/script` on the embedded cluster, or sidecar injection settings).", [
        "labels": Schema.labelMap("Labels added to every pod. Gantry's own labels (gantry.dev/*, app.kubernetes.io/managed-by) may not be set here.", field: "podMetadata.labels"),
        "annotations": Schema.stringMap("Annotations added to every pod.", maxProperties: 64, rules: [
            ("self.all(k, k.matches('\(Schema.qualifiedNamePattern)'))",
             "podMetadata.annotations: every key must be a qualified name: an optional DNS prefix and '/', then at most 63 characters of [A-Za-z0-9-_.]"),
        ]),
    ])

    static let env = Schema.array("Environment variables of the training container, as in the Pod API. Values from Secrets are referenced, never copied into records. Names Gantry sets itself (GANTRY_*, HP_*, and the framework's RANK, MASTER_ADDR, TF_CONFIG, ...) are refused.", of: Schema.object("One variable.", [
        "name": Schema.string("Variable name.", maxLength: 256, minLength: 1),
        "value": Schema.string("Literal value.", maxLength: 32768),
        "valueFrom": Schema.passthrough("Source of the value (secretKeyRef, configMapKeyRef, fieldRef), as in the Pod API."),
    ], required: ["name"]), maxItems: 256)

    static let resources = Schema.object("CPU and memory per replica (requests equal limits).", [
        "cpu": Schema.string("CPU quantity, e.g. `4` or `500m`.", pattern: "^[0-9]+(\\.[0-9]+)?m?$"),
        "memory": Schema.string("Memory quantity, e.g. `32Gi`.", pattern: "^[0-9]+(\\.[0-9]+)?([EPTGMK]i?|[eE][0-9]+|m)?$"),
    ])

    static func bestMetric(_ description: String) -> JSONValue {
        Schema.object(description, [
            "name": Schema.string("Metric."), "value": Schema.number("Value."), "step": Schema.integer("Step."),
            "goal": Schema.string("minimize or maximize.", enum: EarlyStopping.Goal.allCases.map(\.rawValue)),
        ])
    }

    static let conditions = Schema.array("Standard conditions (type, status, reason, message, lastTransitionTime, observedGeneration).", of: Schema.object("A condition.", [
        "type": Schema.string("CamelCase condition type."),
        "status": Schema.string("True, False or Unknown.", enum: ["True", "False", "Unknown"]),
        "reason": Schema.string("CamelCase reason."),
        "message": Schema.string("Human-readable detail."),
        "lastTransitionTime": Schema.string("When status last changed."),
        "observedGeneration": ["type": "integer", "format": "int64", "description": "Generation the condition was computed from."],
    ], required: ["type", "status"]))
}
