import Foundation
import GantryAPI
import KubeCore
import KubeYAML
import Testing

/// docs/gitops.md's Flux Kustomization: a valid Kustomization whose `healthChecks` name Gantry kinds at the group
/// and version the CRDs serve, and an Argo CD check for every Gantry kind that has a status (the checks
/// themselves run against real objects in EndToEndTests/GitOpsHealthTests).
@Suite struct GitOpsDocTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func yamlBlocks() throws -> [JSONValue] {
        let doc = try String(contentsOf: root.appendingPathComponent("docs/gitops.md"), encoding: .utf8)
        return try doc.components(separatedBy: "```yaml\n").dropFirst().map { try YAML.parse($0.components(separatedBy: "\n```")[0]) }
    }

    @Test func theFluxKustomizationChecksGantryKindsAsServed() throws {
        let flux = try #require(try Self.yamlBlocks().first { $0["kind"] == "Kustomization" })
        #expect(flux["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1")
        #expect(flux[path: "spec", "wait"] == .bool(true) && flux[path: "spec", "sourceRef", "kind"] == "GitRepository")
        let checks = flux[path: "spec", "healthChecks"]?.arrayValue ?? []
        #expect(!checks.isEmpty)
        let served = Set(CRDBuilder.all.flatMap { crd in
            (crd[path: "spec", "versions"]?.arrayValue ?? []).filter { $0["served"] == .bool(true) }.map { version in
                "\(crd[path: "spec", "group"]?.stringValue ?? "")/\(version["name"]?.stringValue ?? "") \(crd[path: "spec", "names", "kind"]?.stringValue ?? "")"
            }
        })
        for check in checks {
            let named = "\(check["apiVersion"]?.stringValue ?? "") \(check["kind"]?.stringValue ?? "")"
            #expect(served.contains(named), "\(named) is not a served Gantry kind: \(served.sorted())")
            #expect(check["name"]?.stringValue?.isEmpty == false && check["namespace"]?.stringValue?.isEmpty == false, "Flux needs name and namespace: \(check)")
        }
    }

    /// The kinds whose status the controller writes: deploy/rbac.yaml grants it `update` on their `/status`.
    static func kindsWithStatusWritten() throws -> [String] {
        let rbac = try YAML.parseDocuments(String(contentsOf: root.appendingPathComponent("deploy/rbac.yaml"), encoding: .utf8))
        let rules = rbac.filter { $0["kind"] == "ClusterRole" && $0.name == "gantry-controller" }.flatMap { $0["rules"]?.arrayValue ?? [] }
        let written = Set(rules.filter { ($0["apiGroups"]?.arrayValue ?? []).contains("gantry.dev") && ($0["verbs"]?.arrayValue ?? []).contains("update") }
            .flatMap { ($0["resources"]?.arrayValue ?? []).compactMap(\.stringValue) })
        return CRDBuilder.all.filter { written.contains("\($0[path: "spec", "names", "plural"]?.stringValue ?? "")/status") }
            .compactMap { $0[path: "spec", "names", "kind"]?.stringValue }
    }

    @Test func argoCDHasACheckForEveryKindWhoseStatusTheControllerWrites() throws {
        let configMap = try #require(try Self.yamlBlocks().first { $0["kind"] == "ConfigMap" })
        let keys = Set((configMap["data"]?.objectValue ?? [:]).keys)
        let kinds = try Self.kindsWithStatusWritten()
        #expect(kinds.count == 5, "\(kinds)")
        for kind in kinds { #expect(keys.contains("resource.customizations.health.gantry.dev_\(kind)"), "no Argo CD health check for \(kind)") }
    }
}
