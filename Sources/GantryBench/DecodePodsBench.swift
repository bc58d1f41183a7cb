import Foundation
import KubeCore

/// `decode-pods`: one LIST answer of N realistic Pods (PodFixture), decoded three ways from the same bytes:
/// KubeCore's `JSONValue.parse` (what the reflector uses), Foundation's `JSONDecoder` into a typed Codable
/// model (what a generated typed client would do) and `JSONSerialization` (untyped Foundation); and encoded
/// back with `JSONValue.serializedBytes` (what the embedded API server does for each LIST and watch event).
public struct DecodePodsBench: Sendable {
    public var pods = 10_000
    public var warmup = 1
    public var iterations = 5

    public init(quick: Bool) {
        if quick { pods = 1_000; iterations = 3 }
    }

    public func run(log: (String) -> Void) throws -> [BenchFigure] {
        let name = "decode-pods"
        let bytes = PodFixture.podListBytes(count: pods)
        let data = Data(bytes)
        let megabytes = Double(bytes.count) / 1_000_000
        log("\(name): \(pods) pods, \(bytes.count / 1024) KiB (\(bytes.count / pods) bytes per pod)")
        var figures = [BenchFigure(name, "list size", Double(bytes.count) / 1_048_576, "MiB",
                                   note: "\(pods) pods, \(bytes.count / pods) B/pod")]

        // A decode that does not yield every item is a broken benchmark, not a fast one.
        func check(_ count: Int?, _ decoder: String) throws {
            guard count == pods else { throw BenchError.wrongResult("\(decoder) decoded \(count ?? -1) pods, expected \(pods)") }
        }
        let decoders: [(String, () throws -> Int?)] = [
            ("JSONValue.parse", { try JSONValue.parse(bytes)["items"]?.arrayValue?.count }),
            ("JSONDecoder (Codable Pod)", { try JSONDecoder().decode(PodListModel.self, from: data).items.count }),
            ("JSONSerialization", {
                ((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["items"] as? [Any])?.count
            }),
        ]
        for (decoder, decode) in decoders {
            log("\(name): \(decoder)…")
            try check(try decode(), decoder)
            let (samples, cpu) = try Measure.run(warmup: warmup, iterations: iterations) { _ = try decode() }
            // Memory on a separate, untimed run: the sampler thread would disturb the timing.
            let (_, peak) = try PeakSampler.measure { try decode() }
            figures.append(BenchFigure(name, "\(decoder): median", samples.median.milliseconds, "ms/list", note: "p99 \(fmt(samples.p99.milliseconds)) ms, n=\(samples.count); CPU \(fmt(cpu.median.milliseconds)) ms"))
            figures.append(BenchFigure(name, "\(decoder): throughput", megabytes / samples.median.seconds, "MB/s",
                                       note: "\(fmt(megabytes / cpu.median.seconds)) MB/s per CPU-second"))
            figures.append(BenchFigure(name, "\(decoder): peak RSS growth", Double(peak) / 1_048_576, "MiB",
                                       note: String(format: "%.1f× the input", Double(peak) / Double(bytes.count))))
        }
        // The other direction: the API server's LIST answer, written from the parsed tree (sorted keys, as the
        // fixture was written, so the bytes must come back the same).
        let tree = try JSONValue.parse(bytes)
        guard tree.serializedBytes() == bytes else { throw BenchError.wrongResult("serializedBytes did not reproduce the list") }
        log("\(name): JSONValue.serializedBytes…")
        let (samples, cpu) = try Measure.run(warmup: warmup, iterations: iterations) { _ = tree.serializedBytes() }
        figures.append(BenchFigure(name, "JSONValue.serializedBytes (encode): median", samples.median.milliseconds, "ms/list",
                                   note: "p99 \(fmt(samples.p99.milliseconds)) ms, n=\(samples.count); CPU \(fmt(cpu.median.milliseconds)) ms"))
        figures.append(BenchFigure(name, "JSONValue.serializedBytes (encode): throughput", megabytes / samples.median.seconds, "MB/s"))
        return figures
    }
}

public enum BenchError: Error, CustomStringConvertible {
    case wrongResult(String)
    case setup(String)
    case timeout(String)

    public var description: String {
        switch self {
        case .wrongResult(let m): "wrong result: \(m)"
        case .setup(let m): "set-up failed: \(m)"
        case .timeout(let m): "timed out: \(m)"
        }
    }
}

func fmt(_ v: Double) -> String { String(format: v >= 100 ? "%.0f" : "%.2f", v) }
