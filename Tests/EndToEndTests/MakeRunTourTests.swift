import Foundation
import GantryTestSupport
import Testing

/// `make run`'s tour (scripts/run-demo.sh), run as the README tells users to, with the binary this suite tests and
/// `DEMO_EXIT=1` so it stops after the tour instead of waiting for Ctrl-C. Each stage the README promises is checked
/// in what the tour printed: runs learning to the end and runs stopped early, a service swapped blue to green and
/// rolled back, a notebook culled with its workspace kept, an experiment's trials, then the dashboard and plugin
/// hints. Its own state folder, so a user's `.gantry/` is left alone.
@Suite(.serialized)
struct MakeRunTourTests {
    static let root = OperatorHarness.repoRoot

    @Test func makeRunInvokesTheTour() throws {
        let makefile = try String(contentsOfFile: Self.root + "/Makefile", encoding: .utf8)
        #expect(makefile.contains("run: build\n\t./scripts/run-demo.sh\n"))
    }

    @Test func theTourShowsEveryKindWorking() async throws {
        let gantry = try Prerequisite.gantryBinary(repoRoot: Self.root)
        try Prerequisite.kubectl()
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-tour-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: state) }
        var env = ProcessInfo.processInfo.environment
        env["GANTRY"] = gantry
        env["KUBECTL"] = TestCluster.kubectlPath
        env["GANTRY_STATE"] = state
        env["DEMO_EXIT"] = "1"
        let run = await runProcess("/bin/bash", [Self.root + "/scripts/run-demo.sh"], environment: env)
        // The tour clears the screen between refreshes; what is left is the text a user reads.
        let out = run.stdout.replacingOccurrences(of: "\u{1B}\\[[0-9;]*[A-Za-z]", with: "", options: .regularExpression)
        let logs = ["dev.log", "controller.log"].map { (try? String(contentsOfFile: state + "/" + $0, encoding: .utf8)) ?? "" }
        #expect(run.status == 0, "the tour failed (\(run.status)): \(run.stderr.suffix(2000))\n\(out.suffix(3000))\ncontroller: \(logs[1].suffix(2000))")

        let final = section(out, "== final state", until: "== experiment records")
        #expect(final.contains("mnist-baseline") && final.range(of: #"mnist-baseline\s+Succeeded"#, options: .regularExpression) != nil,
                "the baseline run did not learn to the end:\n\(final)")
        #expect(final.components(separatedBy: "EarlyStopped").count - 1 >= 2, "no weak run of the sweep was stopped early:\n\(final)")
        #expect(final.contains("divergence") && final.contains("median"), "the stop reasons are not shown:\n\(final)")
        #expect(section(out, "== experiment records", until: "== events").contains("mnist-baseline-record"))

        let service = section(out, "== an InferenceService", until: "== a Notebook")
        #expect(service.contains("alias moved from blue to green"), "no blue→green swap shown:\n\(service)")
        #expect(service.contains("RolledBack") && service.contains("without a new pod"), "no rollback shown:\n\(service)")

        let notebook = section(out, "== a Notebook", until: "== an Experiment")
        #expect(notebook.range(of: #"demo\s+Culled"#, options: .regularExpression) != nil, "the notebook was not culled:\n\(notebook)")
        #expect(notebook.contains("persistentvolumeclaim/"), "the workspace is not shown kept:\n\(notebook)")

        let experiment = section(out, "== an Experiment", until: "The cluster and the operator keep running")
        #expect(experiment.range(of: #"lr-search\s+Succeeded"#, options: .regularExpression) != nil, "the experiment did not finish:\n\(experiment.suffix(2000))")
        #expect(out.contains("dashboard") && out.contains("kubectl gantry get"), "the dashboard and plugin hints are missing")
        // Both processes were stopped by the tour's own cleanup.
        #expect(out.contains("stopping the operator and the embedded cluster"))
    }

    /// The text between the line starting with `start` and the next `until`.
    func section(_ text: String, _ start: String, until end: String) -> String {
        guard let from = text.range(of: start) else { return "" }
        let rest = text[from.lowerBound...]
        guard let to = rest.range(of: end, range: rest.index(after: rest.startIndex)..<rest.endIndex) else { return String(rest) }
        return String(rest[..<to.lowerBound])
    }
}
