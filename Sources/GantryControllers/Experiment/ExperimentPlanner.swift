import Foundation
import GantryAPI
import KubeCore
import KubeRuntime

/// The Experiment as a pure function of itself and its trials. The status is the search's memory: a trial's
/// values are written there before its TrainingJob is created (the framework writes status first), so the
/// next trial's index and every earlier trial's values survive a restart, and no trial is repeated or skipped.
public struct ExperimentPlanner: KindPlanner {
    public typealias Kind = ExperimentKind

    /// Trials are read whole from the TrainingJob informer the TrainingJob controller already runs.
    public var childTypes: [ResourceType: FieldMask?] { [.trainingJobs: nil] }

    public init() {}

    public static func registration() -> KindRegistration { KindRegistration(ExperimentPlanner()) }

    public func plan(_ o: Observation) -> KindPlan<ExperimentStatus> {
        var planning = ExperimentPlanning(o)
        planning.run()
        return planning.finished()
    }
}

struct ExperimentPlanning: StatusPlanning {
    let exp: Experiment
    let o: ExperimentPlanner.Observation
    var status: ExperimentStatus
    var conditions: StatusConditions
    var plan: KindPlan<ExperimentStatus>
    var nowText: String { Timestamp.format(o.now) }

    init(_ o: ExperimentPlanner.Observation) {
        self.o = o
        exp = o.object
        status = exp.status
        conditions = StatusConditions(status.conditions, generation: exp.generation, now: Timestamp.format(o.now))
        plan = KindPlan(status: status)
    }

    mutating func run() {
        status.observedGeneration = exp.generation
        let space: SearchSpace
        let search: ExperimentStatus.Search
        do {
            space = try SearchSpace(exp.spec.parameters)
            search = try settings(space)
        } catch {
            return invalid(error.description)
        }
        status.search = search
        observeTrials()
        let results = status.trialResults ?? []
        let counts = count(results)
        status.trials = counts
        updateBest(results)

        let failed = results.filter { $0.phase == "Failed" || $0.phase == "Invalid" }
        let unfinished = results.filter { !Self.finished($0.phase) }
        var stop: (reason: String, message: String)?
        if failed.count > exp.spec.effectiveMaxFailedTrials {
            return fail(failed)
        }
        if let best = status.bestTrial, exp.spec.objective.reaches(best.value) {
            stop = ("TargetReached", "trial \(best.name) reached \(exp.spec.objective.metric) \(best.value) (target \(exp.spec.objective.target ?? 0))")
        } else if results.count >= search.maxTrials {
            stop = (exp.spec.algorithm == .grid && search.maxTrials == search.gridSize ? "GridExhausted" : "MaxTrialsReached",
                    "\(results.count) of \(search.maxTrials) trials created")
        }
        planTrials(results, unfinished: unfinished)
        if exp.spec.suspend == true {
            status.phase = .suspended
            conditions.set("Running", .false, "Suspended", "spec.suspend is true")
            return conditions.markIdle("Suspended", "spec.suspend is true: no new trials; \(unfinished.count) unfinished trials suspended")
        }
        if let stop {
            return complete(stop.reason, stop.message, unfinished: unfinished.count)
        }
        createTrials(space, search, existing: results, unfinished: unfinished.count)
        status.phase = .running
        status.startTime = status.startTime ?? nowText
        let created = status.trialResults?.count ?? 0
        let message = "\(created) of \(search.maxTrials) trials created, \(status.trials?.running ?? 0) running" + (status.bestTrial.map { "; best \($0.name) (\($0.value))" } ?? "")
        conditions.set("Running", .true, "Searching", message)
        conditions.markReady("Searching", message)
    }

    /// Effective settings, or why the spec cannot be searched.
    func settings(_ space: SearchSpace) throws(SearchSpaceError) -> ExperimentStatus.Search {
        let seed = TrialChildren.seed(exp)
        switch exp.spec.algorithm {
        case .grid:
            guard let size = space.gridSize else { throw SearchSpaceError(field: "spec.parameters", message: "with algorithm grid every double parameter needs a step") }
            if exp.spec.maxTrials == nil, size > ExperimentSchema.maxTrialsLimit {
                throw SearchSpaceError(field: "spec.maxTrials", message: "the grid has \(size) combinations, more than \(ExperimentSchema.maxTrialsLimit); set maxTrials, fewer values, or algorithm random or tpe")
            }
            return .init(algorithm: "grid", seed: seed, maxTrials: min(exp.spec.maxTrials ?? size, size), gridSize: size)
        case .random, .tpe:
            guard let maxTrials = exp.spec.maxTrials else { throw SearchSpaceError(field: "spec.maxTrials", message: "required with algorithm \(exp.spec.algorithm.rawValue)") }
            return .init(algorithm: exp.spec.algorithm.rawValue, seed: seed, maxTrials: maxTrials,
                         startupTrials: exp.spec.algorithm == .tpe ? SearchAlgorithms.startupTrials(maxTrials: maxTrials) : nil)
        }
    }

    static func finished(_ phase: String) -> Bool { ["Succeeded", "Failed", "EarlyStopped", "Invalid"].contains(phase) }

    /// Each trial's phase and best value, from its TrainingJob (a trial whose job is gone keeps what was seen).
    mutating func observeTrials() {
        var results = status.trialResults ?? []
        let jobs = o.children(.trainingJobs).compactMap { try? TrainingJob($0) }
        for job in jobs {
            guard let index = job.labels[GantryLabels.trialIndex].flatMap(Int.init) else { continue }
            var trial = results.first { $0.index == index }
                // A trial created by a leader whose status write was lost: adopted with the values it ran with.
                ?? ExperimentStatus.Trial(name: job.name, index: index,
                                          parameters: (job.spec.hyperparameters ?? [:]).filter { k, _ in exp.spec.parameters.contains { $0.name == k } },
                                          phase: "Pending")
            if let phase = job.status.phase { trial.phase = phase == .admitted ? "Queued" : phase.rawValue }
            if let best = job.status.metrics?.best, best.name == exp.spec.objective.metric {
                trial.value = best.value
                trial.step = best.step
            }
            if trial.phase == "Failed" || trial.phase == "Invalid" {
                trial.message = job.status.conditions?.first { ($0.type == "Failed" || $0.type == "Invalid") && $0.status == .true }?.message
            }
            if let i = results.firstIndex(where: { $0.index == index }) { results[i] = trial } else { results.append(trial) }
        }
        status.trialResults = results.sorted { $0.index < $1.index }
    }

    func count(_ results: [ExperimentStatus.Trial]) -> ExperimentStatus.TrialCounts {
        var c = ExperimentStatus.TrialCounts()
        c.created = results.count
        for t in results {
            switch t.phase {
            case "Running": c.running += 1
            case "Succeeded": c.succeeded += 1
            case "Failed", "Invalid": c.failed += 1
            case "EarlyStopped": c.earlyStopped += 1
            default: c.queued += 1
            }
        }
        return c
    }

    /// The best finished trial (succeeded or stopped early: a stopped run's best value is a real result); each
    /// new leader is added to the optimum's history.
    mutating func updateBest(_ results: [ExperimentStatus.Trial]) {
        let objective = exp.spec.objective
        var best: (trial: ExperimentStatus.Trial, value: Double)?
        for t in results where t.phase == "Succeeded" || t.phase == "EarlyStopped" {
            guard let value = t.value, value.isFinite else { continue }
            if let current = best, !objective.isBetter(value, than: current.value) { continue }
            best = (t, value)
        }
        guard let best else { return }
        status.bestTrial = .init(name: best.trial.name, parameters: best.trial.parameters, value: best.value, step: best.trial.step)
        var history = status.currentOptimum ?? []
        if history.last.map({ objective.isBetter(best.value, than: $0.value) }) ?? true {
            history.append(.init(trial: best.trial.name, value: best.value, time: nowText))
            plan.events.append(PlannedEvent(.normal, "NewOptimum", "trial \(best.trial.name): \(objective.metric) \(best.value)"))
        }
        status.currentOptimum = history
    }

    /// Existing trials: unfinished ones follow the experiment's suspend; one whose job is missing is created again
    /// with its recorded values (it was recorded, then its creation failed or it was deleted before finishing).
    mutating func planTrials(_ results: [ExperimentStatus.Trial], unfinished: [ExperimentStatus.Trial]) {
        let existing = Set(o.children(.trainingJobs).compactMap(\.name))
        for trial in unfinished {
            if existing.contains(trial.name) {
                plan.children.add(TrialChildren.suspension(exp, name: trial.name))
            } else if let job = try? TrialChildren.trial(exp, index: trial.index, parameters: trial.parameters) {
                plan.children.add(job, update: .createOnly)
            }
        }
    }

    /// New trials up to parallelTrials unfinished and maxTrials in all, each recorded in status as it is planned.
    mutating func createTrials(_ space: SearchSpace, _ search: ExperimentStatus.Search, existing: [ExperimentStatus.Trial], unfinished: Int) {
        var results = existing
        let slots = min(exp.spec.effectiveParallelTrials - unfinished, search.maxTrials - results.count)
        guard slots > 0 else { return }
        let outcomes = results.filter { ["Succeeded", "EarlyStopped"].contains($0.phase) }.compactMap { t in
            t.value.flatMap { $0.isFinite ? TrialOutcome(parameters: t.parameters, value: $0) : nil }
        }
        var next = (results.map(\.index).max() ?? 0) + 1
        for _ in 0..<slots {
            guard let values = SearchAlgorithms.suggest(exp.spec.algorithm, space: space, seed: search.seed, index: next, outcomes: outcomes,
                                                         goal: exp.spec.objective.effectiveGoal, startupTrials: search.startupTrials ?? 0) else { break }
            let name = TrialChildren.name(exp, index: next)
            do {
                plan.children.add(try TrialChildren.trial(exp, index: next, parameters: values), update: .createOnly)
            } catch {
                return invalid("spec.template: \(error)")
            }
            results.append(.init(name: name, index: next, parameters: values, phase: "Pending"))
            plan.events.append(PlannedEvent(.normal, "TrialCreated", "trial \(name): " + values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")))
            next += 1
        }
        status.trialResults = results
        status.trials = count(results)
    }

    mutating func complete(_ reason: String, _ message: String, unfinished: Int) {
        conditions.set("Running", .false, reason, message)
        if unfinished > 0 {
            status.phase = .completing
            let text = "\(message); no new trials, waiting for \(unfinished) unfinished"
            conditions.markReady("Completing", text)
            return
        }
        status.phase = .succeeded
        let text = message + (status.bestTrial.map { "; best trial \($0.name): \(exp.spec.objective.metric) \($0.value)" } ?? "; no trial reported \(exp.spec.objective.metric)")
        if conditions["Succeeded"]?.status != .true {
            plan.events.append(PlannedEvent(.normal, reason, text))
            status.completionTime = nowText
        }
        conditions.set("Complete", .true, reason, text)
        conditions.set("Succeeded", .true, reason, text)
        conditions.markReady(reason, text)
    }

    mutating func fail(_ failed: [ExperimentStatus.Trial]) {
        let last = failed.suffix(3).map { "\($0.name): \($0.message ?? $0.phase)" }.joined(separator: "; ")
        let message = "\(failed.count) trials failed, more than maxFailedTrials \(exp.spec.effectiveMaxFailedTrials); last: \(last)"
        if status.phase != .failed {
            plan.events.append(PlannedEvent(.warning, "MaxFailedTrialsReached", message))
            status.completionTime = nowText
        }
        status.phase = .failed
        conditions.set("Running", .false, "MaxFailedTrialsReached", message)
        conditions.set("Complete", .true, "MaxFailedTrialsReached", message)
        conditions.set("Failed", .true, "MaxFailedTrialsReached", message)
        conditions.markStalled("MaxFailedTrialsReached", message)
    }

    mutating func invalid(_ message: String) {
        if conditions[ConditionType.stalled]?.reason != "InvalidSpec" || conditions[ConditionType.stalled]?.message != message {
            plan.events.append(PlannedEvent(.warning, "InvalidSpec", message))
        }
        conditions.markStalled("InvalidSpec", message, reconciling: "waiting for a corrected spec")
    }
}
