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
}
