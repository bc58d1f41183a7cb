import Foundation

/// One line of a plot: its legend label and its (x, y) points in x order.
struct PlotSeries: Sendable, Hashable {
    struct Point: Sendable, Hashable {
        var x: Double
        var y: Double
    }
    var label: String
    var points: [Point]
}

/// A line plot drawn with characters for a terminal: each series joined point to point with its own marker, a
/// y axis with values, an x axis with its first, middle and last value, and a legend. Pure: series in, text out.
enum LinePlot {
    /// One marker per series, told apart without colour; they repeat after the tenth series (said in the legend).
    static let markers: [Character] = ["●", "○", "■", "□", "▲", "△", "◆", "◇", "×", "+"]

    static func render(_ series: [PlotSeries], width: Int = 64, height: Int = 16, xLabel: String = "step") -> String {
        let finite = series.map { s in PlotSeries(label: s.label, points: s.points.filter { $0.x.isFinite && $0.y.isFinite }) }
        let all = finite.flatMap(\.points)
        guard let first = all.first else { return "(no points to plot yet)\n" + legend(finite) }
        let width = max(width, 8), height = max(height, 3)
        var (xmin, xmax, ymin, ymax) = (first.x, first.x, first.y, first.y)
        for p in all { xmin = min(xmin, p.x); xmax = max(xmax, p.x); ymin = min(ymin, p.y); ymax = max(ymax, p.y) }
        // A flat or single-point series still gets an axis: the range is widened around its value.
        if xmax == xmin { xmin -= 1; xmax += 1 }
        if ymax == ymin { let pad = ymin == 0 ? 1 : abs(ymin) * 0.1; ymin -= pad; ymax += pad }

        func column(_ x: Double) -> Int { Int(((x - xmin) / (xmax - xmin) * Double(width - 1)).rounded()) }
        func row(_ y: Double) -> Int { Int(((ymax - y) / (ymax - ymin) * Double(height - 1)).rounded()) }
        var grid = Array(repeating: Array(repeating: Character(" "), count: width), count: height)
        for (index, s) in finite.enumerated() {
            let marker = markers[index % markers.count]
            let cells = s.points.map { (column($0.x), row($0.y)) }
            for (a, b) in Array(zip(cells, cells.dropFirst())) + (cells.count == 1 ? [(cells[0], cells[0])] : []) {
                // Every cell between two points, so a steep drop stays a connected line.
                let steps = max(abs(b.0 - a.0), abs(b.1 - a.1), 1)
                for i in 0...steps {
                    let c = a.0 + Int((Double((b.0 - a.0) * i) / Double(steps)).rounded())
                    let r = a.1 + Int((Double((b.1 - a.1) * i) / Double(steps)).rounded())
                    grid[r][c] = marker
                }
            }
        }

        // Values on the top, middle and bottom rows and at the quarters between.
        let labelled = Set([0, (height - 1) / 4, (height - 1) / 2, 3 * (height - 1) / 4, height - 1])
        let labels = (0..<height).map { r in labelled.contains(r) ? number(ymax - (ymax - ymin) * Double(r) / Double(height - 1)) : "" }
        let pad = labels.map(\.count).max() ?? 0
        var lines = grid.enumerated().map { r, cells in
            let row = String(repeating: " ", count: pad - labels[r].count) + labels[r] + (labels[r].isEmpty ? " │" : " ┤") + String(cells)
            return row.withoutTrailingBlanks
        }
        lines.append(String(repeating: " ", count: pad) + " └" + String(repeating: "─", count: width))
        let (left, middle, right) = (number(xmin), number((xmin + xmax) / 2), number(xmax))
        var axis = Array(repeating: Character(" "), count: width + xLabel.count + 2)
        func place(_ text: String, at start: Int) {
            for (i, ch) in text.enumerated() where start + i >= 0 && start + i < axis.count { axis[start + i] = ch }
        }
        place(left, at: 0)
        // The middle value only where it keeps a blank on each side (a narrow plot shows the ends only).
        let middleStart = width / 2 - middle.count / 2
        if middleStart > left.count, middleStart + middle.count < width - right.count { place(middle, at: middleStart) }
        place(right, at: width - right.count)
        place(xLabel, at: width + 2)
        lines.append(String(repeating: " ", count: pad + 2) + String(axis).trimmingCharacters(in: .whitespaces))
        return lines.joined(separator: "\n") + "\n" + legend(finite)
    }

    static func legend(_ series: [PlotSeries]) -> String {
        var lines = series.enumerated().map { i, s in
            "  \(markers[i % markers.count]) \(s.label)" + (s.points.isEmpty ? " (no points yet)" : "")
        }
        if series.count > markers.count { lines.append("  (markers repeat after \(markers.count) series)") }
        return lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")
    }

    /// Four significant digits, as the tables print values.
    static func number(_ value: Double) -> String { String(format: "%.4g", value) }
}
