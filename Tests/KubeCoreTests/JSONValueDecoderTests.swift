import Foundation
import KubeCore
import Testing

/// `JSONValue.decode` (a Decoder over the tree) against Foundation's JSONDecoder on the same text: the same
/// values, and for bad input the same error, as `DecodingErrorText` words it for users (case, type and path).
@Suite struct JSONValueDecoderTests {
    enum Mode: String, Codable, Equatable { case fast, slow }

    struct Inner: Codable, Equatable {
        var count: Int
        var ratio: Double?
        var tags: [String]?
    }

    struct Model: Codable, Equatable {
        var name: String
        var mode: Mode
        var small: Int8?
        var big: UInt64?
        var flag: Bool?
        var score: Float?
        var inner: Inner?
        var list: [Inner]?
        var nested: [[Int]]?
        var map: [String: Inner]?
        var byNumber: [Int: String]?
        var free: JSONValue?
        var maybe: [String?]?
    }

    /// A decoder's answer: the model, or the error as users read it.
    enum Outcome<T: Equatable>: Equatable {
        case success(T)
        case failure(String)
        var value: T? { if case .success(let v) = self { v } else { nil } }
    }

    /// What each decoder makes of `text`.
    static func both<T: Decodable & Equatable>(_ text: String, as type: T.Type) throws -> (fast: Outcome<T>, foundation: Outcome<T>) {
        let value = try JSONValue.parse(text)
        func run(_ decode: () throws -> T) -> Outcome<T> {
            do { return .success(try decode()) } catch { return .failure(DecodingErrorText.describe(error)) }
        }
        return (run { try value.decode(T.self) }, run { try JSONDecoder().decode(T.self, from: Data(text.utf8)) })
    }

    static let valid = [
        #"{"name": "a", "mode": "fast"}"#,
        #"{"name": "b", "mode": "slow", "small": -128, "big": 9223372036854775807, "flag": false, "score": 0.5}"#,
        #"{"name": "c", "mode": "fast", "inner": {"count": 3, "ratio": 2, "tags": []}, "list": [{"count": 1}, {"count": 2, "ratio": 1.5}]}"#,
        #"{"name": "d", "mode": "fast", "nested": [[1, 2], [], [3]], "map": {"x": {"count": 0}}, "byNumber": {"1": "one", "20": "twenty"}}"#,
        #"{"name": "e", "mode": "fast", "free": {"a": [1, 2.5, "s", null, true, {"b": {}}]}, "maybe": ["x", null]}"#,
        #"{"name": "f", "mode": "fast", "inner": null, "small": null, "unknown": {"ignored": true}}"#,
        #"{"name": "g", "mode": "fast", "inner": {"count": 4.0}}"#,
    ]

    @Test(arguments: valid)
    func validInputDecodesToTheSameModel(text: String) throws {
        let (fast, foundation) = try Self.both(text, as: Model.self)
        #expect(fast == foundation, "\(text)")
        #expect(fast.value != nil, "\(fast)")
    }

    static let invalid = [
        #"{"mode": "fast"}"#,  // a required key missing
        #"{"name": null, "mode": "fast"}"#,  // null for a required value
        #"{"name": 3, "mode": "fast"}"#,  // a number for a string
        #"{"name": "a", "mode": "medium"}"#,  // not a case of the enum
        #"{"name": "a", "mode": "fast", "inner": {"count": "1"}}"#,
        #"{"name": "a", "mode": "fast", "list": [{"count": 1}, {"ratio": 1}]}"#,  // the path names the element
        #"{"name": "a", "mode": "fast", "list": {"count": 1}}"#,  // an object for an array
        #"{"name": "a", "mode": "fast", "inner": []}"#,  // an array for an object
        #"{"name": "a", "mode": "fast", "flag": "true"}"#,
        #"{"name": "a", "mode": "fast", "flag": 1}"#,
        #"{"name": "a", "mode": "fast", "nested": [[1], ["x"]]}"#,
        #"{"name": "a", "mode": "fast", "map": {"x": {"count": null}}}"#,
        #"{"name": "a", "mode": "fast", "byNumber": {"one": "1"}}"#,
        #"["not", "an", "object"]"#,
    ]

    @Test(arguments: invalid)
    func badInputFailsWithTheSameMessage(text: String) throws {
        let (fast, foundation) = try Self.both(text, as: Model.self)
        guard case .failure(let expected) = foundation else { Issue.record("JSONDecoder accepted \(text)"); return }
        #expect(fast == .failure(expected), "\(text)")
    }

    /// A number that does not fit: JSONDecoder says only "The given data was not valid JSON." at the top; this
    /// decoder names the field, the number and the type.
    @Test(arguments: [
        (#"{"name": "a", "mode": "fast", "small": 300}"#, "small: Parsed JSON number <300> does not fit in Int8."),
        (#"{"name": "a", "mode": "fast", "inner": {"count": 1.5}}"#, "inner.count: Parsed JSON number <1.5> does not fit in Int."),
        (#"{"name": "a", "mode": "fast", "big": -1}"#, "big: Parsed JSON number <-1> does not fit in UInt64."),
    ])
    func aNumberThatDoesNotFitIsNamedByField(text: String, message: String) throws {
        let (fast, foundation) = try Self.both(text, as: Model.self)
        #expect(foundation == .failure(": The given data was not valid JSON."))
        #expect(fast == .failure(message))
    }

    @Test func scalarsAtTheTopLevel() throws {
        #expect(try Self.both("42", as: Int.self).fast == Outcome.success(42))
        #expect(try Self.both("42", as: Double.self).fast == Outcome.success(42.0))
        #expect(try Self.both(#""s""#, as: String.self).fast == Outcome.success("s"))
        let (fast, foundation) = try Self.both("null", as: Int.self)
        #expect(fast == foundation)
        let tree = try JSONValue.parse(#"{"a": [1, {"b": null}]}"#)
        #expect(try tree.decode(JSONValue.self) == tree, "a JSONValue decodes to itself")
    }
}

/// `JSONValue.skimTopLevel`: one top-level member parsed alone, wherever it is, whatever the others hold.
@Suite struct JSONSkimTests {
    @Test func findsTheMemberFirstOrLastAndIgnoresLookalikesInside() throws {
        let token = #"{"continue":"abc","resourceVersion":"7"}"#
        let items = #"[{"metadata":{"continue":"inner"},"data":{"s":"a \"metadata\": {} ]}"}}, 1, -2.5e3, true, null]"#
        for text in [#"{"kind":"List","metadata":\#(token),"items":\#(items)}"#, #"{"items":\#(items),"kind":"List","metadata":\#(token)}"#,
                     " {\n \"items\" : \(items) , \"metadata\" : \(token) } "] {
            #expect(JSONValue.skimTopLevel(Array(text.utf8), key: "metadata")?["continue"] == "abc", "\(text)")
            #expect(JSONValue.skimTopLevel(Array(text.utf8), key: "items")?.arrayValue?.count == 5)
        }
        #expect(JSONValue.skimTopLevel(Array(#"{"items":[]}"#.utf8), key: "metadata") == nil)
        #expect(JSONValue.skimTopLevel(Array(#"{"items":[{"a":1}"#.utf8), key: "metadata") == nil, "cut short")
        #expect(JSONValue.skimTopLevel(Array("[1]".utf8), key: "metadata") == nil)
    }
}
