import Foundation
import GantryTestSupport
import KubeCore
import Testing
@testable import EmbeddedCluster

/// `metadata.managedFields` as kube-apiserver writes it: FieldsV1 encoding, Apply and Update entries, what clients
/// may write, kubectl's view, and persistence (ManagedFields/, Apply.swift).
struct ManagedFieldsTests {
    static let cms = "/api/v1/namespaces/default/configmaps"
    static let pods = "/api/v1/namespaces/default/pods"

    static func entries(_ obj: JSONValue) -> [JSONValue] { obj[path: "metadata", "managedFields"]?.arrayValue ?? [] }
    static func entry(_ obj: JSONValue, _ manager: String, _ operation: String) -> JSONValue? {
        entries(obj).first { $0["manager"]?.stringValue == manager && $0["operation"]?.stringValue == operation }
    }

    /// Upstream's encoding (structured-merge-diff fieldpath): `f:` fields, `k:` list-map keys from the schema's
    /// list-map keys, `v:` set values, `.` for an element that is itself owned.
    @Test func fieldsV1EncodingOfAPod() throws {
        let pod = try JSONValue.parse(#"""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","uid":"u","labels":{"app":"a"},"finalizers":["x/y"]},
             "spec":{"containers":[{"name":"main","image":"i","ports":[{"containerPort":80,"protocol":"TCP"}],"args":["a","b"]}]},
             "status":{"phase":"Pending"}}
            """#)
        let info = try #require(BuiltinKinds.all.first { $0.kind == "Pod" && $0.group.isEmpty })
        let schema = BuiltinSchemas.vendored.resolve(["$ref": .string("#/components/schemas/" + (BuiltinSchemas.vendored.definitionName(info) ?? ""))]).schema
        let typed = TypedFields(pod, schema: schema, builtin: true, part: .main)
        let expected = try JSONValue.parse(#"""
            {"f:metadata":{"f:labels":{"f:app":{}},"f:finalizers":{"v:\"x/y\"":{}}},
             "f:spec":{"f:containers":{"k:{\"name\":\"main\"}":{".":{},"f:name":{},"f:image":{},"f:args":{},
               "f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:protocol":{}}}}}}}
            """#)
        #expect(typed.members.fieldsV1 == expected, "\(typed.members.fieldsV1)")
        #expect(FieldSet(fieldsV1: expected) == typed.members, "FieldsV1 reads back to the same set")
        #expect(FieldSet(fieldsV1: ["f:a": ["x:bad": .emptyObject]]) == nil, "an unknown path element is refused")
        let port: OwnedPath = [.field("spec"), .field("containers"), .key(["name": "main"]), .field("ports"),
                               .key(["containerPort": 80, "protocol": "TCP"]), .field("containerPort")]
        #expect(port.described == #".spec.containers[name="main"].ports[containerPort=80,protocol="TCP"].containerPort"#)
        #expect(pod[fieldPath: port] == 80)
    }

    @Test func applyAndUpdatesRecordTheirFields() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s, labels: {app: demo}}\ndata: {mode: fast}\n"
            var (code, body) = await t.curl("PATCH", Self.cms + "/s?fieldManager=alice", body: cm, contentType: "application/apply-patch+yaml")
            #expect(code == 201, "\(body)")
            var obj = try JSONValue.parse(body)
            let alice = try #require(Self.entry(obj, "alice", "Apply"), "\(obj)")
            #expect(alice["apiVersion"] == "v1" && alice["fieldsType"] == "FieldsV1" && alice["time"]?.stringValue != nil)
            #expect(alice["fieldsV1"] == (parsed(#"{"f:data":{"f:mode":{}},"f:metadata":{"f:labels":{"f:app":{}}}}"#)))
            // The same apply again changes nothing: no new resourceVersion, the entry's time kept.
            (code, body) = await t.curl("PATCH", Self.cms + "/s?fieldManager=alice", body: cm, contentType: "application/apply-patch+yaml")
            #expect(code == 200 && (parsed(body)).resourceVersion == obj.resourceVersion, "\(body)")
            // A merge patch by bob (Update) takes the field it changes from alice.
            (code, body) = await t.curl("PATCH", Self.cms + "/s?fieldManager=bob", body: #"{"data":{"mode":"slow","extra":"1"}}"#,
                                        contentType: "application/merge-patch+json")
            #expect(code == 200, "\(body)")
            obj = try JSONValue.parse(body)
            #expect(Self.entry(obj, "bob", "Update")?["fieldsV1"] == (parsed(#"{"f:data":{"f:extra":{},"f:mode":{}}}"#)), "\(obj)")
            #expect(Self.entry(obj, "alice", "Apply")?["fieldsV1"] == (parsed(#"{"f:metadata":{"f:labels":{"f:app":{}}}}"#)))
            #expect(Self.entries(obj).map { $0["operation"]?.stringValue } == ["Apply", "Update"], "sorted as upstream")
            // alice applying her old value now conflicts with bob.
            (code, body) = await t.curl("PATCH", Self.cms + "/s?fieldManager=alice", body: cm, contentType: "application/apply-patch+yaml")
            #expect(code == 409 && body.contains(#"conflict with \"bob\""#) && body.contains(".data.mode"), "\(body)")
            // A write without fieldManager is the User-Agent's program name's.
            (code, body) = await t.curl("PATCH", Self.cms + "/s", body: #"{"data":{"tool":"x"}}"#,
                                        contentType: "application/merge-patch+json", headers: ["User-Agent: my-tool/1.2 (linux/amd64)"])
            #expect(Self.entry(parsed(body), "my-tool", "Update") != nil, "\(body)")
            // Forcing takes the field; fields alice no longer applies and nobody else owns are removed.
            (code, body) = await t.curl("PATCH", Self.cms + "/s?fieldManager=alice&force=true",
                                        body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\ndata: {mode: fast}\n",
                                        contentType: "application/apply-patch+yaml")
            obj = try JSONValue.parse(body)
            #expect(code == 200 && obj[path: "data", "mode"] == "fast" && obj.labels["app"] == nil, "\(body)")
            #expect(Self.entry(obj, "bob", "Update")?["fieldsV1"] == (parsed(#"{"f:data":{"f:extra":{}}}"#)))

            // A pod's containers are owned per element by name; a status write records the subresource.
            let pod = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"main","image":"busybox"}]}}"#
            (code, body) = await t.curl("POST", Self.pods + "?fieldManager=maker", body: pod)
            #expect(code == 201, "\(body)")
            let made = try #require(Self.entry(parsed(body), "maker", "Update"))
            let fields = try #require(made[path: "fieldsV1", "f:spec", "f:containers", #"k:{"name":"main"}"#], "\(made)")
            #expect(fields["."] == .emptyObject && fields["f:image"] == .emptyObject)
            #expect(made[path: "fieldsV1", "f:status"] == nil, "status is not the main resource's")
            (code, body) = await t.curl("PATCH", Self.pods + "/p/status?fieldManager=kubelet", body: #"{"status":{"phase":"Running"}}"#,
                                        contentType: "application/merge-patch+json")
            let kubelet = try #require(Self.entry(parsed(body), "kubelet", "Update"), "\(body)")
            #expect(kubelet["subresource"] == "status" && kubelet[path: "fieldsV1", "f:status", "f:phase"] == .emptyObject, "\(kubelet)")
        }
    }

    /// A client may replace managedFields with valid entries or strip them with `[{}]`; an empty list or entries
    /// that do not decode leave them as they are; an applied configuration may not carry them.
    @Test func clientsWriteManagedFieldsOnlyAsUpstreamAllows() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var (code, body) = await t.curl("POST", Self.cms + "?fieldManager=maker", body: #"{"metadata":{"name":"m"},"data":{"a":"1"}}"#)
            #expect(code == 201)
            let stored = Self.entries(parsed(body))
            #expect(stored.count == 1)
            (code, body) = await t.curl("PATCH", Self.cms + "/m", body: #"{"metadata":{"managedFields":[]}}"#, contentType: "application/merge-patch+json")
            #expect(Self.entries(parsed(body)) == stored, "[] keeps them: \(body)")
            (code, body) = await t.curl("PATCH", Self.cms + "/m", body: #"{"metadata":{"managedFields":[{"manager":"x","operation":"Bogus","fieldsType":"FieldsV1","fieldsV1":{}}]}}"#,
                                        contentType: "application/merge-patch+json")
            #expect(Self.entries(parsed(body)) == stored, "undecodable entries keep them: \(body)")
            (code, body) = await t.curl("PATCH", Self.cms + "/m", body: #"{"metadata":{"managedFields":[{}]}}"#, contentType: "application/merge-patch+json")
            #expect(code == 200 && (parsed(body))[path: "metadata", "managedFields"] == nil, "[{}] strips them: \(body)")
            (code, body) = await t.curl("PATCH", Self.cms + "/m?fieldManager=a",
                                        body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m, managedFields: [{manager: a}]}\n",
                                        contentType: "application/apply-patch+yaml")
            #expect(code == 400 && body.contains("metadata.managedFields must be nil"), "\(body)")
        }
    }

    /// kubectl hides managedFields unless asked, and its client-side to server-side apply upgrade (which rewrites
    /// managedFields with a JSON patch) leaves kubectl owning the fields; alike with the installed kubectl, 1.27
    /// and 1.33 (one ConfigMap each).
    @Test func kubectlShowsManagedFieldsWhenAsked() async throws {
        let kubectls = [TestCluster.kubectlPath] + (try Prerequisite.kubectl127And133())
        try await withCluster(TestCluster.bare()) { t async throws in
            for (i, kubectl) in kubectls.enumerated() {
                func run(_ args: String..., stdin: String? = nil) async -> CommandResult {
                    await t.kubectl(release: kubectl, args: args, stdin: stdin)
                }
                let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: k\(i)}\ndata: {mode: fast}\n"
                var r = await run("apply", "-f", "-", stdin: cm)
                #expect(r.ok, "\(kubectl): \(r.stderr)")
                r = await run("apply", "--server-side", "-f", "-", stdin: cm.replacingOccurrences(of: "fast", with: "slow"))
                #expect(r.ok && r.stdout.contains("configmap/k\(i) serverside-applied"), "\(kubectl): \(r.stdout) \(r.stderr)")
                r = await run("get", "configmap", "k\(i)", "-o", "yaml")
                #expect(r.ok && !r.stdout.contains("managedFields"), "\(kubectl): \(r.stdout)")
                r = await run("get", "configmap", "k\(i)", "-o", "yaml", "--show-managed-fields")
                #expect(r.stdout.contains("managedFields:") && r.stdout.contains("manager: kubectl") && r.stdout.contains("operation: Apply")
                        && r.stdout.contains("f:mode: {}") && r.stdout.contains("fieldsType: FieldsV1"), "\(kubectl): \(r.stdout)")
                r = await run("get", "configmap", "k\(i)", "-o", "json", "--show-managed-fields")
                let obj = try JSONValue.parse(r.stdout)
                #expect(Self.entry(obj, "kubectl-client-side-apply", "Update")?[path: "fieldsV1", "f:data"] == nil,
                        "\(kubectl) moved the client-side fields to its apply entry: \(obj)")
                #expect(Self.entry(obj, "kubectl", "Apply")?[path: "fieldsV1", "f:data", "f:mode"] == .emptyObject, "\(kubectl): \(obj)")
                // Another manager's server-side apply of the same field conflicts, named as upstream does; --force-conflicts takes it.
                r = await run("apply", "--server-side", "--field-manager=other", "-f", "-", stdin: cm)
                #expect(!r.ok && r.stderr.contains(#"conflict with "kubectl""#) && r.stderr.contains(".data.mode"), "\(kubectl): \(r.stderr)")
                r = await run("apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", "-", stdin: cm)
                #expect(r.ok, "\(kubectl): \(r.stderr)")
                let taken = try JSONValue.parse(await run("get", "configmap", "k\(i)", "-o", "json", "--show-managed-fields").stdout)
                #expect(Self.entry(taken, "other", "Apply")?[path: "fieldsV1", "f:data", "f:mode"] == .emptyObject
                        && Self.entry(taken, "kubectl", "Apply")?[path: "fieldsV1", "f:data", "f:mode"] == nil, "\(kubectl): \(taken)")
            }
        }
    }

    /// Ownership is part of the stored object: after a restart on the same data directory a conflict is still one.
    @Test func managedFieldsSurviveARestart() async throws {
        let t = try await TestCluster.bare(DevClusterOptions(dataDir: "<temp>"))
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: r}\ndata: {mode: fast}\n"
        let (code, body) = await t.curl("PATCH", Self.cms + "/r?fieldManager=alice", body: cm, contentType: "application/apply-patch+yaml")
        #expect(code == 201, "\(body)")
        let before = try JSONValue.parse(body)[path: "metadata", "managedFields"]
        await t.cluster.stop()
        try await withCluster(TestCluster.bare(reusing: t.dir, DevClusterOptions(dataDir: t.dir + "/data"))) { t2 async throws in
            #expect(try await t2.json(Self.cms + "/r")[path: "metadata", "managedFields"] == before)
            let (code, body) = await t2.curl("PATCH", Self.cms + "/r?fieldManager=bob", body: cm.replacingOccurrences(of: "fast", with: "slow"),
                                             contentType: "application/apply-patch+yaml")
            #expect(code == 409 && body.contains(#"conflict with \"alice\""#), "\(body)")
        }
    }
}

/// JSON text as a value (null when it is not JSON), usable inside `#expect` conditions.
func parsed(_ text: String) -> JSONValue { (try? JSONValue.parse(text)) ?? .null }
