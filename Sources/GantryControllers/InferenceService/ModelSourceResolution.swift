import GantryAPI
import KubeCore

/// `spec.model.fromTrainingJob`: whether the named run may be served, judged from its experiment record (the
/// ConfigMap `<job>-record`, which outlives the job) and, when there is no record yet, the job as cached.
public enum ModelSourceResolution: Sendable, Hashable {
    case resolved(InferenceServiceStatus.ModelProvenance)
    case refused(Refusal)

    /// Why a run is not (yet) a model source. Nothing new is created while it is refused.
    public struct Refusal: Sendable, Hashable {
        /// CamelCase: SourceNotFound, SourceNotFinished, SourceNotSucceeded, SourceUnreadable, SourceUnavailable (and
        /// NoMatchingGPUNodes, the planner's refusal of a GPU request no node can hold).
        public var reason: String
        /// Names `spec.model.fromTrainingJob` and the job, and says what would be accepted.
        public var message: String
        /// It may resolve without a change of spec (the job still runs, the API server did not answer):
        /// Reconciling rather than Stalled.
        public var waiting: Bool
        /// When to look again, in seconds (a job may be created, or finish, without the service hearing of it).
        public var retryAfter: Double?
        /// What a Stalled service waits for (the Reconciling condition's message).
        public var stalledUntil: String
        public init(reason: String, message: String, waiting: Bool, retryAfter: Double?, stalledUntil: String = "waiting for a model source that succeeded") {
            self.reason = reason
            self.message = message
            self.waiting = waiting
            self.retryAfter = retryAfter
            self.stalledUntil = stalledUntil
        }
    }

    static let field = "spec.model.fromTrainingJob"
    /// How often a refused source is looked at again: a run still going, and a job not (yet) there.
    static let unfinishedRetry = 15.0, missingRetry = 30.0, unavailableRetry = 5.0

    /// Judges the record ConfigMap (nil: none) and the job as cached (nil: none) of the job named `job`.
    public static func judge(job name: String, namespace: String, record: JSONValue?, job: JSONValue?) -> ModelSourceResolution {
        let recordName = TrainingRecord.name(job: name)
        guard let record else {
            guard let job else {
                return .refused(.init(reason: "SourceNotFound",
                                      message: "\(field): there is no TrainingJob \"\(name)\" in namespace \(namespace), and no record \(recordName)",
                                      waiting: false, retryAfter: missingRetry))
            }
            let phase = job[path: "status", "phase"]?.stringValue ?? "Queued"
            let finished = TrainingJobStatus.Phase(rawValue: phase)?.isFinished == true
            let state = finished ? "finished (\(phase)) but its record \(recordName) is not written yet" : "is \(phase), not finished"
            return .refused(.init(reason: "SourceNotFinished",
                                  message: "\(field): TrainingJob \"\(name)\" \(state): a model is served only from a run that succeeded",
                                  waiting: true, retryAfter: finished ? 1 : unfinishedRetry))
        }
        func unreadable(_ why: String) -> ModelSourceResolution {
            .refused(.init(reason: "SourceUnreadable", message: "\(field): the record \(recordName) of TrainingJob \"\(name)\" \(why)",
                           waiting: false, retryAfter: nil))
        }
        if let owner = record.annotations[GantryLabels.trainingJob], owner != name {
            return unreadable("belongs to TrainingJob \"\(owner)\"")
        }
        guard let text = record[path: "data", "record.json"]?.stringValue else { return unreadable("has no record.json") }
        guard let document = try? JSONValue.parse(text), document.objectValue != nil else { return unreadable("is not a JSON object") }
        let phase = document["phase"]?.stringValue ?? ""
        let judgement = TrainingRecord.judgement(of: document)
        let result = document[path: "result", "reason"]?.stringValue.map { reason in
            reason + (document[path: "result", "message"]?.stringValue.map { ": \($0)" } ?? "")
        }
        func notSucceeded(_ what: String) -> ModelSourceResolution {
            .refused(.init(reason: "SourceNotSucceeded",
                           message: "\(field): TrainingJob \"\(name)\" \(what) (record \(recordName)): a model is served only from a run that Succeeded, or EarlyStopped with a best value of its objective",
                           waiting: false, retryAfter: nil))
        }
        switch phase {
        case "Succeeded":
            break
        case "EarlyStopped":
            guard judgement?.value != nil else {
                return notSucceeded("stopped early without a value of its objective \(judgement?.metric ?? "")" + (result.map { " (\($0))" } ?? ""))
            }
        case "Failed":
            return notSucceeded("failed" + (result.map { " (\($0))" } ?? ""))
        case "Deleted":
            return notSucceeded("was deleted before it finished")
        default:
            return notSucceeded("ended \(phase.isEmpty ? "without a phase" : phase)")
        }
        var source = InferenceServiceStatus.ModelProvenance(trainingJob: name, record: record.name ?? recordName, phase: phase)
        source.uid = document["uid"]?.stringValue
        source.image = document["image"]?.stringValue
        source.imageID = document["imageID"]?.stringValue
        source.gitCommit = document["gitCommit"]?.stringValue
        source.dataset = document["dataset"]?.stringValue
        let hyperparameters = TrainingRecord.hyperparameters(of: document)
        source.hyperparameters = hyperparameters.isEmpty ? nil : hyperparameters
        source.bestMetric = judgement.flatMap { j in j.value.map { BestMetric(name: j.metric, value: $0, step: j.step, goal: j.assumed ? nil : j.goal) } }
        source.completionTime = document["completionTime"]?.stringValue
        return .resolved(source)
    }

    /// The API server could not be asked (a transient failure): looked at again soon.
    public static func unavailable(job name: String, _ error: any Error) -> ModelSourceResolution {
        .refused(.init(reason: "SourceUnavailable",
                       message: "\(field): the record \(TrainingRecord.name(job: name)) of TrainingJob \"\(name)\" could not be read: \(error)",
                       waiting: true, retryAfter: unavailableRetry))
    }
}
