import Foundation
import Testing
import GantryTestSupport
import KubeCore

/// The Argo CD health check shipped in docs/gitops.md, run by a real Lua interpreter (Debian's lua5.4, as Argo
/// CD runs gopher-lua) against TrainingJobs the operator brought into every phase on the embedded cluster.
@Suite(.serialized) struct GitOpsHealthTests {
    static let lua = "/usr/bin/lua5.4"

    /// The first ```lua block of docs/gitops.md: the check as users copy it.
    static func healthScript() throws -> String {
        let doc = try String(contentsOfFile: OperatorHarness.repoRoot + "/docs/gitops.md", encoding: .utf8)
        guard let start = doc.range(of: "```lua\n"), let end = doc.range(of: "\n```", range: start.upperBound..<doc.endIndex) else {
            throw TestFailure("docs/gitops.md has no ```lua block")
        }
        return String(doc[start.upperBound..<end.lowerBound])
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

    @Test func theArgoCDHealthCheckReadsEveryPhaseAsDocumented() async throws {
        try Prerequisite.executable(Self.lua, "lua5.4 (`make test` installs the Debian package lua5.4)")
        let script = try Self.healthScript()
        try await withOperator { h async throws in
            let m = TrainingJobBehaviourTests.manifest
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("h-running", 1, 1, "{logs: [\"training\"]}", ""))
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("h-done", 1, 1, "{exit: {code: 0, after: 1s}}", ""))
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("h-failed", 1, 1, "{exit: {code: 3, after: 1s}}", "  backoffLimit: 0\n"))
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("h-invalid", 1, 64, "{}", ""))
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("h-suspended", 1, 1, "{}", "  suspend: true\n"))
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("h-queued", 2, 8, "{}", "  priority: -5\n"))  // the pool is 2 × 8, one GPU is taken
            let plateau = "{logs: [{series: {every: 0.1s, count: 400, start: 1, step: 1, template: \"step={step} loss={loss}\", loss: {from: 1.0, to: 1.0, curve: flat}}}]}"
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("h-stopped", 1, 1, plateau, "  earlyStopping: {metric: loss, patience: {evaluations: 5}}\n"))
            let expected = ["h-running": ("Running", "Healthy"), "h-done": ("Succeeded", "Healthy"), "h-failed": ("Failed", "Degraded"),
                            "h-invalid": ("Invalid", "Degraded"), "h-suspended": ("Suspended", "Suspended"),
                            "h-queued": ("Queued", "Progressing"), "h-stopped": ("EarlyStopped", "Healthy")]
            #expect(try await eventually(timeout: .seconds(60)) {
                for (name, want) in expected where try await TrainingJobBehaviourTests.status(h, name)["phase"]?.stringValue != want.0 { return false }
                return true
            })
            for (name, want) in expected.sorted(by: { $0.key < $1.key }) {
                let object = try #require(try await h.get(.trainingJobs, "default", name))
                #expect(try await Self.health(of: object, script: script) == want.1, "\(name) in phase \(want.0)")
            }
            // A spec the controller has not seen yet is not called healthy.
            var unseen = try #require(try await h.get(.trainingJobs, "default", "h-running"))
            unseen[path: "metadata", "generation"] = .int(99)
            #expect(try await Self.health(of: unseen, script: script) == "Progressing")
        }
    }
}
