import KubeCore
import Testing

@testable import KubeYAML

/// Strings that a careless emitter would write plain and a YAML 1.1 reader would then type or mangle.
let trickyStrings: [String] = [
    "yes", "no", "on", "off", "y", "n", "Y", "N", "true", "False", "TRUE", "null", "Null", "NULL", "~", "",
    "0123", "0x1F", "0o17", "0b101", "1_000", "1e3", "1.0", "1.", ".5", "+1", "-1", "-0", "1e999", ".inf", "-.Inf",
    ".nan", "12:30:00", "2024-01-02", "2024-01-02T03:04:05Z", "<<", "=", " a", "a ", " ", "  two  ", "a: b", "a:b",
    "- x", "-", "--", "---", "...", "#x", "a #b", "a#b", "? x", "?", ":", ": x", "[a]", "{a}", "a, b", "&a", "*a",
    "!tag", "|", ">", "@x", "`x", "%x", "'", "\"", "'quoted'", "\"dq\"", "back\\slash", "tab\there",
    "multi\nline", "multi\nline\n", "trailing\n\n", "\n", "\nleading", "  indented\nblock\n", "last line ",
    "a\n b\n", "cr\rlf", "crlf\r\n", "nel\u{85}", "ls\u{2028}ps\u{2029}", "nul\u{0}", "bell\u{7}",
    "é", "日本語", "😀 emoji", "\u{FEFF}bom", "ünïcödé: yes", "x\n\ty\n", "ends with colon:", "k8s.io/name",
    "https://example.com/a?b=c#d", "*", "&", "!", "%", "@", "a'b", "a\"b", "1.2.3", "v1.0", "100m", "1Gi",
    String(repeating: "long words ", count: 40), "x:\n  - y\n", "{\"json\": true}",
]

@Suite struct EmitterTests {
    @Test(arguments: trickyStrings)
    func stringsRoundTrip(_ s: String) throws {
        let value: JSONValue = ["key": .string(s), "list": [.string(s)], "nested": .object([s: .string(s)])]
        let text = YAML.emit(value)
        #expect(try YAML.parse(text) == value, "emitted:\n\(text)")
    }

    @Test func scalarsRoundTrip() throws {
        let values: [JSONValue] = [
            .null, true, false, 0, 1, -1, .int(Int64.max), .int(Int64.min), 1.5, -0.25, 1.0, 100.0, 1e20, 1e-7,
            .double(.leastNonzeroMagnitude), 1.7976931348623157e308, .double(.infinity), .double(-.infinity), 0.1, 123456789.125,
        ]
        for v in values {
            let text = YAML.emit(v)
            #expect(try YAML.parse(text) == v, "emitted: \(text)")
            let wrapped: JSONValue = ["v": v, "l": [v, v]]
            #expect(try YAML.parse(YAML.emit(wrapped)) == wrapped)
        }
        guard case .double(let d) = try YAML.parse(YAML.emit(.double(.nan))) else {
            Issue.record("NaN did not come back as a float")
            return
        }
        #expect(d.isNaN)
    }

    @Test func collectionsRoundTrip() throws {
        let value: JSONValue = [
            "apiVersion": "v1",
            "kind": "List",
            "items": [
                ["metadata": ["name": "a", "labels": ["app": "web", "tier": "yes"], "annotations": [:]]],
                ["spec": ["containers": [["name": "c", "args": ["--flag", "0123", ""], "env": []]]]],
                [], [:], [[]], [[:]], [[1, [2, [3]]]], .null,
            ],
            "empty": [:],
            "emptyList": [],
            "": "empty key",
            "yes": "key that looks boolean",
            "1": "key that looks numeric",
            "a: b": "key with colon",
            "multi\nline key": "value",
        ]
        let text = YAML.emit(value)
        #expect(try YAML.parse(text) == value, "emitted:\n\(text)")
    }

    @Test func generatedValuesRoundTrip() throws {
        var rng = SplitMix(seed: 0x5EED)
        for _ in 0..<200 {
            let value = randomValue(depth: 0, &rng)
            let text = YAML.emit(value)
            #expect(try YAML.parse(text) == value, "emitted:\n\(text)")
        }
    }

    @Test func blockStyleWithSortedKeysAndQuoting() {
        let value: JSONValue = [
            "metadata": ["name": "web", "labels": ["b": "2", "a": "yes"]],
            "spec": ["replicas": 3, "ports": [80, 443], "script": "echo hi\necho bye\n", "ratio": 0.5, "empty": ""],
            "apiVersion": "v1",
        ]
        let expected = """
            apiVersion: v1
            metadata:
              labels:
                a: "yes"
                b: "2"
              name: web
            spec:
              empty: ""
              ports:
              - 80
              - 443
              ratio: 0.5
              replicas: 3
              script: |
                echo hi
                echo bye

            """
        #expect(YAML.emit(value) == expected)
    }

    @Test func syntaxLookalikesAreQuoted() {
        #expect(YAML.emit(["a": "- x"]) == "a: '- x'\n")
        #expect(YAML.emit(["a": "#x"]) == "a: '#x'\n")
        #expect(YAML.emit(["a": " a"]) == "a: ' a'\n")
        #expect(YAML.emit(["a": "null"]) == "a: \"null\"\n")
        #expect(YAML.emit(["a": "1e3"]) == "a: \"1e3\"\n")
        #expect(YAML.emit(["a": "plain text"]) == "a: plain text\n")
        #expect(YAML.emit(["a": 1.0]) == "a: 1.0\n")
        #expect(YAML.emit([:]) == "{}\n")
        #expect(YAML.emit([]) == "[]\n")
    }

    @Test func documentsAreJoinedWithSeparators() throws {
        let docs: [JSONValue] = [["kind": "A"], ["kind": "B"], "scalar", ["multi": "x\n"]]
        let text = YAML.emitDocuments(docs)
        #expect(text.hasPrefix("kind: A\n---\nkind: B\n---\n"))
        #expect(try YAML.parseDocuments(text) == docs)
        #expect(YAML.emitDocuments([]) == "")
    }
}

// MARK: - Random values

/// A tiny deterministic generator so failures reproduce.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomString(_ rng: inout SplitMix) -> String {
    if Bool.random(using: &rng), let s = trickyStrings.randomElement(using: &rng) { return s }
    let alphabet = Array("ab:- #'\"\n\t{}[],&*!|>%@`é😀0123456789.eE+_~yYnN")
    return String((0..<Int.random(in: 0...12, using: &rng)).compactMap { _ in alphabet.randomElement(using: &rng) })
}

func randomValue(depth: Int, _ rng: inout SplitMix) -> JSONValue {
    switch Int.random(in: 0..<(depth > 3 ? 6 : 9), using: &rng) {
    case 0: return .null
    case 1: return .bool(Bool.random(using: &rng))
    case 2: return .int(Int64.random(in: Int64.min...Int64.max, using: &rng) >> Int64.random(in: 0...63, using: &rng))
    case 3: return .double(Double.random(in: -1e6...1e6, using: &rng))
    case 4, 5: return .string(randomString(&rng))
    case 6: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in randomValue(depth: depth + 1, &rng) })
    default:
        var object: [String: JSONValue] = [:]
        for _ in 0..<Int.random(in: 0...4, using: &rng) {
            object[randomString(&rng)] = randomValue(depth: depth + 1, &rng)
        }
        return .object(object)
    }
}

@Suite struct LargeDocumentTests {
    /// About 2 MB of YAML, the size of a large CRD bundle: must stay fast (no quadratic appends).
    @Test func largeDocumentRoundTrips() throws {
        let items: [JSONValue] = (0..<20_000).map { i in
            ["name": .string("item-\(i)"), "index": .int(Int64(i)), "labels": ["app": "web", "on": "yes"], "ratio": 0.5]
        }
        let value: JSONValue = ["kind": "List", "items": .array(items)]
        let clock = ContinuousClock()
        let start = clock.now
        let text = YAML.emit(value)
        let emitted = clock.now
        let back = try YAML.parse(text)
        let parsed = clock.now
        print("large document: \(text.utf8.count) bytes, emit \(emitted - start), parse \(parsed - emitted)")
        #expect(back == value)
    }
}
