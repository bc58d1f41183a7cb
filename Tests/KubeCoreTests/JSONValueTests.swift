import Testing
@testable import KubeCore

@Suite struct JSONValueTests {
    @Test func parsesAndSerialisesRoundTrip() throws {
        let text = #"{"a":[1,2.5,true,null,"x\ny\u00e9"],"b":{"c":-9007199254740993},"d":"\ud83d\ude00"}"#
        let v = try JSONValue.parse(text)
        #expect(v["b"]?["c"] == .int(-9007199254740993))
        #expect(v["a"]?.arrayValue?[1] == .double(2.5))
        #expect(v["a"]?.arrayValue?[4] == .string("x\nyé"))
        #expect(v["d"] == .string("😀"))
        #expect(try JSONValue.parse(v.serialized()) == v)
    }

    @Test func rejectsMalformedInputWithOffset() {
        for bad in ["{", "[1,]", "{\"a\" 1}", "tru", "1 2", "\"abc", "{\"a\":01x}"] {
            #expect(throws: JSONParseError.self) { try JSONValue.parse(bad) }
        }
        do {
            _ = try JSONValue.parse("[1, ?]")
            Issue.record("expected an error")
        } catch {
            #expect(error.offset == 4)
        }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
    }

    @Test func pathSubscriptCreatesAndRemoves() {
        var v = JSONValue.emptyObject
        v[path: "metadata", "labels", "app"] = "x"
        #expect(v.labels == ["app": "x"])
        v.labels = [:]
        #expect(v[path: "metadata", "labels"] == nil)
        v.name = "n"
        #expect(v.objectKey == ObjectKey(namespace: nil, name: "n"))
    }

    @Test func nonFiniteDoublesSerialiseAsNull() {
        #expect(JSONValue.array([.double(.nan), .double(1.5)]).serialized() == "[null,1.5]")
    }
}

@Suite struct LabelSelectorTests {
    @Test func parsesEveryOperator() throws {
        let s = try LabelSelector.parse("app=web,tier!=db,env in (prod, staging),zone notin (a),gpu,!spot")
        #expect(s.requirements.count == 6)
        #expect(s.matches(["app": "web", "env": "prod", "gpu": "1"]))
        #expect(!s.matches(["app": "web", "env": "dev", "gpu": "1"]))
        #expect(!s.matches(["app": "web", "env": "prod", "gpu": "1", "spot": "true"]))
        #expect(!s.matches(["app": "web", "env": "prod"]))
        #expect(try LabelSelector.parse("a==b").matches(["a": "b"]))
    }

    @Test func rejectsUnparseable() {
        #expect(throws: LabelSelector.ParseError.self) { try LabelSelector.parse("a in b") }
    }
}

@Suite struct ConditionTests {
    @Test func transitionTimeChangesOnlyOnFlip() {
        var conditions: [Condition] = []
        conditions.set(Condition(type: "Ready", status: .false, reason: "Starting", message: ""), now: "t1")
        conditions.set(Condition(type: "Ready", status: .false, reason: "StillStarting", message: ""), now: "t2")
        #expect(conditions[type: "Ready"]?.lastTransitionTime == "t1")
        #expect(conditions[type: "Ready"]?.reason == "StillStarting")
        conditions.set(Condition(type: "Ready", status: .true, reason: "Up", message: ""), now: "t3")
        #expect(conditions[type: "Ready"]?.lastTransitionTime == "t3")
    }
}

@Suite struct WatchEventTests {
    @Test func decodesEveryTypeAndRejectsUnknown() throws {
        let added = try WatchEvent(json: ["type": "ADDED", "object": ["metadata": ["name": "a", "resourceVersion": "5"]]])
        #expect(added.object?.name == "a")
        let bookmark = try WatchEvent(json: ["type": "BOOKMARK", "object": ["metadata": ["resourceVersion": "9"]]])
        #expect(bookmark == .bookmark(resourceVersion: "9"))
        let error = try WatchEvent(json: ["type": "ERROR", "object": ["kind": "Status", "code": 410, "reason": "Expired", "message": "too old"]])
        guard case .error(let e) = error else { Issue.record("expected error"); return }
        #expect(e.isGone)
        #expect(throws: WatchEvent.DecodeError.self) { try WatchEvent(json: ["type": "SURPRISE", "object": [:]]) }
    }
}
