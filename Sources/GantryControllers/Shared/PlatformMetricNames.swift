/// The names of the platform series (docs/observability.md lists each with its labels and meaning). Labels are
/// only `kind`, `namespace` and `phase`: never an object's name, so a cluster of 10,000 jobs has as many
/// series as one of ten.
public enum PlatformMetricNames {
    /// Gauge {kind, namespace, phase}: Gantry objects.
    public static let workloads = "gantry_workloads"
    /// Gauges {namespace, kind}: GPUs the workloads ask for now, and GPUs their pods hold on nodes.
    public static let gpusRequested = "gantry_gpus_requested"
    public static let gpusAllocated = "gantry_gpus_allocated"
    /// Counter {namespace, kind}: GPU-seconds held by Gantry's pods (the integral of `gpusAllocated`).
    public static let gpuSeconds = "gantry_gpu_seconds_total"
    /// Gauge {namespace}: TrainingJobs waiting in phase Queued.
    public static let queueLength = "gantry_trainingjob_queue_length"
    /// Histogram {namespace}: time from queued (or created) to admitted.
    public static let admissionWait = "gantry_trainingjob_admission_wait_seconds"
    /// Counters {namespace}: TrainingJobs stopped early, and the GPU-seconds of budget they did not use.
    public static let earlyStops = "gantry_trainingjob_early_stops_total"
    public static let earlyStoppingSaved = "gantry_early_stopping_saved_gpu_seconds_total"
    /// Counters {namespace}: InferenceService alias moves to a new revision, back to the warm one, and
    /// candidates refused by their validation requests.
    public static let swaps = "gantry_inferenceservice_swaps_total"
    public static let rollbacks = "gantry_inferenceservice_rollbacks_total"
    public static let validationFailures = "gantry_inferenceservice_validation_failures_total"
    /// Counter {namespace}: Notebooks culled after their idle timeout.
    public static let notebooksCulled = "gantry_notebooks_culled_total"
    /// Gauges {namespace}: GPU-seconds used this month (UTC), the namespace's budget in GPU-seconds, and their ratio
    /// (GPUAccountant). Seconds, not the status's hours: Prometheus' base unit (promtool refuses hours).
    public static let budgetUsed = "gantry_budget_used_gpu_seconds"
    public static let budgetLimit = "gantry_budget_gpu_seconds"
    public static let budgetRatio = "gantry_budget_used_ratio"
    /// Gauge {namespace, kind}: GPUs held by pods idle past the window (idle-GPU detection).
    public static let gpusIdle = "gantry_gpus_idle"

    /// Admission waits run from seconds (free capacity) to days (a busy quota): Prometheus' default buckets
    /// stop at 10 s.
    public static let admissionWaitBuckets: [Duration] = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400].map { .seconds($0) }
}
