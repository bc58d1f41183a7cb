import Foundation
import Testing
import GantryAPI
import GantryTestSupport
import KubeCore

/// Semantic errors the schema cannot see (issue #10 "Bad input"): a GPU count no node can hold is a condition
/// naming the field, nothing is created, and a bad update never touches the serving colour.
extension InferenceServiceTests {
    static func refusedForGPUs(_ h: OperatorHarness, _ name: String) async throws -> Bool {
        let status = try await Self.status(h, name)
        return condition(status, "Stalled")?["reason"] == "NoMatchingGPUNodes" && condition(status, "Progressing")?["reason"] == "NoMatchingGPUNodes"
    }

    /// A Service under the service's alias name that a user made: it is neither adopted nor overwritten, a Warning
    /// Event names it and the fix, and once it is deleted the InferenceService makes its own alias and serves.
    @Test func anAliasNameHeldByAUsersServiceIsNamedInAnEventAndServedOnceItGoes() async throws {
        try await withOperator { h in
            var r = await h.cluster.kubectl("create", "service", "clusterip", "held", "--tcp=80:80")
            #expect(r.ok, "\(r.stderr)")
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("held", image: "acme/llm-serving:1", replicas: 1))
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.events(h, "held").contains("ChildNameConflict") })
            let notes = try await h.client.list(.events, namespace: "default").items
                .filter { $0["reason"] == "ChildNameConflict" }.compactMap { $0["note"]?.stringValue }
            #expect(notes.first?.contains("Service default/held already exists and is not owned by any object") == true, "\(notes)")
            let foreign = try #require(try await h.get(.services, "default", "held"))
            #expect(foreign[path: "metadata", "ownerReferences"] == nil && foreign[path: "spec", "ports"]?.arrayValue?.first?["port"] == 80, "\(foreign)")
            #expect(try await !Self.ready(h, "held"))

            r = await h.cluster.kubectl("delete", "service", "held")
            #expect(r.ok, "\(r.stderr)")
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.ready(h, "held") })
            let service = try #require(try await h.get(.inferenceServices, "default", "held"))
            let alias = try #require(try await h.get(.services, "default", "held"))
            #expect(alias[path: "metadata", "ownerReferences"]?.arrayValue?.first?["uid"] == service[path: "metadata", "uid"], "\(alias)")
        }
    }

    @Test func aGPUCountNoNodeCanHoldIsRefusedNamingTheFieldAndABadUpdateLeavesTheServingColourAlone() async throws {
        try await withOperator(nodes: "2x{gpu: 4}") { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("huge", image: "acme/llm-serving:1", gpus: 16))
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.refusedForGPUs(h, "huge") })
            let message = Self.condition(try await Self.status(h, "huge"), "Stalled")?["message"]?.stringValue ?? ""
            #expect(message.hasPrefix("spec.gpu: no node can ever run one replica: it needs 16 nvidia.com/gpu; the largest matching node has 4. Lower spec.gpu.count"), "\(message)")
            #expect(message.hasSuffix("; nothing was created"), "\(message)")
            #expect(try await Self.events(h, "huge").contains("NoMatchingGPUNodes"))
            #expect(try await Self.pods(h, "huge").isEmpty)
            #expect(try await h.get(.services, "default", "huge") == nil)

            // Fixed, it serves; then an update asking too much again is refused with blue untouched.
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("huge", image: "acme/llm-serving:1", gpus: 1))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.ready(h, "huge") })
            let serving = Set(try await Self.pods(h, "huge").compactMap(\.uid))
            let creates = Self.podCreates(h)
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("huge", image: "acme/llm-serving:2", gpus: 16))
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.refusedForGPUs(h, "huge") })
            let status = try await Self.status(h, "huge")
            #expect(Self.condition(status, "Stalled")?["message"]?.stringValue?.contains("keeps serving in blue") == true)
            #expect(status["candidate"] == nil && status[path: "activeRevision", "image"] == "acme/llm-serving:1")
            #expect(Self.podCreates(h) == creates)
            #expect(Set(try await Self.pods(h, "huge").compactMap(\.uid)) == serving)
            #expect(try await Self.selectedColor(h, "huge") == "blue")
        }
    }

    @Test func anUnknownSourceTrainingJobIsRefusedNamingTheFieldAndCreatesNothing() async throws {
        try await withOperator { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("orphan", image: "acme/llm-serving:1")
                + "\n  model: {uri: \"s3://models/none\", fromTrainingJob: no-such-run}\n")
            #expect(try await eventually(timeout: .seconds(30)) {
                Self.condition(try await Self.status(h, "orphan"), "Stalled")?["reason"] == "SourceNotFound"
            })
            let message = Self.condition(try await Self.status(h, "orphan"), "Stalled")?["message"]?.stringValue ?? ""
            #expect(message.hasPrefix("spec.model.fromTrainingJob: there is no TrainingJob \"no-such-run\" in namespace default") && message.hasSuffix("nothing was created"), "\(message)")
            #expect(try await Self.pods(h, "orphan").isEmpty)
            #expect(try await h.get(.services, "default", "orphan") == nil)
        }
    }
}
