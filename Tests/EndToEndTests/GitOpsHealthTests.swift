import Foundation
import Testing
import GantryTestSupport
import KubeCore
import KubeYAML

/// docs/gitops.md's health table, per kind: the Argo CD health check as the doc's argocd-cm ConfigMap holds it
/// (applied with kubectl, read back from the API server), run by a real Lua interpreter (Debian's lua5.4, as Argo
/// CD runs gopher-lua) against objects the operator brought into each state; and kstatus's generic rules, which
/// Flux applies, on the same objects.
@Suite(.serialized) struct GitOpsHealthTests {
    static let lua = "/usr/bin/lua5.4"
    static let kinds = ["TrainingJob", "Experiment", "InferenceService", "Notebook", "PlatformConfig"]

    /// The doc's argocd-cm, applied to the cluster, and the script each Gantry kind's key holds there.
    static func healthScripts(_ h: OperatorHarness) async throws -> [String: String] {
        let doc = try String(contentsOfFile: OperatorHarness.repoRoot + "/docs/gitops.md", encoding: .utf8)
        let blocks = doc.components(separatedBy: "```yaml\n").dropFirst().map { $0.components(separatedBy: "\n```")[0] }
        let configMap = try #require(blocks.first { $0.contains("name: argocd-cm") }, "docs/gitops.md has no argocd-cm block")
        _ = try await h.kubectl("create", "namespace", "argocd")
        _ = try await h.kubectl("apply", "-f", "-", stdin: configMap)
        let stored = try #require(try await h.get(.configMaps, "argocd", "argocd-cm"))
        var scripts: [String: String] = [:]
        for kind in kinds {
            scripts[kind] = try #require(stored[path: "data", "resource.customizations.health.gantry.dev_\(kind)"]?.stringValue,
                                         "argocd-cm has no health check for \(kind)")
        }
        return scripts
    }

    /// A JSON value as a Lua table constructor (what Argo CD hands the script as `obj`).
    static func luaLiteral(_ v: JSONValue) -> String {
        switch v {
        case .null: return "nil"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s):
            let escaped = s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
            return "\"\(escaped)\""
        case .array(let a): return "{" + a.map(luaLiteral).joined(separator: ", ") + "}"
        case .object(let o): return "{" + o.keys.sorted().map { "[\(luaLiteral(.string($0)))] = \(luaLiteral(o[$0] ?? .null))" }.joined(separator: ", ") + "}"
        }
    }

    static func health(of object: JSONValue, script: String) async throws -> String {
        let program = "local function check(obj)\n\(script)\nend\nlocal hs = check(\(luaLiteral(object)))\nio.write(hs.status)\n"
        let r = await runProcess(lua, ["-"], stdin: program)
        guard r.ok else { throw TestFailure("lua5.4 failed (\(r.status)): \(r.stderr)") }
        return r.stdout
    }

    /// kstatus's generic rules for a kind it has no reader of its own for (cli-utils `checkGenericProperties`),
    /// as Flux's health checks apply them: generation not yet observed, `Reconciling` True → in progress;
    /// `Stalled` True → failed; otherwise current.
    static func kstatus(_ object: JSONValue) -> String {
        if let observed = object[path: "status", "observedGeneration"]?.intValue, let generation = object[path: "metadata", "generation"]?.intValue,
           observed < generation { return "in progress" }
        let conditions = object[path: "status", "conditions"]?.arrayValue ?? []
        func isTrue(_ type: String) -> Bool { conditions.contains { $0["type"]?.stringValue == type && $0["status"] == "True" } }
        if isTrue("Reconciling") { return "in progress" }
        if isTrue("Stalled") { return "failed" }
        return "current"
    }

    /// Waits until each named object reaches its state, then checks what both tools report.
    /// `expected`: name → (state as `reached` reads it, Argo CD status, kstatus status).
    static func check(_ h: OperatorHarness, _ type: ResourceType, _ scripts: [String: String],
                      _ expected: [String: (state: String, argo: String, flux: String)],
                      reached: @escaping @Sendable (JSONValue) -> String?) async throws {
        let script = try #require(scripts[type.kind])
        let settled = try await eventually(timeout: .seconds(90)) {
            for (name, want) in expected {
                guard let object = try await h.get(type, "default", name), reached(object) == want.state else { return false }
            }
            return true
        }
        var seen: [String] = []
        for name in expected.keys.sorted() { seen.append("\(name): \(reached(try await h.get(type, "default", name) ?? [:]) ?? "-")") }
        #expect(settled, "\(type.kind) states: \(seen)")
        let troubleshooting = try String(contentsOfFile: OperatorHarness.repoRoot + "/docs/troubleshooting.md", encoding: .utf8)
        for (name, want) in expected.sorted(by: { $0.key < $1.key }) {
            let object = try #require(try await h.get(type, "default", name))
            #expect(try await health(of: object, script: script) == want.argo, "Argo CD: \(type.kind) \(name) in \(want.state)")
            #expect(kstatus(object) == want.flux, "Flux: \(type.kind) \(name) in \(want.state)")
            // Whatever reason a condition carries, docs/troubleshooting.md explains it (pods' own reasons included).
            for reason in (object[path: "status", "conditions"]?.arrayValue ?? []).compactMap({ $0["reason"]?.stringValue }) {
                #expect(troubleshooting.contains("`\(reason)`"), "docs/troubleshooting.md does not explain \(reason) (\(type.kind) \(name))")
            }
        }
    }

    static func phase(_ object: JSONValue) -> String? { object[path: "status", "phase"]?.stringValue }

    /// An operator on the embedded cluster with the doc's argocd-cm applied; `body` gets the scripts per kind.
    static func withHealthChecks(_ body: (OperatorHarness, [String: String]) async throws -> Void) async throws {
        try Prerequisite.executable(lua, "lua5.4 (`make test` installs the Debian package lua5.4)")
        try await withOperator { h async throws in try await body(h, try await healthScripts(h)) }
    }

    @Test func trainingJobs() async throws {
        try await Self.withHealthChecks { h, scripts async throws in
            let m = TrainingJobBehaviourTests.manifest
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("h-running", 1, 1, "{logs: [\"training\"]}", ""))
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("h-done", 1, 1, "{exit: {code: 0, after: 1s}}", ""))
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("h-failed", 1, 1, "{exit: {code: 3, after: 1s}}", "  backoffLimit: 0\n"))
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("h-invalid", 1, 64, "{}", ""))
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("h-suspended", 1, 1, "{}", "  suspend: true\n"))
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("h-queued", 2, 8, "{}", "  priority: -5\n"))  // the pool is 2 × 8, one GPU is taken
            let plateau = "{logs: [{series: {every: 0.1s, count: 400, start: 1, step: 1, template: \"step={step} loss={loss}\", loss: {from: 1.0, to: 1.0, curve: flat}}}]}"
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("h-stopped", 1, 1, plateau, "  earlyStopping: {metric: loss, patience: {evaluations: 5}}\n"))
            try await Self.check(h, .trainingJobs, scripts, [
                "h-running": ("Running", "Healthy", "current"), "h-done": ("Succeeded", "Healthy", "current"),
                "h-failed": ("Failed", "Degraded", "failed"), "h-invalid": ("Invalid", "Degraded", "failed"),
                "h-suspended": ("Suspended", "Suspended", "current"), "h-queued": ("Queued", "Progressing", "in progress"),
                "h-stopped": ("EarlyStopped", "Healthy", "current"),
            ], reached: Self.phase)
            // A spec the controller has not seen yet is not called healthy.
            var unseen = try #require(try await h.get(.trainingJobs, "default", "h-running"))
            unseen[path: "metadata", "generation"] = .int(99)
            #expect(try await Self.health(of: unseen, script: try #require(scripts["TrainingJob"])) == "Progressing")
            #expect(Self.kstatus(unseen) == "in progress")
        }
    }

    @Test func experiments() async throws {
        try await Self.withHealthChecks { h, scripts async throws in
            let grid = "- {name: lr, type: categorical, values: [\"0.1\", \"0.01\"]}"
            let m = ExperimentTests.manifest
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("e-done", "grid", grid, "", 6, 1))
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("e-running", "grid", grid, "parallelTrials: 1", 100_000, 1))
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("e-suspended", "grid", grid, "suspend: true", 6, 1))
            let failing = m("e-failed", "grid", grid, "maxFailedTrials: 1", 6, 1)
                .replacingOccurrences(of: #"'{logs: [{series"#, with: #"'{exit: {code: 3, after: 1s}, logs: [{series"#)
                .replacingOccurrences(of: "}}}], exit: {code: 0}}'", with: "}}}]}'")
                .replacingOccurrences(of: "    image: trainer:1\n", with: "    image: trainer:1\n    backoffLimit: 0\n")
            _ = try await h.kubectl("apply", "-f", "-", stdin: failing)
            try await Self.check(h, .experiments, scripts, [
                "e-done": ("Succeeded", "Healthy", "current"), "e-running": ("Running", "Healthy", "current"),
                "e-suspended": ("Suspended", "Suspended", "current"), "e-failed": ("Failed", "Degraded", "failed"),
            ], reached: Self.phase)
        }
    }

    /// Settings, Healthy however the budgets stand; the message names a namespace whose budget the controller
    /// found exhausted (status written by the GPU accountant from a job that ran).
    @Test func platformConfig() async throws {
        try await Self.withHealthChecks { h, scripts async throws in
            let script = try #require(scripts["PlatformConfig"])
            _ = try await h.kubectl("apply", "-f", "-", stdin: """
                apiVersion: gantry.dev/v1alpha1
                kind: PlatformConfig
                metadata: {name: default}
                spec: {budgets: {accountingPeriodSeconds: 1, namespaces: [{namespace: default, gpuHoursPerMonth: 0.0005}]}}
                """)
            _ = try await h.kubectl("apply", "-f", "-", stdin: BudgetTests.job("spender", script: "{exit: {code: 0, after: 4s}}"))
            #expect(try await eventually(timeout: .seconds(60)) {
                BudgetTests.usage(try await BudgetTests.platform(h))?["state"] == "Exhausted"
            })
            let platform = try await BudgetTests.platform(h)
            let program = "local function check(obj)\n\(script)\nend\nlocal hs = check(\(Self.luaLiteral(platform)))\nio.write(hs.status .. '|' .. hs.message)\n"
            let r = await runProcess(Self.lua, ["-"], stdin: program)
            #expect(r.ok, "\(r.stderr)")
            #expect(r.stdout == "Healthy|GPU budget exhausted in default", "\(r.stdout)")
        }
    }

    @Test func notebooks() async throws {
        try await Self.withHealthChecks { h, scripts async throws in
            _ = try await h.kubectl("apply", "-f", "-", stdin: NotebookTests.manifest("n-running", idle: 3600))
            _ = try await h.kubectl("apply", "-f", "-", stdin: NotebookTests.manifest("n-stopped", idle: 3600) + "\n  stopped: true")
            _ = try await h.kubectl("apply", "-f", "-", stdin: NotebookTests.manifest("n-failed", idle: 3600)
                .replacingOccurrences(of: "image: jupyter/base-notebook:latest", with: "image: jupyter/base-notebook:missing"))
            _ = try await h.kubectl("apply", "-f", "-", stdin: NotebookTests.manifest("n-culled", idle: 10))
            try await Self.check(h, .notebooks, scripts, [
                "n-running": ("Running", "Healthy", "current"), "n-stopped": ("Stopped", "Suspended", "current"),
                "n-failed": ("Failed", "Degraded", "failed"), "n-culled": ("Culled", "Suspended", "current"),
            ], reached: Self.phase)
        }
    }

    @Test func inferenceServices() async throws {
        try await Self.withHealthChecks { h, scripts async throws in
            let m = InferenceServiceTests.manifest
            // InferenceService has no phase: the state is the candidate's, or "Serving" once Ready.
            let state: @Sendable (JSONValue) -> String? = { object in
                if let candidate = object[path: "status", "candidate", "phase"]?.stringValue { return candidate }
                let ready = object[path: "status", "conditions"]?.arrayValue?.first { $0["type"] == "Ready" }
                return ready?["status"] == "True" ? "Serving" : nil
            }
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("i-serving", "acme/llm-serving:1", 1, "{scaleDownDelaySeconds: 30}", 1))
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("i-failed", "acme/llm-serving:1", 1, "{progressDeadlineSeconds: 4}", 1))
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("i-rolling", "acme/llm-serving:1", 1, "{progressDeadlineSeconds: 600}", 1))
            try await Self.check(h, .inferenceServices, scripts, [
                "i-serving": ("Serving", "Healthy", "current"), "i-failed": ("Serving", "Healthy", "current"),
                "i-rolling": ("Serving", "Healthy", "current"),
            ], reached: state)
            // New revisions whose pods never become ready: one still within its deadline, one past it.
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("i-failed", "acme/llm-serving:missing", 1, "{progressDeadlineSeconds: 4}", 1))
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("i-rolling", "acme/llm-serving:missing", 1, "{progressDeadlineSeconds: 600}", 1))
            try await Self.check(h, .inferenceServices, scripts, [
                "i-serving": ("Serving", "Healthy", "current"), "i-failed": ("Failed", "Degraded", "failed"),
                "i-rolling": ("Progressing", "Progressing", "in progress"),
            ], reached: state)
        }
    }
}
