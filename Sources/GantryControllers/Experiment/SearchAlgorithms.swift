import Foundation
import GantryAPI

/// A finished trial as the search learns from it: its values and its best objective value.
public struct TrialOutcome: Sendable, Hashable {
    public var parameters: [String: String]
    public var value: Double
    public init(parameters: [String: String], value: Double) { self.parameters = parameters; self.value = value }
}

/// The next trial's values: a pure function of (algorithm, seed, space, trial index, finished trials' outcomes),
/// so a restarted or new leader continues the same search. Trial indices start at 1.
public enum SearchAlgorithms {
    public static func suggest(_ algorithm: ExperimentSpec.Algorithm, space: SearchSpace, seed: Int, index: Int,
                               outcomes: [TrialOutcome], goal: EarlyStopping.Goal, startupTrials: Int) -> [String: String]? {
        switch algorithm {
        case .grid: return grid(space, index: index)
        case .random: return random(space, seed: seed, index: index)
        case .tpe:
            guard outcomes.count >= startupTrials else { return random(space, seed: seed, index: index) }
            var rng = SeededRandom(seed: seed, trial: index)
            return TPE.suggest(space, outcomes: outcomes, goal: goal, rng: &rng)
        }
    }

    /// TPE's random start: a quarter of the budget, at least 3 and at most 10 trials.
    public static func startupTrials(maxTrials: Int) -> Int { min(10, max(3, maxTrials / 4)) }

    /// Combination `index` (1-based) in nested-loop order, the last parameter varying fastest; nil past the end.
    public static func grid(_ space: SearchSpace, index: Int) -> [String: String]? {
        guard index >= 1, let size = space.gridSize, index <= size else { return nil }
        var rest = index - 1
        var values: [String: String] = [:]
        for d in space.dimensions.reversed() {
            let count = d.gridCount ?? 1
            values[d.name] = d.gridValue(rest % count)
            rest /= count
        }
        return values
    }

    public static func random(_ space: SearchSpace, seed: Int, index: Int) -> [String: String] {
        var rng = SeededRandom(seed: seed, trial: index)
        return space.dimensions.reduce(into: [:]) { values, d in values[d.name] = draw(d, &rng) }
    }

    static func draw(_ d: SearchDimension, _ rng: inout SeededRandom) -> String {
        switch d.domain {
        case .choice(let values): return values[min(values.count - 1, Int(rng.unit() * Double(values.count)))]
        case .numeric(_, _, let log, let step, _):
            // A linear range with a step: every point equally likely (rounding a continuous draw halves the ends).
            if !log, step != nil, let count = d.gridCount {
                return d.gridValue(min(count - 1, Int(rng.unit() * Double(count))))
            }
            guard let (low, high) = d.bounds else { return "" }
            return d.value(internal: low + rng.unit() * (high - low))
        }
    }
}
