import Foundation

/// A whole `gantry bench` run as JSON (`--json FILE`): the figures with the machine, the commit and the command
/// that produced them, so a result can be compared with a later one without reading the Markdown.
public struct BenchResult: Encodable, Sendable {
    public struct Machine: Encodable, Sendable {
        public var cores: Int
        public var memoryBytes: UInt64
        public var cpu: String
        public var build: String
        public var kernel: String
    }

    public struct Figure: Encodable, Sendable {
        public var benchmark: String
        public var metric: String
        /// nil when the figure could not be measured (NaN has no JSON form).
        public var value: Double?
        public var unit: String
        public var note: String
    }

    public var date: String
    public var command: String
    public var commit: String?
    public var machine: Machine
    public var figures: [Figure]

    public init(figures: [BenchFigure], command: String, commit: String?, date: Date = Date()) {
        self.date = ISO8601DateFormatter().string(from: date)
        self.command = command
        self.commit = commit
        self.machine = MachineInfo.current()
        self.figures = figures.map { Figure(benchmark: $0.benchmark, metric: $0.metric, value: $0.value.isFinite ? $0.value : nil,
                                            unit: $0.unit, note: $0.note) }
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
