import Foundation
import GantryAPI
import KubeCore
import KubeRuntime

/// `rollout.validation.job`: once the candidate is ready (and its validation requests passed), a pod from the
/// user's template runs against the preview Service (`PREVIEW_URL`) and must exit 0 before the swap. Its outcome
/// and timing go to `status.candidate.validation.job`; the pod is owned by the service and pruned once the outcome
/// is on record (or when the candidate goes).
extension InferencePlanning {
    /// Whether the candidate may go on to the swap: false while the job runs (Validating) or when it failed
    /// (the candidate is then Failed and the serving colour keeps all traffic).
    mutating func validateWithJob(_ candidate: inout InferenceServiceStatus.Candidate, _ job: ValidationJob, active: Revision) -> Bool {
        let name = InferenceChildren.validationPodName(service, candidate.revision)
        var outcome = candidate.validation.flatMap { $0.revision == candidate.revision.hash ? $0 : nil }
            ?? .init(revision: candidate.revision.hash, passed: true, at: nowText, results: [])
        if outcome.job?.passed == nil {
            let pod = pods.first { $0.name == name && !$0.deleting }
            guard let pod, pod.failed else {
                // Not ended yet: the pod is (or is about to be) created by planChildren.
                var running = InferenceServiceStatus.ValidationJobResult(pod: name, passed: nil,
                                                                         message: pod?.problem ?? (pod?.startTime == nil ? "starting" : "running"))
                running.startedAt = pod?.startTime ?? outcome.job?.startedAt
                outcome.job = running
                candidate.validation = outcome
                candidate.phase = .validating
                candidate.message = "ready; validation job \(name) runs against \(InferenceChildren.previewName(service)) (PREVIEW_URL)"
                status.candidate = candidate
                return false
            }
            let result = Self.jobResult(pod, log: validationLog ?? [], deadline: job.effectiveActiveDeadlineSeconds)
            outcome.job = result
            outcome.passed = outcome.passed && result.passed == true
            outcome.at = nowText
            candidate.validation = outcome
            plan.events.append(PlannedEvent(result.passed == true ? .normal : .warning, result.passed == true ? "ValidationPassed" : "ValidationFailed",
                                            "validation job \(name): \(result.message)", notify: result.passed != true))
        }
        guard outcome.job?.passed == false else { return true }
        candidate.phase = .failed
        candidate.reason = "ValidationFailed"
        candidate.message = "validation failed: job \(name) \(outcome.job?.message ?? "failed"); \(active.color.rawValue) keeps serving"
        status.candidate = candidate
        return false
    }

    /// How an ended validation pod went: exit 0 passes; otherwise the exit code (or the pod's reason, such as
    /// DeadlineExceeded) and the last lines of its log.
    static func jobResult(_ pod: ServingPod, log: [String], deadline: Int) -> InferenceServiceStatus.ValidationJobResult {
        let passed = pod.phase == "Succeeded"
        var result = InferenceServiceStatus.ValidationJobResult(pod: pod.name, passed: passed, message: "")
        result.startedAt = pod.startTime
        result.finishedAt = pod.finishedAt
        result.exitCode = pod.exitCode
        var took = ""
        if let start = pod.startTime.flatMap(Timestamp.parse), let end = pod.finishedAt.flatMap(Timestamp.parse) {
            took = " after \(Int(end.timeIntervalSince(start).rounded()))s"
        }
        if passed {
            result.message = "exited 0\(took)"
            return result
        }
        let tail = Array(log.suffix(10))
        result.logTail = tail.isEmpty ? nil : tail
        let how: String
        if let code = pod.exitCode {
            how = "exited \(code)\(pod.terminatedReason.map { " (\($0))" } ?? "")\(took)"
        } else if let problem = pod.problem, problem.hasPrefix("DeadlineExceeded") {
            how = "ran longer than activeDeadlineSeconds (\(deadline)s)"
        } else {
            how = "failed: \(pod.problem ?? "the pod failed")"
        }
        result.message = how + (tail.isEmpty ? "" : "; last log lines: " + tail.suffix(5).joined(separator: " | "))
        return result
    }
}
