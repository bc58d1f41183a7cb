import Foundation
import GantryAPI

/// A parameter definition the search cannot use, named by field (the CRD's rules catch most before this).
public struct SearchSpaceError: Error, Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var message: String
    public var description: String { "\(field): \(message)" }
}

/// One searched parameter as the algorithms see it: a numeric range in an internal coordinate (the logarithm
/// for `scale: log`, so draws and densities are uniform where the user thinks in orders of magnitude), or a
/// list of choices. Values are formatted once here, so the trainer, the record and the status all see the
/// same text.
public struct SearchDimension: Sendable, Hashable {
    public enum Domain: Sendable, Hashable {
        case numeric(low: Double, high: Double, log: Bool, step: Double?, integer: Bool)
        case choice([String])
    }

    public let name: String
    public let domain: Domain

    public init(_ p: SearchParameter, field: String) throws(SearchSpaceError) {
        name = p.name
        switch p.type {
        case .categorical, .discrete:
            guard let values = p.values, !values.isEmpty else { throw SearchSpaceError(field: "\(field).values", message: "list at least one value") }
            if p.type == .discrete, let bad = values.first(where: { Double($0) == nil }) {
                throw SearchSpaceError(field: "\(field).values", message: "\"\(bad)\" is not a number; a discrete parameter lists numbers (use type categorical for words)")
            }
            domain = .choice(values)
        case .double, .int:
            guard var low = p.min, var high = p.max else { throw SearchSpaceError(field: field, message: "min and max are required") }
            let integer = p.type == .int
            if integer { low = low.rounded(.up); high = high.rounded(.down) }
            guard low <= high else { throw SearchSpaceError(field: field, message: "min must not be greater than max (an int range needs a whole number between them)") }
            let log = p.effectiveScale == .log
            if log && low <= 0 { throw SearchSpaceError(field: "\(field).min", message: "scale log needs min > 0") }
            if let step = p.step, step <= 0 { throw SearchSpaceError(field: "\(field).step", message: "must be greater than 0") }
            domain = .numeric(low: low, high: high, log: log, step: p.step ?? (integer ? 1 : nil), integer: integer)
        }
    }

    /// The internal range: [log low, log high] for log scale.
    public var bounds: (low: Double, high: Double)? {
        guard case .numeric(let low, let high, let log, _, _) = domain else { return nil }
        return log ? (Foundation.log(low), Foundation.log(high)) : (low, high)
    }

    /// The value at internal coordinate `x`, rounded to the step from min and kept inside the range.
    public func value(internal x: Double) -> String {
        guard case .numeric(let low, let high, let log, let step, let integer) = domain else { return "" }
        var v = log ? exp(x) : x
        if let step { v = low + ((v - low) / step).rounded() * step }
        v = min(max(v, low), high)
        if let step, v > high { v -= step }
        return integer ? String(Int(v.rounded())) : Self.format(v)
    }

    /// The internal coordinate of a recorded value (nil when it does not parse).
    public func coordinate(of value: String) -> Double? {
        guard case .numeric(_, _, let log, _, _) = domain, let v = Double(value) else { return nil }
        return log ? (v > 0 ? Foundation.log(v) : nil) : v
    }

    /// The number of grid points; nil for a double without a step. Computed, never listed: an int range of a
    /// billion values is fine to draw from.
    public var gridCount: Int? {
        switch domain {
        case .choice(let values): return values.count
        case .numeric(let low, let high, _, let step, _):
            guard let step else { return nil }
            let n = ((high - low) / step + 1e-9).rounded(.down)
            return n >= Double(Int.max / 4) ? Int.max / 4 : Int(n) + 1
        }
    }

    /// Grid point `i` (0-based) in order.
    public func gridValue(_ i: Int) -> String {
        switch domain {
        case .choice(let values): return values[i]
        case .numeric(let low, _, _, let step, let integer):
            let v = low + Double(i) * (step ?? 0)
            return integer ? String(Int(v.rounded())) : Self.format(v)
        }
    }

    /// Six significant digits: `0.001`, `3e-05`, `0.3` (not `0.30000000000000004`).
    static func format(_ v: Double) -> String {
        String(format: "%.6g", v)
    }
}

/// Every searched parameter, in spec order.
public struct SearchSpace: Sendable, Hashable {
    public let dimensions: [SearchDimension]

    public init(_ parameters: [SearchParameter]) throws(SearchSpaceError) {
        var dimensions: [SearchDimension] = []
        var seen: Set<String> = []
        for (i, p) in parameters.enumerated() {
            guard seen.insert(p.name).inserted else { throw SearchSpaceError(field: "spec.parameters[\(i)].name", message: "\"\(p.name)\" is listed twice") }
            dimensions.append(try SearchDimension(p, field: "spec.parameters[\(i)]"))
        }
        guard !dimensions.isEmpty else { throw SearchSpaceError(field: "spec.parameters", message: "list at least one parameter") }
        self.dimensions = dimensions
    }

    /// The number of grid combinations (capped at `Int.max / 2`), nil when a dimension has no grid.
    public var gridSize: Int? {
        var size = 1
        for d in dimensions {
            guard let n = d.gridCount else { return nil }
            let (product, overflow) = size.multipliedReportingOverflow(by: n)
            size = overflow ? Int.max / 2 : min(product, Int.max / 2)
        }
        return size
    }
}
