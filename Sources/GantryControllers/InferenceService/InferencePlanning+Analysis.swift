import Foundation
import GantryAPI
import KubeCore
import KubeRuntime

/// The analysis after a swap (spec.rollout.analysis): the new colour is watched for a window; a breach swaps
/// back to the previous colour while it is warm, and the revision that breached is held back (not rolled out
/// again) until the spec names another.
extension InferencePlanning {
    /// Starts the analysis of a swap to `revision` from `from`.
    mutating func startAnalysis(of revision: Revision, from: Revision?) {
        guard let analysis = rollout.analysis, let from else { return }
        status.analysis = AnalysisStatus(revision: revision.hash, from: from.hash, phase: .running, startedAt: nowText,
                                         until: Timestamp.format(now.addingTimeInterval(Double(analysis.effectiveWindowSeconds))))
        plan.requeueAfter = min(plan.requeueAfter ?? .seconds(analysis.effectiveIntervalSeconds), .seconds(analysis.effectiveIntervalSeconds))
    }

    /// Judges the reading this reconcile made; swaps back on a breach.
    mutating func analyze() {
        guard var record = status.analysis, record.phase == .running else { return }
        guard let analysis = rollout.analysis, status.activeRevision?.hash == record.revision else {
            // The alias moved on (a rollback, a new swap) or analysis was removed from the spec: nothing to judge.
            status.analysis = nil
            return
        }
        switch analysisReading {
        case .failure(let failure)?:
            record.lastCheck = nowText
            if record.message != failure.message {
                plan.events.append(PlannedEvent(.warning, "AnalysisMetricsUnreadable", "\(failure.message); no verdict until the metrics can be read"))
            }
            record.message = failure.message
        case .success(let reading)?:
            record.lastCheck = nowText
            let baseline = record.baseline ?? reading
            record.baseline = baseline
            record.last = reading
            let verdict = RolloutAnalysis.breach(analysis, baseline: baseline, reading: reading)
            record.errorRatio = verdict.ratio
            record.message = verdict.message
            if let breach = verdict.message {
                record.phase = .failed
                status.analysis = record
                if let warm = status.previousRevision, warm.hash == record.from {
                    record.message = "revision \(record.revision) breached the analysis: \(breach); swapped back to \(warm.hash) in \(warm.color.rawValue)"
                    status.analysis = record
                    swap(to: warm, reason: "AnalysisFailed", note: record.message ?? breach, notify: true)
                } else {
                    record.message = "revision \(record.revision) breached the analysis: \(breach); the previous revision is no longer up to swap back to"
                    status.analysis = record
                    plan.events.append(PlannedEvent(.warning, "AnalysisFailed", record.message ?? breach, notify: true))
                }
                return
            }
        case nil:
            break
        }
        if let until = Timestamp.parse(record.until), now >= until, record.last == nil {
            // Not one reading in the window: no verdict, and no pretending the revision passed.
            record.phase = .inconclusive
            record.message = "no reading in \(analysis.effectiveWindowSeconds)s: \(record.message ?? "the metrics were not read"); revision \(record.revision) keeps serving unjudged"
            plan.events.append(PlannedEvent(.warning, "AnalysisInconclusive", record.message ?? "", notify: true))
        } else if let until = Timestamp.parse(record.until), now >= until {
            record.phase = .passed
            record.message = "no breach in \(analysis.effectiveWindowSeconds)s" + (record.errorRatio.map { String(format: " (error ratio %.3f)", $0) } ?? "")
            plan.events.append(PlannedEvent(.normal, "AnalysisPassed", "revision \(record.revision): \(record.message ?? "")"))
        } else {
            plan.requeueAfter = min(plan.requeueAfter ?? .seconds(analysis.effectiveIntervalSeconds), .seconds(analysis.effectiveIntervalSeconds))
        }
        status.analysis = record
    }

    /// The revision the spec names breached its analysis and was swapped away from: it is not rolled out again.
    func analysisHold(desired: String) -> AnalysisStatus? {
        guard let record = status.analysis, record.phase == .failed, record.revision == desired,
              status.activeRevision?.hash != desired else { return nil }
        return record
    }
}
