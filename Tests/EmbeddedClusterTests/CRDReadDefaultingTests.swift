import Foundation
import GantryTestSupport
import KubeCore
@testable import EmbeddedCluster

import Testing

/// kube-apiserver defaults a custom resource every time it decodes one from etcd, not only when it is written
/// (KEP-575; "Defaulting" in the CRD documentation): a default added to a CRD after an object was stored shows on
/// every read of that object (GET, LIST, WATCH, the base a patch applies to), is not stored until the object's next
/// write, and storing it changes no generation. docs/embedded-cluster.md.
@Suite struct CRDReadDefaultingTests {
    static func crd(retries: String) -> String {
        ExampleCRD.yaml(plural: "widgets", kind: "Widget", properties: """
        spec:
          type: object
          properties:
            image: {type: string}
            retries: {\(retries)}
        status: {type: object, x-kubernetes-preserve-unknown-fields: true}
        """)
    }

    static let path = "/apis/example.com/v1/namespaces/default/widgets"

    @Test func aDefaultAddedLaterIsSeenOnEveryReadAndStoredAtTheNextWrite() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var r = await t.kubectl("apply", "-f", "-", stdin: Self.crd(retries: "type: integer, maximum: 10"))
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("wait", "--for=condition=Established", "--timeout=20s", "crd/widgets.example.com")
            #expect(r.ok, "\(r.stderr)")
            for name in ["old", "other"] {
                r = await t.kubectl("apply", "-f", "-", stdin: "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: \(name)}\nspec: {image: x}\n")
                #expect(r.ok, "\(r.stderr)")
            }
            let before = try #require(await t.cluster.store.get("widgets.example.com", namespace: "default", name: "old"))
            #expect(before[path: "spec", "retries"] == nil)

            // The CRD gains a default for a field the stored objects lack.
            r = await t.kubectl("apply", "-f", "-", stdin: Self.crd(retries: "type: integer, maximum: 10, default: 2"))
            #expect(r.ok, "\(r.stderr)")

            // GET and LIST answer the default; storage still lacks it (same resourceVersion, nothing written).
            let got = try await t.json(Self.path + "/old")
            #expect(got[path: "spec", "retries"] == 2)
            #expect(got[path: "spec", "image"] == "x")
            let listed = try await t.json(Self.path)
            #expect(listed["items"]?.arrayValue?.map { $0[path: "spec", "retries"] } == [2, 2])
            let stored = try #require(await t.cluster.store.get("widgets.example.com", namespace: "default", name: "old"))
            #expect(stored[path: "spec", "retries"] == nil)
            #expect(stored.resourceVersion == before.resourceVersion)
            #expect(got.resourceVersion == before.resourceVersion)

            // WATCH from resourceVersion 0: the ADDED events of the current (stored, undefaulted) state carry it.
            let watch = Task { await t.curl("GET", Self.path + "?watch=true&timeoutSeconds=120&resourceVersion=0", maxTime: 120) }
            #expect(try await eventually { await t.cluster.store.openWatchCount == 1 })

            // A JSON patch applies to the object as read: `test` finds the default.
            r = await t.kubectl("patch", "widget", "old", "--type=json",
                                "-p", #"[{"op":"test","path":"/spec/retries","value":2},{"op":"add","path":"/metadata/labels","value":{"seen":"yes"}}]"#)
            #expect(r.ok, "\(r.stderr)")
            // A write stores the default, and the generation stays 1: the spec as read did not change.
            r = await t.kubectl("label", "widget", "other", "seen=yes")
            #expect(r.ok, "\(r.stderr)")
            let written = try #require(await t.cluster.store.get("widgets.example.com", namespace: "default", name: "other"))
            #expect(written[path: "spec", "retries"] == 2)
            #expect(written[path: "metadata", "labels", "seen"] == "yes")
            #expect(written[path: "metadata", "generation"] == 1)

            await t.cluster.dropWatches()  // every event committed before is written first
            let (code, body) = await watch.value
            #expect(code == 200)
            let events = try body.split(separator: "\n").map { try JSONValue.parse(String($0)) }
            let added = events.filter { $0["type"] == "ADDED" }
            #expect(added.count == 2, "\(body)")
            #expect(added.allSatisfy { $0[path: "object", "spec", "retries"] == 2 }, "\(body)")
        }
    }

    /// A status write stores the object as decoded (defaults included), like kube-apiserver's status strategy
    /// on the object it read from etcd; a spec the user sets is never replaced by a default.
    @Test func aStatusWriteStoresTheDefaultsAndASetValueStays() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var r = await t.kubectl("apply", "-f", "-", stdin: Self.crd(retries: "type: integer, maximum: 10"))
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("wait", "--for=condition=Established", "--timeout=20s", "crd/widgets.example.com")
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("apply", "-f", "-", stdin: """
                apiVersion: example.com/v1
                kind: Widget
                metadata: {name: a}
                spec: {image: x}
                ---
                apiVersion: example.com/v1
                kind: Widget
                metadata: {name: b}
                spec: {image: x, retries: 7}
                """)
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("apply", "-f", "-", stdin: Self.crd(retries: "type: integer, maximum: 10, default: 2"))
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("patch", "widget", "a", "--subresource=status", "--type=merge", "-p", #"{"status":{"phase":"Ready"}}"#)
            #expect(r.ok, "\(r.stderr)")
            let a = try #require(await t.cluster.store.get("widgets.example.com", namespace: "default", name: "a"))
            #expect(a[path: "spec", "retries"] == 2)
            #expect(a[path: "status", "phase"] == "Ready")
            #expect(a[path: "metadata", "generation"] == 1)
            #expect(try await t.json(Self.path + "/b")[path: "spec", "retries"] == 7)
        }
    }
}
