import Testing
@testable import KubeCore

/// `JSONValue.parse(_:droppingManagedFields:)`, as informers decode lists and watch events: every object's
/// `metadata.managedFields` is left out, nothing else is, and a malformed document is refused either way.
@Suite struct JSONParserManagedFieldsTests {
    static let managed = #"[{"manager":"kubectl","operation":"Update","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"c\"}":{}}}},"time":"2026-12-04T00:00:00Z"}]"#

    static func pod(_ name: String) -> String {
        #"{"metadata":{"name":"\#(name)","managedFields":\#(managed),"labels":{"app":"x"}},"spec":{"managedFields":[1],"containers":[{"name":"c"}]}}"#
    }

    @Test func listItemsAndWatchObjectsLoseOnlyTheirManagedFields() throws {
        let list = #"{"kind":"PodList","metadata":{"resourceVersion":"9"},"items":[\#(Self.pod("a")),\#(Self.pod("b"))]}"#
        let dropped = try JSONValue.parse(list, dropping: true)
        let whole = try JSONValue.parse(list)
        for (i, name) in ["a", "b"].enumerated() {
            let item = try #require(dropped["items"]?.arrayValue?[i])
            #expect(item[path: "metadata", "managedFields"] == nil)
            #expect(item[path: "metadata", "name"] == .string(name))
            #expect(item[path: "metadata", "labels", "app"] == "x")
            #expect(item[path: "spec", "managedFields"] == [1], "a field of that name outside metadata stays")
            var expected = try #require(whole["items"]?.arrayValue?[i])
            #expect(expected[path: "metadata", "managedFields"]?.arrayValue?.count == 1, "kept unless asked")
            expected[path: "metadata", "managedFields"] = nil
            #expect(item == expected)
        }
        let event = try JSONValue.parse(#"{"type":"ADDED","object":\#(Self.pod("c"))}"#, dropping: true)
        #expect(event[path: "object", "metadata", "managedFields"] == nil)
        #expect(event[path: "object", "metadata", "name"] == "c")
    }

    @Test func malformedManagedFieldsAreStillRefused() {
        for bad in [#"{"metadata":{"managedFields":[{"a":}]}}"#, #"{"metadata":{"managedFields":[1,]}}"#,
                    #"{"metadata":{"managedFields":{"a" 1}}}"#, #"{"metadata":{"managedFields":[tru]}}"#,
                    #"{"metadata":{"managedFields":["unterminated]}}"#, #"{"metadata":{"managedFields":[{}]"#] {
            #expect(throws: JSONParseError.self, "\(bad)") { try JSONValue.parse(bad, dropping: true) }
        }
        let deep = #"{"metadata":{"managedFields":"# + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}}"
        #expect(throws: JSONParseError.self, "nesting is bounded while skipping too") { try JSONValue.parse(deep, dropping: true) }
    }
}

extension JSONValue {
    static func parse(_ text: String, dropping: Bool) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8), droppingManagedFields: dropping)
    }
}
