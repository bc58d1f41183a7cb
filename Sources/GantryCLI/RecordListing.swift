import GantryAPI

/// The pure part of `gantry records`: which record is the best of its experiment, and the order of the rows.
enum RecordListing {
    enum SortKey: String, CaseIterable, Sendable {
        case objective, finished, name
    }

    /// An experiment is a label within a namespace: the same name in two namespaces is two experiments.
    struct ExperimentKey: Hashable, Sendable {
        var namespace: String
        var experiment: String?
    }

    static func key(_ row: RecordRow) -> ExperimentKey { ExperimentKey(namespace: row.namespace, experiment: row.experiment) }

    /// The objective an experiment is judged by: the newest stated one (a record with `objective`), else the
    /// newest assumed one. Old records (no `objective`) then count under the goal newer runs state.
    static func objective(of rows: [RecordRow]) -> RecordObjective? {
        let newestFirst = rows.sorted { finishedOrder($1, $0) }
        return newestFirst.first { $0.objective?.assumed == false }?.objective ?? newestFirst.first { $0.objective != nil }?.objective
    }

    /// Indices (into `rows`) of the best record of each experiment: by the experiment's objective, among
    /// Succeeded or EarlyStopped records with a value of that metric. Records without an experiment are
    /// never marked (nothing to compare them with). A tie goes to the record that finished first.
    static func best(_ rows: [RecordRow]) -> Set<Int> {
        var marked: Set<Int> = []
        for (key, indices) in Dictionary(grouping: rows.indices, by: { Self.key(rows[$0]) }) where key.experiment != nil {
            guard let objective = objective(of: indices.map { rows[$0] }) else { continue }
            let candidates = indices.filter { eligible(rows[$0], objective) }
            let winner = candidates.min { a, b in
                ranksBefore(rows[a], rows[b], goal: objective.goal)
            }
            if let winner { marked.insert(winner) }
        }
        return marked
    }

    /// `rows` with `isBest` set on the best record of each experiment.
    static func markingBest(_ rows: [RecordRow]) -> [RecordRow] {
        let best = best(rows)
        return rows.enumerated().map { i, row in
            var row = row
            row.isBest = best.contains(i)
            return row
        }
    }

    /// The order of the listing. `.objective` groups by experiment and puts each experiment's best first:
    /// judged records with a value (best value first), then the others with a value, then those without one.
    static func sorted(_ rows: [RecordRow], by sortKey: SortKey) -> [RecordRow] {
        switch sortKey {
        case .finished:
            return rows.sorted(by: finishedOrder)
        case .name:
            return rows.sorted { ($0.namespace, $0.job, $0.completionTime ?? "") < ($1.namespace, $1.job, $1.completionTime ?? "") }
        case .objective:
            let groups = Dictionary(grouping: rows, by: key)
            // Experiments by namespace and name; records without an experiment after those of their namespace.
            let keys = groups.keys.sorted { ($0.namespace, $0.experiment == nil ? 1 : 0, $0.experiment ?? "") < ($1.namespace, $1.experiment == nil ? 1 : 0, $1.experiment ?? "") }
            return keys.flatMap { key -> [RecordRow] in
                let group = groups[key] ?? []
                guard let objective = objective(of: group) else { return group.sorted(by: finishedOrder) }
                return group.sorted { a, b in
                    let (ta, tb) = (tier(a, objective), tier(b, objective))
                    if ta != tb { return ta < tb }
                    return ta == 2 ? finishedOrder(a, b) : ranksBefore(a, b, goal: objective.goal)
                }
            }
        }
    }

    /// Sorted hyperparameter keys present in any of `rows`: one table column each.
    static func hyperparameterKeys(_ rows: [RecordRow]) -> [String] {
        Set(rows.flatMap(\.hyperparameters.keys)).sorted()
    }

    // MARK: - Comparisons

    static func eligible(_ row: RecordRow, _ objective: RecordObjective) -> Bool {
        row.isJudged && row.value != nil && row.objective?.metric == objective.metric
    }

    /// 0: could be the best; 1: a value of the metric from a failed or deleted run; 2: no value of the metric.
    private static func tier(_ row: RecordRow, _ objective: RecordObjective) -> Int {
        guard row.value != nil, row.objective?.metric == objective.metric else { return 2 }
        return row.isJudged ? 0 : 1
    }

    /// Better value first under `goal`; equal values by completion time, then name (deterministic output).
    private static func ranksBefore(_ a: RecordRow, _ b: RecordRow, goal: EarlyStopping.Goal) -> Bool {
        if let va = a.value, let vb = b.value, va != vb { return goal == .maximize ? va > vb : va < vb }
        return finishedOrder(a, b)
    }

    /// Oldest first, as kubectl lists; a record without a completion time (deleted before it ran) by its start.
    static func finishedOrder(_ a: RecordRow, _ b: RecordRow) -> Bool {
        let ta = a.completionTime ?? a.startTime ?? "", tb = b.completionTime ?? b.startTime ?? ""
        return (ta, a.namespace, a.job) < (tb, b.namespace, b.job)
    }
}
