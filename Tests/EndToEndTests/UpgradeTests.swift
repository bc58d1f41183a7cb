import EmbeddedCluster
import Foundation
import GantryCLI
import GantryTestSupport
import Testing

/// docs/upgrading.md's GitOps overlay: over an installed Gantry, the overlay with a new `newTag` changes only the
/// Deployment, which rolls out to the new image; the CRDs and RBAC stay unchanged.
@Suite(.serialized)
struct UpgradeTests {
    init() throws { try Prerequisite.kubectl() }

    static let root = OperatorHarness.repoRoot

    @Test func theOverlayWithANewTagRollsOutOnlyTheController() async throws {
        let doc = try String(contentsOfFile: Self.root + "/docs/upgrading.md", encoding: .utf8)
        let blocks = doc.components(separatedBy: "```yaml\n").dropFirst().map { $0.components(separatedBy: "\n```")[0] }
        let overlay = try #require(blocks.first { $0.contains("kind: Kustomization") }, "docs/upgrading.md has no kustomization")
        #expect(overlay.contains("newTag: \(GantryVersion.current)"), "the doc names the current release: \(overlay)")
        // Two folders below the repository, as the doc's `../../deploy` assumes (.gantry/ is git-ignored).
        let folder = Self.root + "/.gantry/upgrade-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data(overlay.replacingOccurrences(of: "newTag: \(GantryVersion.current)", with: "newTag: 9.9.9").utf8)
            .write(to: URL(fileURLWithPath: folder + "/kustomization.yaml"))

        try await withInstall(rbac: false) { t, _ async throws in
            var r = await t.kubectl("apply", "-k", folder)
            #expect(r.ok, "\(r.stderr)")
            let changed = r.stdout.split(separator: "\n").filter { !$0.hasSuffix(" unchanged") }
            #expect(changed == ["deployment.apps/gantry-controller configured"], "only the Deployment changes: \(r.stdout)")
            r = await t.kubectl("rollout", "status", "deployment/gantry-controller", "-n", "gantry-system", "--timeout=90s")
            #expect(r.ok && r.stdout.contains("successfully rolled out"), "\(r.stdout) \(r.stderr)")
            let images = try await InstallPathTests.controllerPods(t).filter { $0.deletionTimestamp == nil }
                .compactMap { $0[path: "spec", "containers"]?.arrayValue?.first?["image"]?.stringValue }
            #expect(images == ["ghcr.io/gantry-dev/gantry:9.9.9", "ghcr.io/gantry-dev/gantry:9.9.9"], "\(images)")
        }
    }
}
