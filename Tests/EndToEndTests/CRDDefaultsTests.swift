import Foundation
import GantryTestSupport
import KubeCore
import Testing

/// docs/admin.md "Tuning the CRDs' defaults": the overlay examples/crd-defaults (shown verbatim in the guide),
/// applied with `kubectl apply -k` to the embedded cluster while the operator runs. A TrainingJob created after it
/// carries the tuned `backoffLimit` in its stored spec and the controller acts on it; one created before keeps the
/// default it was created with; an Experiment's trials get it through the template; Gantry never writes `spec`;
/// a default the schema refuses is refused with the CRD.
@Suite(.serialized)
struct CRDDefaultsTests {
    static let root = OperatorHarness.repoRoot
    static let overlay = root + "/examples/crd-defaults"

    init() throws { try Prerequisite.kubectl() }

    static func crdDefault(_ h: OperatorHarness, _ crd: String, _ field: String) async throws -> String {
        try await h.kubectl("get", "crd", crd, "-o",
                            "jsonpath={.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties\(field).default}")
    }

    @Test func theGuideShowsTheOverlayAsItIs() throws {
        let guide = try String(contentsOfFile: Self.root + "/docs/admin.md", encoding: .utf8)
        let overlay = try String(contentsOfFile: Self.overlay + "/kustomization.yaml", encoding: .utf8)
        #expect(guide.contains("```yaml\n" + overlay + "```"))
    }

    /// A kustomization in a fresh temporary folder (kustomize takes no absolute paths: `base` is made relative).
    static func withTemporaryOverlay(base: String, _ text: (String) -> String, _ body: (String) async throws -> Void) async throws {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).resolvingSymlinksInPath()
            .appendingPathComponent("crd-defaults-" + UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let up = String(repeating: "../", count: dir.split(separator: "/").count)
        let relative = up + URL(fileURLWithPath: base).resolvingSymlinksInPath().path.dropFirst()
        try text(relative).write(toFile: dir + "/kustomization.yaml", atomically: true, encoding: .utf8)
        try await body(dir)
    }

    /// Lines of `kubectl kustomize tuned` that differ from `kubectl kustomize base`: the same documents are expected.
    static func changedLines(base: String, tuned: String) async throws -> [(before: String, after: String, above: String)] {
        let kubectl = try Prerequisite.kubectl()
        let b = await runProcess(kubectl, ["kustomize", base])
        let t = await runProcess(kubectl, ["kustomize", tuned])
        try #require(b.ok && t.ok, "\(b.stderr) \(t.stderr)")
        let x = b.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let y = t.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        try #require(x.count == y.count && x.count > 1)
        return x.indices.filter { x[$0] != y[$0] }.map { i in
            (x[i].trimmingCharacters(in: .whitespaces), y[i].trimmingCharacters(in: .whitespaces),
             x[max(i - 1, 0)].trimmingCharacters(in: .whitespaces))
        }
    }

    /// `kubectl kustomize` of the overlay is crds/ with exactly two lines changed, the two `backoffLimit` defaults;
    /// and the same overlay with `resources: [../../deploy]` is the whole install with the same two lines changed.
    @Test func theOverlayChangesOnlyTheTwoBackoffLimitDefaultsAlsoOnTopOfDeploy() async throws {
        let example = try String(contentsOfFile: Self.overlay + "/kustomization.yaml", encoding: .utf8)
        try #require(example.contains("  - ../../crds\n"))
        var variants = [(Self.root + "/crds", Self.overlay)]
        try await Self.withTemporaryOverlay(base: Self.root + "/deploy", { example.replacingOccurrences(of: "../../crds", with: $0) }) { dir in
            variants.append((Self.root + "/deploy", dir))
            for (base, tuned) in variants {
                let changed = try await Self.changedLines(base: base, tuned: tuned)
                #expect(changed.count == 2, "\(base): \(changed)")
                for line in changed {
                    #expect(line.before == "default: 3" && line.after == "default: 1" && line.above == "backoffLimit:", "\(base): \(line)")
                }
            }
            let kubectl = try Prerequisite.kubectl()
            let install = await runProcess(kubectl, ["kustomize", dir])
            #expect(install.ok && install.stdout.contains("name: gantry-controller"), "\(install.stderr)")
        }
    }

    @Test func aJobCreatedAfterTheOverlayTakesTheTunedDefaultAndOneCreatedBeforeKeepsItsOwn() async throws {
        try await withOperator { h async throws in
            let job = { (name: String, script: String) in TrainingJobBehaviourTests.manifest(name, script: script) }
            // Before the overlay: the generated default, stored in the object when it was created.
            _ = try await h.kubectl("apply", "-f", "-", stdin: job("before", "{logs: [\"training\"]}"))
            #expect(try await h.get(.trainingJobs, "default", "before")?[path: "spec", "backoffLimit"] == 3)

            _ = try await h.kubectl("apply", "-k", Self.overlay)
            #expect(try await Self.crdDefault(h, "trainingjobs.gantry.dev", ".backoffLimit") == "1")
            #expect(try await Self.crdDefault(h, "experiments.gantry.dev", ".template.properties.backoffLimit") == "1")

            // A job that fails every time, sent without backoffLimit: stored with 1, retried once, then Failed.
            _ = try await h.kubectl("apply", "-f", "-", stdin: job("after", "{exit: {code: 3, after: 1s}}"))
            #expect(try await h.get(.trainingJobs, "default", "after")?[path: "spec", "backoffLimit"] == 1)
            #expect(try await eventually(timeout: .seconds(60)) {
                try await TrainingJobBehaviourTests.status(h, "after")["phase"] == "Failed"
            })
            let after = try #require(try await h.get(.trainingJobs, "default", "after"))
            #expect(after[path: "status", "restarts"] == 1)
            let failed = after[path: "status", "conditions"]?.arrayValue?.first { $0["type"] == "Failed" }
            #expect(failed?["reason"] == "BackoffLimitExceeded")
            // GitOps: what kubectl sent has no backoffLimit, the server stored the default, and Gantry never
            // wrote spec (generation still 1 after the controller wrote status).
            let sent = try #require(after[path: "metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration"]?.stringValue)
            let sentSpec = try #require(try JSONValue.parse(sent)["spec"])
            #expect(sentSpec["image"] == "trainer:1")
            #expect(sentSpec["backoffLimit"] == nil)
            #expect(after[path: "spec", "backoffLimit"] == 1)
            #expect(after[path: "metadata", "generation"] == 1)

            // A job that sets its own backoffLimit keeps it.
            _ = try await h.kubectl("apply", "-f", "-", stdin: TrainingJobBehaviourTests.manifest("explicit", script: "{logs: [\"training\"]}",
                                                                                                 extra: "  backoffLimit: 5\n"))
            #expect(try await h.get(.trainingJobs, "default", "explicit")?[path: "spec", "backoffLimit"] == 5)

            // The older job keeps the value it was stored with (a stored field is never re-defaulted).
            #expect(try await h.get(.trainingJobs, "default", "before")?[path: "spec", "backoffLimit"] == 3)

            // An Experiment's template takes the tuned default, and its trial is created with it.
            _ = try await h.kubectl("apply", "-f", "-", stdin: ExperimentTests.manifest("tuned", algorithm: "random",
                                                                                       parameters: ExperimentTests.lrAndBatch,
                                                                                       extra: "maxTrials: 1"))
            #expect(try await h.get(.experiments, "default", "tuned")?[path: "spec", "template", "backoffLimit"] == 1)
            #expect(try await eventually(timeout: .seconds(60)) {
                try await h.kubectl("get", "trainingjobs", "-l", "gantry.dev/experiment=tuned", "-o", "name") != ""
            })
            let trials = try await h.kubectl("get", "trainingjobs", "-l", "gantry.dev/experiment=tuned",
                                             "-o", "jsonpath={.items[*].spec.backoffLimit}")
            #expect(trials == "1")
        }
    }

    /// The API server validates a default against its schema: 500 is above backoffLimit's maximum (100), so the
    /// CRD update is refused and the tuned default in force stays.
    @Test func aDefaultTheSchemaRefusesIsRefusedWithTheCRD() async throws {
        let invalid = { (base: String) in
            """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            resources:
              - \(base)
            patches:
              - target: {kind: CustomResourceDefinition, name: trainingjobs.gantry.dev}
                patch: |-
                  - op: replace
                    path: /spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/backoffLimit/default
                    value: 500
            """
        }
        try await Self.withTemporaryOverlay(base: Self.overlay, invalid) { dir in
            try await withOperator { h async throws in
                _ = try await h.kubectl("apply", "-k", Self.overlay)
                let refused = await h.cluster.kubectl("apply", "-k", dir)
                #expect(!refused.ok)
                #expect(refused.stderr.contains("trainingjobs.gantry.dev"), "\(refused.stderr)")
                #expect(refused.stderr.contains("backoffLimit") && refused.stderr.contains("default"), "\(refused.stderr)")
                #expect(refused.stderr.contains("100"), "\(refused.stderr)")
                #expect(try await Self.crdDefault(h, "trainingjobs.gantry.dev", ".backoffLimit") == "1")
                _ = try await h.kubectl("apply", "-f", "-", stdin: TrainingJobBehaviourTests.manifest("fresh", script: "{logs: [\"training\"]}"))
                #expect(try await h.get(.trainingJobs, "default", "fresh")?[path: "spec", "backoffLimit"] == 1)
            }
        }
    }
}
