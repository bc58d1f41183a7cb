import Foundation
import KubeClient
import KubeCore

/// `watch-framing`: KubeClient's `LineFramer` (the watch stream's splitter into one-JSON-event-per-line) over
/// a stream of N `MODIFIED` Pod events cut into random chunk sizes, as libcurl hands them over (1 B … 32 KiB,
/// log-uniform so tiny and large chunks both occur). Reports framing alone and framing + decode into
/// `WatchEvent`, and the framer's largest held-back partial line and the RSS peak growth: both must stay
/// bounded by one event, not grow with the stream.
public struct WatchFramingBench: Sendable {
    public var events = 100_000
    public var decodeEvents = 20_000
    public var iterations = 2

    public init(quick: Bool) {
        if quick { events = 20_000; decodeEvents = 5_000; iterations = 1 }
    }

    /// One cycle of distinct event lines, pre-cut into `[UInt8]` chunks (the element type libcurl's buffer
    /// hands to the framer in `StreamLines`); the stream repeats the cycle, so memory stays small.
    struct Stream {
        let chunks: [[UInt8]]
        let cycleBytes: Int
        let eventsPerCycle: Int

        init(seed: UInt64) {
            let pods = PodFixture.pods(count: 64, seed: seed)
            var bytes: [UInt8] = []
            for pod in pods {
                let event: JSONValue = ["type": "MODIFIED", "object": pod]
                event.write(into: &bytes)
                bytes.append(UInt8(ascii: "\n"))
            }
            var rng = PodFixture.Generator(seed: seed ^ 0xC0FFEE)
            var chunks: [[UInt8]] = []
            var offset = 0
            while offset < bytes.count {
                let size = min(Int(pow(2, Double(rng.next() % 1500) / 100)), bytes.count - offset)  // 1 … 2^15
                chunks.append(Array(bytes[offset..<(offset + size)]))
                offset += size
            }
            self.chunks = chunks
            cycleBytes = bytes.count
            eventsPerCycle = pods.count
        }

        /// Feeds the stream chunk by chunk until `events` lines came out; returns the largest pending partial line.
        func feed(events: Int, framer: inout LineFramer, onLine: ([UInt8]) throws -> Void) throws -> Int {
            var produced = 0, chunk = 0, maxPending = 0
            while produced < events {
                let lines = try framer.append(chunks[chunk % chunks.count])
                chunk += 1
                maxPending = max(maxPending, framer.pendingCount)
                for line in lines.prefix(events - produced) { try onLine(line) }
                produced += lines.count
            }
            return maxPending
        }
    }

    public func run(log: (String) -> Void) throws -> [BenchFigure] {
        let name = "watch-framing"
        let stream = Stream(seed: 7)
        let eventBytes = Double(stream.cycleBytes) / Double(stream.eventsPerCycle)
        log("\(name): \(events) events of ~\(Int(eventBytes)) B in chunks of 1 B…32 KiB")

        var maxPending = 0
        var seen = 0
        let (framing, framingCPU) = try Measure.run(warmup: 0, iterations: iterations) {
            var framer = LineFramer()
            seen = 0
            maxPending = try stream.feed(events: events, framer: &framer) { _ in seen += 1 }
        }
        guard seen == events else { throw BenchError.wrongResult("framed \(seen) lines, expected \(events)") }
        let (_, framingPeak) = try PeakSampler.measure {
            var framer = LineFramer()
            _ = try stream.feed(events: events, framer: &framer) { _ in }
        }

        // Framing + what WatchStream does with each line: parse and build the WatchEvent.
        var decoded = 0
        let (decoding, decodingCPU) = try Measure.run(warmup: 0, iterations: 1) {
            var framer = LineFramer()
            _ = try stream.feed(events: decodeEvents, framer: &framer) { line in
                if case .modified = try WatchEvent(json: try JSONValue.parse(line)) { decoded += 1 }
            }
        }
        guard decoded == decodeEvents else { throw BenchError.wrongResult("decoded \(decoded) events, expected \(decodeEvents)") }

        let rate = Double(events) / framing.median.seconds
        return [
            BenchFigure(name, "framing only", rate, "events/s",
                        note: String(format: "%.0f MB/s, median %.0f ms (CPU %.0f ms) for %d events", rate * eventBytes / 1e6,
                                     framing.median.milliseconds, framingCPU.median.milliseconds, events)),
            BenchFigure(name, "framing + JSONValue.parse + WatchEvent", Double(decodeEvents) / decoding.median.seconds, "events/s",
                        note: String(format: "%d events, CPU %.0f ms", decodeEvents, decodingCPU.median.milliseconds)),
            BenchFigure(name, "largest held-back partial line", Double(maxPending) / 1024, "KiB",
                        note: String(format: "one event is %.1f KiB: bounded", eventBytes / 1024)),
            BenchFigure(name, "peak RSS growth while framing", Double(framingPeak) / 1_048_576, "MiB",
                        note: String(format: "stream of %.0f MB", Double(events) * eventBytes / 1e6)),
        ]
    }
}
