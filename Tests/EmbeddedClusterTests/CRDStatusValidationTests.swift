import Foundation
import GantryTestSupport
import KubeCore
import Testing

/// What a write of a custom resource with a status subresource is judged on, as apiextensions' strategies judge it
/// (registry/customresource strategy.go and status_strategy.go): the object as it will be stored. A `/status` write
/// keeps the stored spec and metadata and judges only the written status against the schema (CEL rules and list
/// types on the whole object); a write of the main resource keeps the stored status, so a status in its body is
/// neither stored nor judged. docs/embedded-cluster.md.
@Suite struct CRDStatusValidationTests {
    static func crd(maximum: Int) -> String {
        ExampleCRD.yaml(plural: "gadgets", kind: "Gadget", properties: """
        spec:
          type: object
          x-kubernetes-validations: [{rule: "self.size == oldSelf.size", message: "size is immutable"}]
          properties:
            size: {type: integer, maximum: \(maximum)}
        status:
          type: object
          properties:
            phase: {type: string, enum: [Pending, Ready]}
        """)
    }

    static let path = "/apis/example.com/v1/namespaces/default/gadgets/g"

    @Test func aStatusWriteJudgesTheStatusAndKeepsTheStoredSpec() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var r = await t.kubectl("apply", "-f", "-", stdin: Self.crd(maximum: 10))
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("wait", "--for=condition=Established", "--timeout=20s", "crd/gadgets.example.com")
            #expect(r.ok, "\(r.stderr)")
            // A create drops the status (the status subresource writes it), so an invalid one is not judged either.
            r = await t.kubectl("apply", "-f", "-", stdin: "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\nspec: {size: 5}\nstatus: {phase: Bogus}\n")
            #expect(r.ok, "\(r.stderr)")
            #expect(try await t.json(Self.path)["status"] == nil)

            // A status write whose body carries a spec the schema and the immutability rule would refuse: the spec
            // is the stored one, so only the status is judged, and the spec in the body is not stored.
            var (code, text) = await t.curl("PUT", Self.path + "/status", body: try await t.edited(Self.path) {
                $0[path: "spec", "size"] = 50
                $0["status"] = ["phase": "Ready"]
            })
            #expect(code == 200, "\(text)")
            var stored = try await t.json(Self.path)
            #expect(stored[path: "spec", "size"] == 5 && stored[path: "status", "phase"] == "Ready", "\(stored)")

            // An invalid status is refused, named under `status`.
            (code, text) = await t.curl("PUT", Self.path + "/status", body: try await t.edited(Self.path) { $0["status"] = ["phase": "Bogus"] })
            #expect(code == 422 && text.contains("status.phase") && text.contains("Unsupported value"), "\(code) \(text)")

            // A write of the main resource keeps the stored status: an invalid one in its body is ignored.
            (code, text) = await t.curl("PUT", Self.path, body: try await t.edited(Self.path) {
                $0[path: "metadata", "labels"] = ["seen": "yes"]
                $0["status"] = ["phase": "Bogus"]
            })
            #expect(code == 200, "\(text)")
            stored = try await t.json(Self.path)
            #expect(stored[path: "metadata", "labels", "seen"] == "yes" && stored[path: "status", "phase"] == "Ready", "\(stored)")

            // The spec itself is still judged on a main write: size is immutable.
            (code, text) = await t.curl("PUT", Self.path, body: try await t.edited(Self.path) { $0[path: "spec", "size"] = 6 })
            #expect(code == 422 && text.contains("size is immutable"), "\(code) \(text)")

            // A schema tightened after the object was stored does not block its status writes: kube-apiserver
            // judges only the written status on /status.
            r = await t.kubectl("apply", "-f", "-", stdin: Self.crd(maximum: 3))
            #expect(r.ok, "\(r.stderr)")
            (code, text) = await t.curl("PUT", Self.path + "/status", body: try await t.edited(Self.path) { $0["status"] = ["phase": "Pending"] })
            #expect(code == 200, "\(text)")
            #expect(try await t.json(Self.path)[path: "status", "phase"] == "Pending")
        }
    }
}
