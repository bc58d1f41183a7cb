import Foundation
import GantryTestSupport
import KubeCore
import Testing

/// CRD validation ratcheting (KEP-4008, on by default since Kubernetes 1.30, GA in 1.33): once a CRD's schema
/// tightens, an update of an object stored before is judged only on what it changes. Errors in values the update
/// leaves as they were are not held against it (apiextensions' validation/ratcheting.go for the schema, the CEL
/// validator for rules without `oldSelf`), so the object can still be labelled, finalized by its controller or
/// edited elsewhere. Values are matched with their old selves by property name, by key in a list-type map and by
/// index in a list without a type; a set or an atomic list is judged whole. docs/embedded-cluster.md.
@Suite struct CRDValidationRatchetingTests {
    /// `tight` is the schema after an upgrade: a smaller maximum, a port range, a shorter argument, a CEL rule.
    static func crd(tight: Bool) -> String {
        ExampleCRD.yaml(plural: "widgets", kind: "Widget", properties: """
        spec:
          type: object
          properties:
            size: {type: integer, maximum: \(tight ? 10 : 100)}
            color: {type: string}
            tier:
              type: string
              \(tight ? "x-kubernetes-validations: [{rule: \"self != 'gold'\", message: \"gold is retired\"}]" : "")
            ports:
              type: array
              x-kubernetes-list-type: map
              x-kubernetes-list-map-keys: [name]
              items:
                type: object
                required: [name]
                properties:
                  name: {type: string}
                  port: {type: integer, maximum: \(tight ? 65535 : 100000)}
            args:
              type: array
              x-kubernetes-list-type: atomic
              items: {type: string, maxLength: \(tight ? 4 : 40)}
        status:
          type: object
          properties:
            phase: {type: string, enum: \(tight ? "[Ready]" : "[Pending, Ready]")}
            note: {type: string}
        """)
    }

    static let path = "/apis/example.com/v1/namespaces/default/widgets/w"

    @Test func anUpdateIsJudgedOnWhatItChanges() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var r = await t.kubectl("apply", "-f", "-", stdin: Self.crd(tight: false))
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("wait", "--for=condition=Established", "--timeout=20s", "crd/widgets.example.com")
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("apply", "-f", "-", stdin: """
                apiVersion: example.com/v1
                kind: Widget
                metadata: {name: w}
                spec:
                  size: 50
                  color: red
                  tier: gold
                  ports: [{name: a, port: 99999}]
                  args: [verbose-mode, x]
                """)
            #expect(r.ok, "\(r.stderr)")
            var (code, text) = await t.curl("PUT", Self.path + "/status", body: try await t.edited(Self.path) { $0["status"] = ["phase": "Pending"] })
            #expect(code == 200, "\(text)")

            // The schema tightens: every one of those values would now be refused on a create.
            r = await t.kubectl("apply", "-f", "-", stdin: Self.crd(tight: true))
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("apply", "-f", "-", stdin: "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: fresh}\nspec: {size: 50, tier: gold}\n")
            #expect(!r.ok && r.stderr.contains("spec.size") && r.stderr.contains("gold is retired"), "a create is judged whole: \(r.stderr)")

            // Metadata-only writes, as users and controllers make them: labels, a finalizer.
            r = await t.kubectl("label", "widget", "w", "seen=yes")
            #expect(r.ok, "kubectl label on an object stored before the schema tightened: \(r.stderr)")
            r = await t.kubectl("patch", "widget", "w", "--type=merge", "-p", #"{"metadata":{"finalizers":["example.com/cleanup"]}}"#)
            #expect(r.ok, "a finalizer added: \(r.stderr)")

            // A spec edit that leaves the invalid values alone passes; one that writes an invalid value does not.
            r = await t.kubectl("patch", "widget", "w", "--type=merge", "-p", #"{"spec":{"color":"blue"}}"#)
            #expect(r.ok, "changing spec.color alone: \(r.stderr)")
            r = await t.kubectl("patch", "widget", "w", "--type=merge", "-p", #"{"spec":{"size":60}}"#)
            #expect(!r.ok && r.stderr.contains("spec.size"), "a new invalid size is judged: \(r.stderr)")
            r = await t.kubectl("patch", "widget", "w", "--type=merge", "-p", #"{"spec":{"size":8}}"#)
            #expect(r.ok, "a valid size: \(r.stderr)")

            // A list-type map: items correlate by key, so adding an item leaves the old one's port unjudged...
            r = await t.kubectl("patch", "widget", "w", "--type=merge", "-p", #"{"spec":{"ports":[{"name":"b","port":80},{"name":"a","port":99999}]}}"#)
            #expect(r.ok, "an item added before the unchanged one: \(r.stderr)")
            // ...while changing that item's port judges it.
            r = await t.kubectl("patch", "widget", "w", "--type=merge", "-p", #"{"spec":{"ports":[{"name":"b","port":80},{"name":"a","port":99998}]}}"#)
            #expect(!r.ok && r.stderr.contains("spec.ports[1].port"), "a changed invalid port: \(r.stderr)")

            // An atomic list is judged whole once any item changes, the unchanged long argument included.
            r = await t.kubectl("patch", "widget", "w", "--type=merge", "-p", #"{"spec":{"args":["verbose-mode","y"]}}"#)
            #expect(!r.ok && r.stderr.contains("spec.args[0]"), "an atomic list with one item changed: \(r.stderr)")

            // A CEL rule without oldSelf: the unchanged tier passed above; a tier written anew is judged.
            r = await t.kubectl("patch", "widget", "w", "--type=merge", "-p", #"{"spec":{"tier":"silver"}}"#)
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("patch", "widget", "w", "--type=merge", "-p", #"{"spec":{"tier":"gold"}}"#)
            #expect(!r.ok && r.stderr.contains("gold is retired"), "gold written anew: \(r.stderr)")

            // The status subresource ratchets too: a note written beside the now-unsupported phase passes.
            (code, text) = await t.curl("PUT", Self.path + "/status", body: try await t.edited(Self.path) { $0[path: "status", "note"] = "checked" })
            #expect(code == 200, "\(text)")
            (code, text) = await t.curl("PUT", Self.path + "/status", body: try await t.edited(Self.path) { $0[path: "status", "phase"] = "Gone" })
            #expect(code == 422 && text.contains("status.phase"), "\(code) \(text)")

            let stored = try await t.json(Self.path)
            #expect(stored[path: "spec", "size"] == 8 && stored[path: "spec", "color"] == "blue" && stored[path: "metadata", "labels", "seen"] == "yes", "\(stored)")
            #expect(stored[path: "spec", "args"] == ["verbose-mode", "x"] && stored[path: "status", "note"] == "checked", "\(stored)")
        }
    }
}
