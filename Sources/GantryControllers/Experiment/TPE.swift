import Foundation
import GantryAPI

/// Tree-structured Parzen Estimator (Bergstra et al., 2011), univariate as in hyperopt and Optuna's default:
/// finished trials are split into the best fraction γ ("below") and the rest ("above"); for each parameter a
/// density l(x) is fitted to the below values and g(x) to the above ones, candidates are drawn from l, and the
/// one with the highest l(x)/g(x) is taken.
enum TPE {
    static let gamma = 0.25
    static let candidates = 24

    static func suggest(_ space: SearchSpace, outcomes: [TrialOutcome], goal: EarlyStopping.Goal, rng: inout SeededRandom) -> [String: String] {
        // Lower is better inside; ties keep trial order (outcomes come in index order) so the split is stable.
        let ranked = outcomes.enumerated().sorted { a, b in
            let (x, y) = goal == .minimize ? (a.element.value, b.element.value) : (-a.element.value, -b.element.value)
            return x != y ? x < y : a.offset < b.offset
        }.map(\.element)
        let below = max(1, Int((gamma * Double(ranked.count)).rounded(.up)))
        let good = Array(ranked.prefix(below)), bad = Array(ranked.dropFirst(below))
        var values: [String: String] = [:]
        for d in space.dimensions {
            switch d.domain {
            case .choice(let choices):
                values[d.name] = choose(choices, good: good.compactMap { $0.parameters[d.name] }, bad: bad.compactMap { $0.parameters[d.name] }, rng: &rng)
            case .numeric:
                guard let (low, high) = d.bounds else { continue }
                let l = Parzen(points: good.compactMap { $0.parameters[d.name].flatMap(d.coordinate) }, low: low, high: high)
                let g = Parzen(points: bad.compactMap { $0.parameters[d.name].flatMap(d.coordinate) }, low: low, high: high)
                var best = (score: -Double.infinity, x: (low + high) / 2)
                for _ in 0..<candidates {
                    let x = l.sample(&rng)
                    let score = l.logDensity(x) - g.logDensity(x)
                    if score > best.score { best = (score, x) }
                }
                values[d.name] = d.value(internal: best.x)
            }
        }
        return values
    }

    /// Categorical: counts with one prior observation per choice, so unseen choices keep a chance.
    static func choose(_ choices: [String], good: [String], bad: [String], rng: inout SeededRandom) -> String {
        func weights(_ seen: [String]) -> [Double] {
            choices.map { c in Double(seen.filter { $0 == c }.count + 1) / Double(seen.count + choices.count) }
        }
        let l = weights(good), g = weights(bad)
        var best = (score: -Double.infinity, index: 0)
        for _ in 0..<candidates {
            var u = rng.unit(), i = 0
            while i < l.count - 1, u >= l[i] { u -= l[i]; i += 1 }
            let score = log(l[i]) - log(g[i])
            if score > best.score { best = (score, i) }
        }
        return choices[best.index]
    }

    /// A mixture of normals truncated to [low, high]: one per observation plus a wide prior at the centre.
    /// Each bandwidth is the larger gap to its neighbours (hyperopt's rule), clipped to a sane range.
    struct Parzen {
        var mus: [Double] = []
        var sigmas: [Double] = []
        let low: Double, high: Double

        init(points: [Double], low: Double, high: Double) {
            self.low = low
            self.high = high
            let range = max(high - low, 1e-12)
            let prior = (mu: (low + high) / 2, sigma: range)
            let sorted = (points.map { min(max($0, low), high) } + [prior.mu]).sorted()
            let minSigma = range / min(100, Double(sorted.count + 1))
            for (i, mu) in sorted.enumerated() {
                let left = i > 0 ? mu - sorted[i - 1] : mu - low
                let right = i < sorted.count - 1 ? sorted[i + 1] - mu : high - mu
                mus.append(mu)
                sigmas.append(min(max(max(left, right), minSigma), range))
            }
            // The prior keeps its full width.
            if let p = mus.firstIndex(of: prior.mu) { sigmas[p] = range }
        }

        func sample(_ rng: inout SeededRandom) -> Double {
            let k = min(mus.count - 1, Int(rng.unit() * Double(mus.count)))
            for _ in 0..<32 {
                let x = mus[k] + sigmas[k] * rng.normal()
                if x >= low && x <= high { return x }
            }
            return min(max(mus[k], low), high)
        }

        func logDensity(_ x: Double) -> Double {
            var total = 0.0
            for (mu, sigma) in zip(mus, sigmas) {
                let mass = max(cdf((high - mu) / sigma) - cdf((low - mu) / sigma), 1e-12)
                let z = (x - mu) / sigma
                total += exp(-0.5 * z * z) / (sigma * (2 * Double.pi).squareRoot() * mass)
            }
            return log(max(total / Double(mus.count), 1e-300))
        }

        func cdf(_ z: Double) -> Double { 0.5 * (1 + erf(z / 2.0.squareRoot())) }
    }
}
