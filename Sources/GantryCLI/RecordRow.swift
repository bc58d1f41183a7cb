import GantryAPI
import GantryControllers
import KubeCore

/// What a run was judged by: the metric and whether lower or higher is better.
struct RecordObjective: Sendable, Hashable {
    var metric: String
    var goal: EarlyStopping.Goal
    /// True when the record has no `objective` (written before the controller recorded it): the metric is
    /// `metrics.best.name` and the goal is taken to be minimize. Shown as such, never passed off as known.
    var assumed: Bool
}

/// One experiment record as `gantry records` reads it: the fields it shows, plus the whole document for YAML/JSON.
struct RecordRow: Sendable, Hashable {
    var namespace: String
    var job: String
    /// The ConfigMap's `gantry.dev/trainingjob` annotation: the exact job name, whatever the ConfigMap is called.
    var annotatedJob: String?
    var experiment: String?
    var phase: String?
    var hyperparameters: [String: String]
    var objective: RecordObjective?
    /// The objective's best value; nil when the run reported none for that metric.
    var value: Double?
    var gpuHours: Double?
    var startTime: String?
    var completionTime: String?
    var image: String?
    var imageID: String?
    var gitCommit: String?
    var nodes: [String]
    var reason: String?
    var document: JSONValue
    /// Set by `RecordListing.markingBest`: the best run of its experiment among the records listed.
    var isBest = false

    /// Phases whose metric counts towards an experiment's best run: a failed or deleted run may have reported
    /// a good value before it broke, but its result cannot be reproduced from the record.
    static let judgedPhases: Set<String> = ["Succeeded", "EarlyStopped"]

    var isJudged: Bool { phase.map(Self.judgedPhases.contains) ?? false }

    /// Reads `record.json` of a record ConfigMap. The ConfigMap's annotation names the job when the document
    /// lacks it (the label may be shortened; the annotation is exact).
    init(document: JSONValue, configMapNamespace: String?, annotatedJob: String?) {
        self.document = document
        namespace = document["namespace"]?.stringValue ?? configMapNamespace ?? ""
        job = document["job"]?.stringValue ?? annotatedJob ?? ""
        self.annotatedJob = annotatedJob
        experiment = document["experiment"]?.stringValue
        phase = document["phase"]?.stringValue
        hyperparameters = TrainingRecord.hyperparameters(of: document)
        // The objective, or for older records the best metric under its own goal (minimize assumed without one).
        let judgement = TrainingRecord.judgement(of: document)
        objective = judgement.map { RecordObjective(metric: $0.metric, goal: $0.goal, assumed: $0.assumed) }
        value = judgement?.value
        gpuHours = document["gpuHours"]?.doubleValue
        startTime = document["startTime"]?.stringValue
        completionTime = document["completionTime"]?.stringValue
        image = document["image"]?.stringValue
        imageID = document["imageID"]?.stringValue
        gitCommit = document["gitCommit"]?.stringValue
        nodes = document["nodes"]?.arrayValue?.compactMap(\.stringValue) ?? []
        reason = document[path: "result", "reason"]?.stringValue
    }

    /// The digest part of `imageID` (`sha256:...`); the whole value when it carries no `@`.
    var imageDigest: String? {
        guard let imageID else { return nil }
        guard let at = imageID.lastIndex(of: "@") else { return imageID }
        return String(imageID[imageID.index(after: at)...])
    }
}
