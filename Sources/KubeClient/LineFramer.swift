import Foundation  // memchr

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
    public mutating func append(_ chunk: [UInt8]) throws(KubeClientError) -> [[UInt8]] {
        let result = chunk.withUnsafeBufferPointer { buffer in Result { () throws(KubeClientError) in try append(buffer: buffer) } }
        return try result.get()
    }

    /// Any other byte collection: through contiguous storage when it has one (Data, ArraySlice), else copied.
    public mutating func append(_ chunk: some Collection<UInt8>) throws(KubeClientError) -> [[UInt8]] {
        let contiguous = chunk.withContiguousStorageIfAvailable { buffer in
            Result { () throws(KubeClientError) in try append(buffer: buffer) }
        }
        if let contiguous { return try contiguous.get() }
        return try append(Array(chunk))
    }

    /// The hot path: newlines found with `memchr` over contiguous bytes, one copy per line.
    public mutating func append(buffer: UnsafeBufferPointer<UInt8>) throws(KubeClientError) -> [[UInt8]] {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return [] }
        var lines: [[UInt8]] = []
        var start = 0
        while start < buffer.count, let found = memchr(base + start, Int32(UInt8(ascii: "\n")), buffer.count - start) {
            let end = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            var line: [UInt8]
            if partial.isEmpty {
                line = Array(buffer[start..<end])
            } else {
                partial.append(contentsOf: buffer[start..<end])
                line = partial
                partial = []
            }
            if line.count > maxLineLength { throw .lineTooLong(limit: maxLineLength) }
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            lines.append(line)
            start = end + 1
        }
        if start < buffer.count {
            partial.append(contentsOf: buffer[start..<buffer.count])
            try checkLength()
        }
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
