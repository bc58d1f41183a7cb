import Foundation

/// One figure of one benchmark, e.g. ("decode-pods", "JSONValue.parse", 312.4, "ms/list").
public struct BenchFigure: Sendable {
    public var benchmark: String
    public var metric: String
    public var value: Double
    public var unit: String
    /// Target verdict or context ("budget 8 KiB: met"), empty when none.
    public var note: String

    public init(_ benchmark: String, _ metric: String, _ value: Double, _ unit: String, note: String = "") {
        self.benchmark = benchmark
        self.metric = metric
        self.value = value
        self.unit = unit
        self.note = note
    }

    public var formattedValue: String {
        if value.isNaN { return "n/a" }
        if abs(value) >= 100 || value == value.rounded() { return String(format: "%.0f", value) }
        if abs(value) >= 10 { return String(format: "%.1f", value) }
        return String(format: "%.3f", value)
    }
}

/// Renders figures as an aligned text table (terminal) or a Markdown table (docs/benchmarks.md).
public enum BenchTable {
    public static func text(_ figures: [BenchFigure]) -> String {
        let rows = figures.map { [$0.benchmark, $0.metric, $0.formattedValue, $0.unit, $0.note] }
        let header = ["benchmark", "metric", "value", "unit", "note"]
        let widths = (0..<header.count).map { c in ([header] + rows).map { $0[c].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, cell in
                c == 2 ? String(repeating: " ", count: widths[c] - cell.count) + cell
                       : cell + String(repeating: " ", count: widths[c] - cell.count)
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }

    public static func markdown(_ figures: [BenchFigure]) -> String {
        var out = "| benchmark | metric | value | unit | note |\n|---|---|---:|---|---|\n"
        for f in figures { out += "| \(f.benchmark) | \(f.metric) | \(f.formattedValue) | \(f.unit) | \(f.note) |\n" }
        return out
    }
}

/// The machine a run happened on, printed with every report (figures mean nothing without it).
public enum MachineInfo {
    public static func describe() -> String {
        let m = current()
        return "nproc \(m.cores), \(String(format: "%.1f", Double(m.memoryBytes) / 1_073_741_824)) GiB, \(m.cpu), \(m.build)"
    }

    public static func current() -> BenchResult.Machine {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        #if DEBUG
        let build = "debug build (figures not representative)"
        #else
        let build = "release build"
        #endif
        let kernel = (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
        return BenchResult.Machine(cores: ProcessInfo.processInfo.activeProcessorCount,
                                   memoryBytes: ProcessInfo.processInfo.physicalMemory, cpu: cpu, build: build, kernel: kernel)
    }
}
