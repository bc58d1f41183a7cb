import KubeCore

public struct NotebookStatus: ConditionedStatus {
    public enum Phase: String, Codable, Sendable, Hashable, CaseIterable {
        /// Not started: its namespace used its GPU-hour budget (condition reason `BudgetExhausted`).
        case queued = "Queued"
        case pending = "Pending", starting = "Starting", running = "Running", stopped = "Stopped", culled = "Culled",
             /// The server cannot start (crash loop, image that cannot be pulled): still holding its GPU, so it is
             /// culled after the idle timeout like an idle one.
             failed = "Failed"
    }

    /// What the culler knows.
    public struct CullingStatus: Codable, Sendable, Hashable {
        /// When the server was last asked.
        public var lastCheck: String?
        /// Why probes failed at the last check, one entry per probe (the notebook counts as active meanwhile).
        public var probeErrors: [String]?
        /// The start the current idle warning was given for.
        public var warnedFor: String?
        /// The idle timeout in force: the spec's, the PlatformConfig's default, or its maximum.
        public var idleTimeoutSeconds: Int?
        public init() {}
    }

    public var observedGeneration: Int64?
    public var conditions: [Condition]?
    public var phase: Phase?
    /// Where the server is inside the cluster (the token is in the Secret, never here).
    public var url: String?
    /// The last activity seen: the server's own report, a busy kernel or an open connection.
    public var lastActivity: String?
    /// When the current pod was asked for (start, restart after a cull); the activity clock starts here.
    public var startedAt: String?
    public var culledAt: String?
    /// The `gantry.dev/start` annotation value last acted on: a different value starts a culled notebook.
    public var startRequest: String?
    public var culling: CullingStatus?
    /// The workspace claim.
    public var workspaceClaim: String?
    public var gpus: Int?

    public init() {}
}
