import KubeCore

/// The schema of PlatformConfig's budgets and idle-GPU detection, and of what the controller reports about them.
enum PlatformConfigBudgetSchema {
    static let fractionRule = ("!has(self.warningFraction) || (self.warningFraction > 0.0 && self.warningFraction <= 1.0)",
                               "warningFraction must be above 0 and at most 1")

    static let budgets = Schema.object("GPU-hour budgets per namespace and calendar month (UTC). Past its budget a namespace's new TrainingJobs and Notebooks are Queued with reason BudgetExhausted; running work is never stopped. A raised budget or a new month releases them.", [
        "defaultGPUHoursPerMonth": Schema.number("Budget of every namespace without an entry (unset: those namespaces are unlimited).", minimum: 0),
        "warningFraction": Schema.number("Fraction of the budget at which an Event and a notification are sent, once per month and namespace (default 0.8).", minimum: 0),
        "accountingPeriodSeconds": Schema.integer("How often GPU-hours are counted and written to status.budgets (default 60).", minimum: 1, maximum: 3600),
        "namespaces": Schema.array("Budgets of single namespaces.", of: Schema.object("A namespace's budget.", [
            "namespace": Schema.string("Namespace.", maxLength: 63, minLength: 1),
            "gpuHoursPerMonth": Schema.number("GPU-hours its pods may hold per calendar month (UTC).", minimum: 0),
            "warningFraction": Schema.number("Overrides warningFraction for this namespace.", minimum: 0),
        ], required: ["namespace", "gpuHoursPerMonth"], rules: [fractionRule]), maxItems: 1000),
    ], rules: [fractionRule])

    static let idleGPUs = Schema.object("Idle-GPU detection for every Gantry pod holding GPUs: utilisation below the threshold for the window gives an Event on the owner, a notification, status.idleGPUs and the gantry_gpus_idle gauge. Nothing is stopped. Off unless set.", [
        "utilizationThresholdPercent": Schema.number("A GPU below this utilisation (percent) is idle (default 5).", minimum: 0),
        "windowSeconds": Schema.integer("How long every GPU of a pod must stay below the threshold (default 1800).", minimum: 1, maximum: 604800),
        "checkPeriodSeconds": Schema.integer("How often the pods are asked (default 60).", minimum: 1, maximum: 3600),
        "podMetrics": Schema.object("Each pod's dcgm-exporter endpoint, read through the API server's pod proxy.", [
            "port": Schema.integer("Port (default 9400).", minimum: 1, maximum: 65535),
            "path": Schema.string("Path (default /metrics).", maxLength: 253, minLength: 1),
            "metric": Schema.string("Per-GPU utilisation gauge in percent (default DCGM_FI_DEV_GPU_UTIL).", maxLength: 253, minLength: 1),
        ]),
        "prometheus": Schema.object("Read utilisation from a Prometheus server scraping dcgm-exporter instead of the pods.", [
            "url": Schema.string("Base URL of the server (http://prometheus.monitoring:9090); /api/v1/query is asked.", pattern: "^https?://", maxLength: 2048, minLength: 8),
            "query": Schema.string("Instant query answering one sample per GPU in percent, labelled namespace and pod (default DCGM_FI_DEV_GPU_UTIL).", maxLength: 4096, minLength: 1),
        ], required: ["url"]),
    ])

    static let usage = Schema.array("GPU-hours of each namespace that held GPUs this month.", of: Schema.object("A namespace's usage.", [
        "namespace": Schema.string("Namespace."),
        "month": Schema.string("The month counted (YYYY-MM, UTC)."),
        "usedGPUHours": Schema.number("GPU-hours its pods held this month."),
        "gpuHoursPerMonth": Schema.number("Its budget, when it has one."),
        "state": Schema.string("Unlimited, WithinBudget, Warning (past the warning fraction) or Exhausted (new GPU work waits).",
                               enum: NamespaceUsage.State.allCases.map(\.rawValue)),
        "notified": Schema.array("Notices sent this month (Warning, Exhausted).", of: Schema.string("A notice.")),
    ], required: ["namespace", "month", "usedGPUHours"]))

    static let idlePods = Schema.array("Pods whose GPUs are below the idle threshold.", of: Schema.object("A pod below the threshold.", [
        "namespace": Schema.string("Namespace."),
        "pod": Schema.string("Pod."),
        "node": Schema.string("Node."),
        "ownerKind": Schema.string("Kind of the Gantry object the pod belongs to."),
        "ownerName": Schema.string("Its name."),
        "gpus": Schema.integer("GPUs the pod holds."),
        "utilizationPercent": Schema.number("Highest utilisation of its GPUs at the last check."),
        "idleSince": Schema.string("Since when every GPU of the pod has been below the threshold."),
        "idle": Schema.boolean("True once the window passed (Event and notification sent)."),
    ], required: ["namespace", "pod", "gpus", "idleSince", "idle"]))

    static let utilization = Schema.array("Mean utilisation of the GPUs read at the last check, per node and per namespace.", of: Schema.object("A level.", [
        "scope": Schema.string("Node or Namespace.", enum: ["Node", "Namespace"]),
        "name": Schema.string("The node's or namespace's name."),
        "gpus": Schema.integer("GPUs read."),
        "meanPercent": Schema.number("Their mean utilisation (percent)."),
    ], required: ["scope", "name", "gpus", "meanPercent"]))
}
