/// One kind of untrusted input, as a fuzz target and the replay tests (FuzzTests) feed it: any bytes in, and
/// the parser must answer with a value or an error, never trap, and hold memory in proportion to the input.
/// docs/testing.md#fuzzing lists the targets, their corpus (Fuzz/corpus/<name>) and how to run them.
public struct FuzzEntry: Sendable {
    /// What one input came to: parsed, or refused with this error text.
    public enum Outcome: Sendable, Equatable {
        case value
        case error(String)
    }

    /// The target's name: its executable is `Fuzz<name>`, its corpus `Fuzz/corpus/<name>`.
    public let name: String
    public let feed: @Sendable (UnsafeRawBufferPointer) -> Outcome

    public func callAsFunction(_ bytes: [UInt8]) -> Outcome {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// Every target, in the order `make fuzz` runs them.
    public static let all: [FuzzEntry] = [yaml, kubeconfig, watchStream, metricLines, containerScript, cel]

    public static func named(_ name: String) -> FuzzEntry? { all.first { $0.name == name } }

    /// The libFuzzer callback of target `name`: feeds one input (a crash or leak is the finding).
    public static func fuzz(_ name: String, _ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
        guard let entry = named(name) else { return -1 }  // -1: libFuzzer keeps the input out of the corpus
        _ = entry.feed(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    }
}

extension UnsafeRawBufferPointer {
    /// The input as text: invalid UTF-8 becomes U+FFFD, as it would where these parsers receive a String.
    var text: String { String(decoding: self, as: UTF8.self) }
}

/// Runs `body`, turning a thrown error into its description.
func outcome(_ body: () throws -> Void) -> FuzzEntry.Outcome {
    do {
        try body()
        return .value
    } catch {
        return .error(String(describing: error))
    }
}
