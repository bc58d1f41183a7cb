/// Splits a byte stream into newline-terminated lines, carrying a partial line across chunk boundaries.
///
/// Used for watch streams (one JSON event per line) and logs. The partial line is bounded by `maxLineLength`
/// so a server that never sends a newline cannot make the client grow without limit.
public struct LineFramer: Sendable {
    public static let defaultMaxLineLength = 16 << 20

    public let maxLineLength: Int
    private var partial: [UInt8] = []

    public init(maxLineLength: Int = LineFramer.defaultMaxLineLength) {
        self.maxLineLength = maxLineLength
    }

    /// Appends a chunk and returns the lines it completes (without their "\n", and without a "\r" before it).
    public mutating func append(_ chunk: some Collection<UInt8>) throws(KubeClientError) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var start = chunk.startIndex
        var index = chunk.startIndex
        while index != chunk.endIndex {
            if chunk[index] == UInt8(ascii: "\n") {
                partial.append(contentsOf: chunk[start..<index])
                try checkLength()
                if partial.last == UInt8(ascii: "\r") { partial.removeLast() }
                lines.append(partial)
                partial = []
                start = chunk.index(after: index)
            }
            index = chunk.index(after: index)
        }
        partial.append(contentsOf: chunk[start..<chunk.endIndex])
        try checkLength()
        return lines
    }

    /// At the end of the stream: the last line if it had no newline.
    public mutating func finish() -> [UInt8]? {
        defer { partial = [] }
        if partial.last == UInt8(ascii: "\r") { partial.removeLast() }
        return partial.isEmpty ? nil : partial
    }

    /// Bytes of the unfinished line held back.
    public var pendingCount: Int { partial.count }

    private func checkLength() throws(KubeClientError) {
        if partial.count > maxLineLength { throw .lineTooLong(limit: maxLineLength) }
    }
}
