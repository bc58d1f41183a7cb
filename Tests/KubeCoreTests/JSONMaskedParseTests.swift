import Testing
@testable import KubeCore

/// `JSONValue.parseList(_:itemMask:droppingManagedFields:)` builds each item as `FieldMask.project` would leave
/// the fully parsed item, and refuses what `parse` refuses.
@Suite struct JSONMaskedParseTests {
    static func list(_ items: [String]) -> String {
        #"{"apiVersion":"v1","kind":"PodList","metadata":{"resourceVersion":"7","continue":"x"},"items":["# + items.joined(separator: ",") + "]}"
    }

    /// Both ways, the same result (or both refuse).
    static func agree(_ document: String, _ mask: FieldMask, droppingManagedFields: Bool = true,
                      sourceLocation: SourceLocation = #_sourceLocation) {
        let full: JSONValue?
        do {
            var parsed = try JSONValue.parse(Array(document.utf8), droppingManagedFields: droppingManagedFields)
            if let items = parsed["items"]?.arrayValue { parsed["items"] = .array(items.map(mask.project)) }
            full = parsed
        } catch { full = nil }
        let masked = try? JSONValue.parseList(Array(document.utf8), itemMask: mask, droppingManagedFields: droppingManagedFields)
        #expect(masked == full, "mask \(mask)", sourceLocation: sourceLocation)
    }

    static let pod = #"""
    {"metadata":{"name":"p","namespace":"ns","labels":{"a":"1","gantry.dev/x":"y"},"annotations":{"gantry.dev/attempt":"0","other":"big"},
     "managedFields":[{"manager":"kubelet","fieldsV1":{"f:status":{}}}],"ownerReferences":[{"uid":"u","controller":true}]},
     "spec":{"nodeName":"n","containers":[{"name":"c","image":"i","resources":{"limits":{"nvidia.com/gpu":"1"}}},{"name":"d"}]},
     "status":{"phase":"Running","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"t"},{"type":"Other","status":"False"},
     {"status":"x"}],"containerStatuses":[{"name":"c","state":{"running":{"startedAt":"t"}}}],"empty":{},"none":[]}}
    """#

    @Test func everyShapeOfMaskAgreesWithProjectingTheParsedItem() {
        let masks: [FieldMask] = [
            .all,
            .keys("metadata"),
            .object(keys: ["metadata": .object(keys: ["name": .all, "annotations": .object(keys: [:], prefixes: ["gantry.dev/": .all])])]),
            .object(keys: ["spec": .object(keys: ["containers": .elements(.keys("resources"))])]),
            .object(keys: ["status": .object(keys: ["conditions": .elements(.keys("status"), filterKey: "type", values: ["Ready"])])]),
            .object(keys: ["status": .object(keys: ["conditions": .elements(.keys("type", "status"), filterKey: "type", values: ["Nope"])])]),
            .object(keys: ["status": .keys("empty", "none", "missing")]),
            // Type mismatches: an object mask on a string, an elements mask on an object.
            .object(keys: ["metadata": .object(keys: ["name": .keys("x")]), "spec": .elements(.all)]),
            // A key whose own mask keeps nothing falls back to a prefix.
            .object(keys: ["metadata": .object(keys: ["labels": .keys("zzz")], prefixes: ["lab": .all])]),
            // managedFields named explicitly: still dropped when dropping.
            .object(keys: ["metadata": .keys("managedFields", "name")]),
            .object(keys: [:], prefixes: ["": .all]),
            .elements(.all),
        ]
        let documents = [Self.list([Self.pod, Self.pod, "{}", "3", "null", #"{"metadata":{"name":"q"},"metadata":{"name":"r"}}"#]),
                         Self.list([]), #"{"items":null}"#, #"{"metadata":{},"items":{"a":1}}"#, "[1,2]"]
        for document in documents {
            for mask in masks {
                Self.agree(document, mask)
                Self.agree(document, mask, droppingManagedFields: false)
            }
        }
    }

    @Test func malformedInputIsRefusedAsByParse() {
        for bad in [Self.list([#"{"a":}"#]), Self.list([#"{"metadata":{"name":"p""#]), Self.list([Self.pod]) + "x",
                    #"{"items":[{"metadata":{"managedFields":[1,]}}]}"#, #"{"items":[{"a":"\u00"}]}"#] {
            #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(bad.utf8)) }
            for mask in [FieldMask.keys("metadata"), .all, .keys("zzz")] {
                #expect(throws: JSONParseError.self, "\(bad) with \(mask)") {
                    try JSONValue.parseList(Array(bad.utf8), itemMask: mask, droppingManagedFields: true)
                }
            }
        }
    }

    @Test func nestingBeyondTheLimitIsRefusedInsideSkippedParts() {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        let document = #"{"items":[{"skipped":"# + deep + "}]}"
        #expect(throws: JSONParseError.self) {
            try JSONValue.parseList(Array(document.utf8), itemMask: .keys("metadata"), droppingManagedFields: true)
        }
    }

    @Test func keepsStringAtFollowsApply() {
        let masks: [FieldMask] = [.all, .keys("apiVersion"), .keys("kind"), .object(keys: ["apiVersion": .keys("x")]),
                                  .object(keys: [:], prefixes: ["api": .all]), .elements(.all)]
        for mask in masks {
            for key in ["apiVersion", "kind"] {
                let object: JSONValue = .object([key: "v1"])
                #expect(mask.keepsString(at: key) == (mask.apply(object)?[key] != nil), "\(mask) \(key)")
            }
        }
    }

    // MARK: watch events

    /// `parseWatchEvent` against `parse` followed by projecting the object of a resource event (or both refuse).
    static func agreeOnEvent(_ document: String, _ mask: FieldMask, droppingManagedFields: Bool = true,
                             sourceLocation: SourceLocation = #_sourceLocation) {
        let full: JSONValue?
        do {
            var parsed = try JSONValue.parse(Array(document.utf8), droppingManagedFields: droppingManagedFields)
            if let type = parsed["type"]?.stringValue, ["ADDED", "MODIFIED", "DELETED"].contains(type), let object = parsed["object"] {
                parsed["object"] = mask.project(object)
            }
            full = parsed
        } catch { full = nil }
        let masked = try? JSONValue.parseWatchEvent(Array(document.utf8), objectMask: mask, droppingManagedFields: droppingManagedFields)
        #expect(masked == full, "\(document.prefix(60)) with mask \(mask)", sourceLocation: sourceLocation)
    }

    @Test func watchEventsAgreeWithProjectingTheParsedObject() {
        let masks: [FieldMask] = [
            .all, .keys("metadata"), .keys("zzz"),
            .object(keys: ["metadata": .keys("name", "resourceVersion"), "status": .object(keys: [
                "conditions": .elements(.keys("status"), filterKey: "type", values: ["Ready"])])]),
            .object(keys: ["metadata": .keys("managedFields", "name")]),
        ]
        let status = #"{"kind":"Status","apiVersion":"v1","status":"Failure","code":410,"reason":"Expired","message":"too old"}"#
        let bookmark = #"{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"12","annotations":{"k8s.io/initial-events-end":"true"}}}"#
        let documents = [
            #"{"type":"ADDED","object":"# + Self.pod + "}",
            #"{"type":"MODIFIED","object":"# + Self.pod + "}",
            #"{"type":"DELETED","object":"# + Self.pod + "}",
            // The object before its type: parsed whole, then projected.
            #"{"object":"# + Self.pod + #","type":"MODIFIED"}"#,
            // Bookmarks and errors are never projected, whichever comes first.
            #"{"type":"BOOKMARK","object":"# + bookmark + "}",
            #"{"type":"ERROR","object":"# + status + "}",
            #"{"object":"# + status + #","type":"ERROR"}"#,
            // A duplicate type turning a resource event into an error after its object was read masked.
            #"{"type":"ADDED","object":"# + status + #","type":"ERROR"}"#,
            // A duplicate object: the last wins, masked or not.
            #"{"type":"ADDED","object":{"metadata":{"name":"a"}},"object":"# + Self.pod + "}",
            #"{"type":"ADDED","object":"3"}"#, #"{"type":"ADDED"}"#, #"{"type":7,"object":{"a":1}}"#, "{}", "[1]",
        ]
        for document in documents {
            for mask in masks {
                Self.agreeOnEvent(document, mask)
                Self.agreeOnEvent(document, mask, droppingManagedFields: false)
            }
        }
    }

    @Test func malformedWatchEventsAreRefusedAsByParse() {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        for bad in [#"{"type":"ADDED","object":{"a":}}"#, #"{"type":"ADDED","object":"# + Self.pod, #"{"type":"ADDED","object":{}}x"#,
                    #"{"type":"ADDED","object":{"skipped":"# + deep + "}}", #"{"type":"ADDED","object":{"a":"\u00"}}"#] {
            #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(bad.utf8)) }
            for mask in [FieldMask.keys("metadata"), .all, .keys("zzz")] {
                #expect(throws: JSONParseError.self, "\(bad.prefix(60)) with \(mask)") {
                    try JSONValue.parseWatchEvent(Array(bad.utf8), objectMask: mask, droppingManagedFields: true)
                }
            }
        }
    }
}
