import FuzzEntries
import Testing

/// The inputs that break parsers in practice: nesting far past any real document (a recursive descent would
/// overflow the stack, so it must be refused with an error), and single values or lines of several MiB.
@Suite struct HostileInputTests {
    static let deep = 100_000
    static let mib = 1 << 20

    static func repeated(_ text: String, _ count: Int) -> [UInt8] {
        Array(String(repeating: text, count: count).utf8)
    }

    static func refused(_ name: String, _ input: [UInt8], mentioning word: String,
                        sourceLocation: SourceLocation = #_sourceLocation) throws {
        let entry = try #require(FuzzEntry.named(name))
        let result = entry(input)
        guard case .error(let message) = result else {
            Issue.record("\(name): expected an error, got \(result)", sourceLocation: sourceLocation)
            return
        }
        #expect(message.lowercased().contains(word), "\(name): \(message)", sourceLocation: sourceLocation)
    }

    @Test func deepNestingIsRefusedWithAnError() throws {
        try Self.refused("YAML", Self.repeated("[", Self.deep), mentioning: "nesting")
        try Self.refused("YAML", Self.repeated("- ", Self.deep), mentioning: "nesting")
        try Self.refused("YAML", Self.repeated("{a: ", Self.deep), mentioning: "nesting")
        try Self.refused("Kubeconfig", Self.repeated("[", Self.deep), mentioning: "nesting")
        // A watch event is JSON: KubeCore's parser refuses the depth, the event is reported as undecodable.
        try Self.refused("WatchStream", [0] + Self.repeated("[", Self.deep) + Array("\n".utf8), mentioning: "nesting")
        try Self.refused("ContainerScript", Self.repeated("{a: ", Self.deep), mentioning: "nested")
        try Self.refused("ContainerScript", Self.repeated("[", Self.deep), mentioning: "nested")
        try Self.refused("CEL", Self.repeated("(", Self.deep), mentioning: "nested")
        try Self.refused("CEL", Self.repeated("!", Self.deep / 2) + Array("true".utf8), mentioning: "nested")
        try Self.refused("CEL", Self.repeated("[", Self.deep), mentioning: "nested")
    }

    @Test func longOperatorChainsAreRefusedOrBalanced() throws {
        // Loops parse `a + a + ...`, but the tree they build is as deep as the chain: evaluating or freeing it recurses.
        // (20,000 terms stay under cel-go's 100,000 code points; past that the size is refused first.)
        try Self.refused("CEL", Array(("1" + String(repeating: "+1", count: 20_000) + " > 0").utf8), mentioning: "nested")
        try Self.refused("CEL", Array(("self" + String(repeating: ".name", count: 15_000)).utf8), mentioning: "nested")
        try Self.refused("CEL", Array(("self.tags" + String(repeating: "[0]", count: 30_000)).utf8), mentioning: "nested")
        // `&&` and `||` chains are balanced, as cel-go builds them: long ones are fine.
        let cel = try #require(FuzzEntry.named("CEL"))
        #expect(cel(Array(("true" + String(repeating: " && true", count: 10_000)).utf8)) == .value)
        #expect(cel(Array(("false" + String(repeating: " || self.replicas > 0", count: 4_000)).utf8)) == .value)
        try Self.refused("CEL", Array(("1" + String(repeating: " + 1", count: Self.deep)).utf8), mentioning: "size")
    }

    @Test func scriptExpressionsNestedDeeplyAreRefused() throws {
        let deepExpression = String(repeating: "(", count: Self.deep) + "1" + String(repeating: ")", count: Self.deep)
        try Self.refused("ContainerScript", Array(#"{logs: [{every: 1s, template: "x", loss: {from: "\#(deepExpression)"}}]}"#.utf8),
                         mentioning: "nested")
        let chain = "1" + String(repeating: "+1", count: Self.deep)
        try Self.refused("ContainerScript", Array(#"{logs: [{every: 1s, template: "x", loss: {from: "\#(chain)"}}]}"#.utf8),
                         mentioning: "nested")
        let powers = "2" + String(repeating: "^2", count: Self.deep)
        try Self.refused("ContainerScript", Array(#"{logs: [{every: 1s, template: "x", loss: {from: "\#(powers)"}}]}"#.utf8),
                         mentioning: "nested")
        let minus = String(repeating: "-", count: Self.deep) + "1"
        try Self.refused("ContainerScript", Array(#"{logs: [{every: 1s, template: "x", loss: {from: "\#(minus)"}}]}"#.utf8),
                         mentioning: "nested")
    }

    @Test func enormousScalarsAndLinesAnswer() throws {
        let yaml = try #require(FuzzEntry.named("YAML"))
        let big = String(repeating: "x", count: 4 * Self.mib)
        #expect(yaml(Array("data: \(big)\n".utf8)) == .value)
        #expect(yaml(Array("data: \"\(big)\"\n".utf8)) == .value)

        let watch = try #require(FuzzEntry.named("WatchStream"))
        let event = #"{"type":"ADDED","object":{"metadata":{"name":"\#(big)"}}}"#
        // 1 KiB chunks (first byte 10): the line is framed across 4,096 chunks and decodes.
        #expect(watch([10] + Array(event.utf8) + [0x0A]) == .value)
        // Past the limit (first byte 0x8A: 256 bytes), the stream ends with an error instead of growing.
        try Self.refused("WatchStream", [0x8A] + Array(event.utf8), mentioning: "line")
        try Self.refused("WatchStream", [10] + Array(String(repeating: "y", count: 17 * Self.mib).utf8), mentioning: "line")

        let metrics = try #require(FuzzEntry.named("MetricLines"))
        #expect(metrics([0] + Array("step=1 loss=0.5 \(big)=1\n".utf8)) == .value)

        // cel-go's limit of 100,000 code points per expression, named with the size.
        try Self.refused("CEL", Array("'\(big)".utf8), mentioning: "exceeds limit")
        try Self.refused("CEL", Array("self.name == '\(big)'".utf8), mentioning: "exceeds limit")
        let script = try #require(FuzzEntry.named("ContainerScript"))
        #expect(script(Array(#"{logs: ["\#(big)"]}"#.utf8)) == .value)
    }

    @Test func extremeMetricValuesDoNotTrap() throws {
        let metrics = try #require(FuzzEntry.named("MetricLines"))
        // Threshold and patience messages format the value; a value past Int's range once trapped there.
        for value in ["1e300", "-1e300", "inf", "-inf", "nan", "9.3e18", "1.7976931348623157e308"] {
            for first: UInt8 in [0, 4, 8, 12] {
                #expect(metrics([first] + Array("step=1 loss=0.5\nstep=2 loss=\(value)\nstep=3 loss=\(value)\n".utf8)) == .value)
            }
        }
        // The step counts on from the last explicit one; near Int.max it once overflowed.
        let nearMax = "step=9223372036854774784 loss=1\n" + String(repeating: "loss=1\n", count: 2048)
        #expect(metrics([0] + Array(nearMax.utf8)) == .value)
    }
}
