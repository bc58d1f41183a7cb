import Foundation
import KubeCore
import Testing

@testable import KubeYAML

/// Feeds emitted YAML to the real kubectl (`label --local` needs no server) and checks that kubectl reads the
/// same values back. Without kubectl every test fails naming the missing prerequisite (never a silent skip).
@Suite struct KubectlCrossCheckTests {
    static let kubectl = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    struct MissingPrerequisite: Error, CustomStringConvertible { var description: String }

    init() throws {
        guard Self.kubectl != nil else {
            throw MissingPrerequisite(description: "missing prerequisite: kubectl is not installed (no executable at /usr/bin/kubectl or /usr/local/bin/kubectl)")
        }
    }

    @Test func kubectlReadsEmittedDocumentsBack() async throws {
        var rng = SplitMix(seed: 42)
        let widgets: [JSONValue] = (0..<3).map { i in
            [
                "apiVersion": "example.com/v1",
                "kind": "Widget",
                "metadata": ["name": .string("w\(i)"), "namespace": "default"],
                "spec": [
                    "tricky": .array(trickyStrings.filter { !$0.contains("\u{0}") }.map { .string($0) }),
                    "numbers": [0, -1, .int(Int64.max), 1.5, -0.001, 1e20],
                    "flags": [true, false, .null],
                    "nested": [["a": [[:], []]], [:]],
                    "random": randomValue(depth: 0, &rng),
                ],
            ]
        }
        // One object per run: kubectl prints several objects as concatenated JSON documents.
        for widget in widgets {
            let text = YAML.emit(widget)
            let output = try await runKubectl(["label", "--local", "-f", "-", "-o", "json", "checked=yes"], input: text)
            var got = try JSONValue.parse(output)
            got[path: "metadata", "labels"] = nil
            #expect(normalized(got) == normalized(widget), "kubectl read:\n\(got)\nemitted:\n\(text)")
        }
        // A stream of documents is read as as many objects.
        let stream = YAML.emitDocuments(widgets)
        let names = try await runKubectl(["label", "--local", "-f", "-", "-o", "name", "checked=yes"], input: stream)
        #expect(names.split(separator: "\n").count == widgets.count, "kubectl read:\n\(names)")
    }

    @Test func weReadWhatKubectlWrites() async throws {
        let manifest = """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: settings
            data:
              a: "yes"
              b: "0123"
              c: |
                line one
                line two
              d: " padded "
              e: "1e3"
              f: "null"
            """
        let output = try await runKubectl(["label", "--local", "-f", "-", "-o", "yaml", "checked=yes"], input: manifest)
        let fromKubectl = try YAML.parse(output)
        var expected = try YAML.parse(manifest)
        expected[path: "metadata", "labels"] = ["checked": "yes"]
        #expect(fromKubectl == expected, "kubectl wrote:\n\(output)")
    }

    /// The scalar rules against the oracle: kubectl's own reading of the same plain scalars.
    @Test func plainScalarsResolveAsKubectlResolvesThem() async throws {
        let scalars = [
            "true", "True", "TRUE", "tRUE", "yes", "Yes", "YES", "y", "Y", "n", "N", "no", "NO", "on", "On", "off",
            "OFF", "~", "null", "Null", "NULL", "", "0", "42", "-42", "+42", "0x1F", "-0x10", "0o17", "017", "0b101",
            "1_000", "0x_1F", "08", "09.5", "1.5", "1e3", "1E3", "+1.5", ".5", "-.5", "1.", "1_000.5", ".5_5",
            "9223372036854775807", "-9223372036854775808", "99999999999999999999", "1e999", "12:30", "2024-01-02",
            "2024-01-02T03:04:05Z", "1.2.3", "0x", "0b", "1e", "._5", "-.nan", "inf", "100m", "v1", "=", "0.1",
        ]
        var lines = ["apiVersion: example.com/v1", "kind: Widget", "metadata:", "  name: scalars", "spec:"]
        for (i, s) in scalars.enumerated() { lines.append("  k\(i): \(s)") }
        let manifest = lines.joined(separator: "\n") + "\n"
        var ours = try YAML.parse(manifest)
        let output = try await runKubectl(["label", "--local", "-f", "-", "-o", "json", "checked=yes"], input: manifest)
        var theirs = try JSONValue.parse(output)
        theirs[path: "metadata", "labels"] = nil
        ours = normalized(ours)
        theirs = normalized(theirs)
        for (i, s) in scalars.enumerated() {
            #expect(ours[path: "spec", "k\(i)"] == theirs[path: "spec", "k\(i)"], "plain scalar `\(s)`")
        }
    }

    /// Anchors, aliases, merge keys (in either position, single and list) and non-string keys.
    @Test func mergeKeysAndMapKeysAsKubectlReadsThem() async throws {
        let manifest = """
            apiVersion: example.com/v1
            kind: Widget
            metadata:
              name: merges
            spec:
              a: &a {p: 1, q: 2, r: [x]}
              b: &b {q: 20, s: 30}
              first: {<<: *a, q: 3}
              last: {q: 3, <<: *a}
              list: {<<: [*b, *a], t: 4}
              listFirstWins: {<<: [*a, *b]}
              alias: *a
              keys: {1: int, 0x10: hex, true: bool, no: b2, 1.5: f, 1e6: big, 0.0001: small, 1234567: i}
            """
        let output = try await runKubectl(["label", "--local", "-f", "-", "-o", "json", "checked=yes"], input: manifest)
        var theirs = try JSONValue.parse(output)
        theirs[path: "metadata", "labels"] = nil
        #expect(try YAML.parse(manifest) == theirs)
    }

    /// Go's JSON writes integral floats without a fraction, so 1.0 comes back as 1: compare numbers by value.
    private func normalized(_ v: JSONValue) -> JSONValue {
        switch v {
        case .double(let d) where d.rounded() == d && abs(d) < 9e15: return .int(Int64(d))
        case .array(let a): return .array(a.map(normalized))
        case .object(let o): return .object(o.mapValues(normalized))
        default: return v
        }
    }

    /// Runs kubectl on a thread of its own: a blocking wait on the Swift concurrency pool (two threads on
    /// our machines) would stall every other test running in parallel.
    private func runKubectl(_ arguments: [String], input: String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try Self.runKubectlBlocking(arguments, input: input) })
            }
        }
    }

    private static func runKubectlBlocking(_ arguments: [String], input: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.kubectl ?? "kubectl")
        process.arguments = arguments
        // No cluster is contacted; an empty kubeconfig keeps a developer's real one out of the test.
        process.environment = ["KUBECONFIG": "/dev/null", "PATH": "/usr/bin:/bin"]
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "kubectl failed: \(String(decoding: err, as: UTF8.self))")
        return String(decoding: out, as: UTF8.self)
    }
}
