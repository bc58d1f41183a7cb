import KubeCore
import Testing
@testable import EmbeddedCluster

/// The patch algorithms on their own (RFC 7386, RFC 6902, strategic merge).
struct PatchTests {
    @Test func mergePatch() throws {
        let target = try JSONValue.parse(#"{"a":"b","c":{"d":"e","f":"g"},"l":[1,2]}"#)
        let patch = try JSONValue.parse(#"{"a":"z","c":{"f":null},"l":[3]}"#)
        #expect(MergePatch.apply(patch, to: target) == (try JSONValue.parse(#"{"a":"z","c":{"d":"e"},"l":[3]}"#)))
    }

    @Test func jsonPatch() throws {
        let doc = try JSONValue.parse(#"{"metadata":{"finalizers":["a","b"]},"x":{"y":1}}"#)
        let ops = try JSONValue.parse(#"[{"op":"test","path":"/metadata/finalizers/1","value":"b"},{"op":"remove","path":"/metadata/finalizers/1"},{"op":"add","path":"/metadata/finalizers/-","value":"c"},{"op":"replace","path":"/x/y","value":2},{"op":"copy","from":"/x","path":"/z"},{"op":"move","from":"/z/y","path":"/w"}]"#)
        let out = try JSONPatch.apply(ops, to: doc)
        #expect(out == (try JSONValue.parse(#"{"metadata":{"finalizers":["a","c"]},"x":{"y":2},"z":{},"w":2}"#)))
        #expect(throws: JSONPatch.Failure.self) { try JSONPatch.apply(try JSONValue.parse(#"[{"op":"test","path":"/x/y","value":9}]"#), to: doc) }
        #expect(throws: JSONPatch.Failure.self) { try JSONPatch.apply(try JSONValue.parse(#"[{"op":"replace","path":"/nope","value":9}]"#), to: doc) }
        // RFC 6901 escapes.
        let escaped = try JSONPatch.apply(try JSONValue.parse(#"[{"op":"add","path":"/metadata/annotations","value":{}},{"op":"add","path":"/metadata/annotations/a~1b","value":"v"}]"#), to: doc)
        #expect(escaped[path: "metadata", "annotations", "a/b"] == "v")
    }

    @Test func strategicMerge() throws {
        let pod = try JSONValue.parse(#"{"metadata":{"finalizers":["a"]},"spec":{"containers":[{"name":"main","image":"v1","env":[{"name":"A","value":"1"}]},{"name":"side","image":"s"}],"volumes":[{"name":"data"}]}}"#)
        let patch = try JSONValue.parse(#"{"metadata":{"finalizers":["b"]},"spec":{"$setElementOrder/containers":[{"name":"main"},{"name":"side"}],"containers":[{"name":"main","image":"v2","env":[{"name":"B","value":"2"}]},{"name":"side","$patch":"delete"}],"volumes":[{"name":"cache"}]}}"#)
        let out = try StrategicMerge.apply(patch, to: pod)
        let containers = out[path: "spec", "containers"]?.arrayValue ?? []
        #expect(containers.count == 1)
        #expect(containers.first?["image"] == "v2")
        #expect(containers.first?["env"]?.arrayValue?.count == 2)
        #expect(out[path: "spec", "volumes"]?.arrayValue?.count == 2)
        #expect(out.finalizers == ["a", "b"])
        let retain = try StrategicMerge.apply(try JSONValue.parse(#"{"spec":{"$retainKeys":["containers"],"containers":[{"name":"main","image":"v3"}]}}"#), to: pod)
        #expect(retain[path: "spec", "volumes"] == nil)
    }

    @Test func selectorsParse() throws {
        let q = try LabelQuery(parsing: "env in (prod, staging),tier!=db,!legacy,app")
        #expect(q.matches(["env": "prod", "tier": "web", "app": "x"]))
        #expect(!q.matches(["env": "prod", "tier": "db", "app": "x"]))
        #expect(!q.matches(["env": "prod", "app": "x", "legacy": "1"]))
        #expect(!q.matches(["env": "dev", "app": "x"]))
        #expect(throws: APIStatusError.self) { try LabelQuery(parsing: "a in b") }
        #expect(JSONPathLite.evaluate(#".status.conditions[?(@.type=="Ready")].status"#,
                                      try JSONValue.parse(#"{"status":{"conditions":[{"type":"A","status":"False"},{"type":"Ready","status":"True"}]}}"#)) == "True")
    }
}
