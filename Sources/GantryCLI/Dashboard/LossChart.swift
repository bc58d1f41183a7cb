import Foundation

/// A metric's curves as the geometry of an inline SVG: one polyline per run, axes with round-number ticks, a
/// legend. Pure: `[step, value]` histories in, coordinates out (numbers formatted here, so the page is the same
/// on every machine).
struct LossChart: Sendable, Hashable {
    struct Series: Sendable, Hashable {
        var name: String
        /// `[step, value]` pairs as the controller keeps them (`status.metrics.history`); malformed or
        /// non-finite pairs are left out.
        var history: [[Double]]
        /// Drawn thicker and marked in the legend (the best run of an experiment).
        var emphasized = false
    }

    struct Tick: Sendable, Hashable { var position: String; var label: String }
    struct Line: Sendable, Hashable {
        var name: String
        var color: String
        var points: String
        var strokeWidth: String
        /// Dashed once the palette is used up, so two runs never look alike.
        var dashes: String?
        var emphasized: Bool
        /// One point only: drawn as a dot, since a polyline of one point is invisible.
        var dot: Dot?
    }
    struct Dot: Sendable, Hashable { var x: String; var y: String }
    struct LegendItem: Sendable, Hashable {
        var name: String
        var color: String
        var dashes: String?
        var y: String
        var textY: String
        var emphasized: Bool
    }

    /// Okabe–Ito's colour-blind-safe eight, then eight more distinct ones; past those, the same colours dashed.
    static let palette = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
                          "#7F3C8D", "#11A579", "#3969AC", "#F2B701", "#E73F74", "#80BA5A", "#008695", "#A5AA99"]

    static func color(_ index: Int) -> String { palette[index % palette.count] }
    static func dashes(_ index: Int) -> String? { index < palette.count ? nil : ["6 3", "2 3", "8 3 2 3"][(index / palette.count - 1) % 3] }

    /// The SVG's size and the margins around the plot (the right one holds the legend).
    static let W = 760.0, H = 320.0
    static let left = 64.0, right = 180.0, top = 16.0, bottom = 44.0

    // Stored, not computed: templates read values through reflection, which sees stored properties only.
    var metric: String
    var width = Self.f(Self.W)
    var height = Self.f(Self.H)
    var plotLeft = Self.f(Self.left)
    var plotRight = Self.f(Self.W - Self.right)
    var plotTop = Self.f(Self.top)
    var plotBottom = Self.f(Self.H - Self.bottom)
    var xLabelX = Self.f((Self.left + Self.W - Self.right) / 2)
    var xLabelY = Self.f(Self.H - 8)
    var yLabelY = Self.f((Self.top + Self.H - Self.bottom) / 2)
    var legendX = Self.f(Self.W - Self.right + 12)
    var legendLineEnd = Self.f(Self.W - Self.right + 26)
    var legendTextX = Self.f(Self.W - Self.right + 32)
    var lines: [Line] = []
    var xTicks: [Tick] = []
    var yTicks: [Tick] = []
    var legend: [LegendItem] = []
    /// No run has a point yet: the page says so instead of drawing empty axes.
    var isEmpty = true

    init(metric: String, series: [Series]) {
        self.metric = metric
        let cleaned: [(Series, [(Double, Double)])] = series.map { s in
            (s, s.history.compactMap { pair -> (Double, Double)? in
                guard pair.count == 2, pair[0].isFinite, pair[1].isFinite else { return nil }
                return (pair[0], pair[1])
            })
        }
        let all = cleaned.flatMap { $0.1 }
        guard let first = all.first else { return }
        let xs = Self.niceScale(all.map { $0.0 }.min() ?? first.0, all.map { $0.0 }.max() ?? first.0)
        let ys = Self.niceScale(all.map { $0.1 }.min() ?? first.1, all.map { $0.1 }.max() ?? first.1)
        let (x0, x1) = (Self.left, Self.W - Self.right)
        let (y0, y1) = (Self.H - Self.bottom, Self.top)
        func px(_ x: Double) -> Double { x0 + (x - xs.low) / (xs.high - xs.low) * (x1 - x0) }
        func py(_ y: Double) -> Double { y0 + (y - ys.low) / (ys.high - ys.low) * (y1 - y0) }
        xTicks = xs.ticks.map { Tick(position: Self.f(px($0)), label: Self.label($0)) }
        yTicks = ys.ticks.map { Tick(position: Self.f(py($0)), label: Self.label($0)) }
        for (index, (s, points)) in cleaned.enumerated() {
            let color = Self.color(index)
            legend.append(LegendItem(name: s.name, color: color, dashes: Self.dashes(index), y: Self.f(Self.top + 6 + Double(index) * 18),
                                     textY: Self.f(Self.top + 10 + Double(index) * 18), emphasized: s.emphasized))
            guard !points.isEmpty else { continue }
            let sorted = points.sorted { $0.0 < $1.0 }
            lines.append(Line(name: s.name, color: color,
                              points: sorted.map { "\(Self.f(px($0.0))),\(Self.f(py($0.1)))" }.joined(separator: " "),
                              strokeWidth: s.emphasized ? "3" : "1.5", dashes: Self.dashes(index), emphasized: s.emphasized,
                              dot: sorted.count == 1 ? Dot(x: Self.f(px(sorted[0].0)), y: Self.f(py(sorted[0].1))) : nil))
        }
        isEmpty = lines.isEmpty
        // A long legend makes the picture taller; the plot keeps its place.
        height = Self.f(max(Self.H, Self.top + 18 * Double(cleaned.count) + 8))
    }

    /// Coordinates with one decimal: enough for a screen, and stable text for tests.
    static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    static func label(_ value: Double) -> String {
        let rounded = abs(value) < 1e-12 ? 0 : value
        return String(format: "%g", rounded)
    }

    /// Round-number axis bounds and about five ticks covering `low...high` (Heckbert's "nice numbers").
    static func niceScale(_ low: Double, _ high: Double, ticks count: Int = 5) -> (low: Double, high: Double, ticks: [Double]) {
        var (low, high) = (low, high)
        if high - low < 1e-12 {
            // One value: an interval around it, so the line sits mid-plot instead of dividing by zero.
            let pad = abs(low) > 1e-12 ? abs(low) * 0.1 : 1
            (low, high) = (low - pad, high + pad)
        }
        let step = nice((high - low) / Double(max(count - 1, 1)), round: true)
        let niceLow = (low / step).rounded(.down) * step
        let niceHigh = (high / step).rounded(.up) * step
        let intervals = Int(((niceHigh - niceLow) / step).rounded())
        return (niceLow, niceHigh, (0...max(intervals, 1)).map { niceLow + Double($0) * step })
    }

    static func nice(_ value: Double, round: Bool) -> Double {
        let exponent = floor(log10(value))
        let fraction = value / pow(10, exponent)
        let niceFraction: Double
        if round {
            niceFraction = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
        } else {
            niceFraction = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        }
        return niceFraction * pow(10, exponent)
    }
}
