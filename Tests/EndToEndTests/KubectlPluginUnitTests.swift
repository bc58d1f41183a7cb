import Foundation
import Testing
import KubeCore
@testable import GantryCLI

/// The pure parts of `kubectl gantry`: arguments as kubectl hands them over, kind names, ages, the plot, the
/// tables, the status summary, the metric histories and the log prefixes.
struct KubectlPluginUnitTests {
    @Test func pluginIsRecognisedByItsExecutableName() {
        #expect(PluginInvocation.isPlugin(argv0: "/home/me/.local/bin/kubectl-gantry"))
        #expect(PluginInvocation.isPlugin(argv0: "kubectl-gantry"))
        #expect(!PluginInvocation.isPlugin(argv0: "/usr/local/bin/gantry"))
        #expect(!PluginInvocation.isPlugin(argv0: "/usr/local/bin/kubectl-gantry-old"))
    }

    @Test func optionsBeforeTheVerbMoveAfterItAndGluedValuesAreSplit() {
        #expect(PluginInvocation.arguments(["-n", "ml", "get", "gtj"]) == ["get", "gtj", "-n", "ml"])
        #expect(PluginInvocation.arguments(["--kubeconfig", "/k", "--context=prod", "-A", "get"]) == ["get", "--kubeconfig", "/k", "--context=prod", "-A"])
        #expect(PluginInvocation.arguments(["-nml", "notebook", "stop", "nb"]) == ["notebook", "stop", "nb", "-n", "ml"])
        #expect(PluginInvocation.arguments(["records", "-ocsv", "-n=team"]) == ["records", "-o", "csv", "-n", "team"])
        #expect(PluginInvocation.arguments(["get", "-A"]) == ["get", "-A"])
        #expect(PluginInvocation.arguments(["--help"]) == ["--help"])
    }

    @Test func kubectlFlagsThePluginDoesNotReadAreRefusedByName() {
        #expect(PluginInvocation.refusal(["get", "--as", "bob"])?.hasPrefix("--as is a kubectl flag kubectl gantry does not read") == true)
        #expect(PluginInvocation.refusal(["get", "--server=https://x"])?.hasPrefix("--server is") == true)
        #expect(PluginInvocation.refusal(["get", "-v", "6"])?.hasPrefix("-v is") == true)
        #expect(PluginInvocation.refusal(["get", "--kubeconfig", "/k", "--context", "c", "-n", "ml", "-A"]) == nil)
    }

    @Test func kindsAreNamedAsKubectlNamesThem() throws {
        for spelling in ["trainingjobs", "trainingjob", "TrainingJob", "gtj", "trainingjobs.gantry.dev"] {
            #expect(try GantryKind.named(spelling).resource == .trainingJobs, "\(spelling)")
        }
        #expect(try GantryKind.named("gis").resource == .inferenceServices)
        #expect(try GantryKind.named("gnb").resource == .notebooks)
        #expect(try GantryKind.named("gex").resource == .experiments)
        #expect(try GantryKind.named("platformconfig").resource == .platformConfigs)
        #expect(throws: (any Error).self) { try GantryKind.named("pods") }
        let ref = try GantryKind.reference("notebook/alice")
        #expect(ref.kind?.resource == .notebooks && ref.name == "alice")
        #expect(try GantryKind.reference("mnist").kind == nil)
        #expect(try GantryKind.reference("mnist", fallback: GantryKind.trainingJob).kind?.resource == .trainingJobs)
        #expect(throws: (any Error).self) { try GantryKind.reference("a/b/c") }
        #expect(throws: (any Error).self) { try GantryKind.reference("trainingjob/") }
    }

    @Test func agesReadAsKubectlPrintsThem() {
        let cases: [(Int, String)] = [(-5, "<invalid>"), (0, "0s"), (119, "119s"), (120, "2m"), (250, "4m10s"), (1500, "25m"),
                                      (3 * 3600 + 180, "3h3m"), (30 * 3600, "30h"), (3 * 86400 + 4 * 3600, "3d4h"), (45 * 86400, "45d"),
                                      (800 * 86400, "2y70d"), (3000 * 86400, "8y")]
        for (seconds, text) in cases { #expect(HumanDuration.format(seconds: seconds) == text, "\(seconds)") }
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(HumanDuration.since(Timestamp.format(now.addingTimeInterval(-75)), now: now) == "75s")
        #expect(HumanDuration.since(nil, now: now) == "-")
    }

    @Test func aFallingCurveIsDrawnFromTopLeftToBottomRightWithAxesAndLegend() throws {
        let loss = PlotSeries(label: "run-1", points: [.init(x: 0, y: 2), .init(x: 50, y: 1), .init(x: 100, y: 0)])
        let text = LinePlot.render([loss], width: 21, height: 5)
        // Values on the y axis at every quarter, a connected line (one marker in every column), the x axis's first,
        // middle and last step, the legend.
        #expect(text == """
              2 ┤●●●
            1.5 ┤   ●●●●●
              1 ┤        ●●●●●
            0.5 ┤             ●●●●●
              0 ┤                  ●●●
                └─────────────────────
                 0        50       100  step
              ● run-1

            """, "\(text)")
    }

    @Test func severalSeriesGetTheirOwnMarkersAndFlatOrEmptyOnesStillRender() {
        let a = PlotSeries(label: "a", points: [.init(x: 0, y: 1), .init(x: 10, y: 1)])
        let b = PlotSeries(label: "b", points: [.init(x: 0, y: .nan), .init(x: 10, y: .infinity)])
        let text = LinePlot.render([a, b], width: 10, height: 3)
        #expect(text.contains("●●●●●●●●●●"), "a flat series is a line across: \(text)")
        #expect(text.contains("  ● a\n") && text.contains("  ○ b (no points yet)\n"), "\(text)")
        #expect(LinePlot.render([b], width: 10, height: 3).hasPrefix("(no points to plot yet)"))
        let narrow = LinePlot.render([PlotSeries(label: "n", points: [.init(x: 0, y: 1), .init(x: 100, y: 2)])], width: 8, height: 3)
        #expect(narrow.contains("\n     0    100  step\n"), "the ends only, never run together: \(narrow)")
        let many = (0..<11).map { PlotSeries(label: "r\($0)", points: [.init(x: Double($0), y: 1)]) }
        #expect(LinePlot.render(many, width: 20, height: 4).contains("(markers repeat after 10 series)"))
    }

    static let now = Date(timeIntervalSince1970: 1_700_000_000)
    static func ago(_ seconds: Double) -> JSONValue { .string(Timestamp.format(now.addingTimeInterval(-seconds))) }

    @Test func tablesShowPhaseGPUsTheBestMetricWithItsNameAndRevisions() throws {
        var job: JSONValue = ["metadata": ["name": "mnist", "namespace": "ml", "creationTimestamp": Self.ago(300),
                                           "labels": ["gantry.dev/experiment": "sweep"]],
                              "status": ["phase": "Running", "readyReplicas": "2/2", "gpus": 2, "requestedGPUs": 2,
                                         "metrics": ["step": 400, "best": ["name": "loss", "value": 0.09123, "step": 390]]]]
        let kind = try GantryKind.named("gtj")
        #expect(ObjectTable.header(kind, withNamespace: false) == ["NAME", "PHASE", "READY", "GPUS", "BEST", "STEP", "EXPERIMENT", "AGE"])
        #expect(ObjectTable.row(kind, job, now: Self.now, withNamespace: true) == ["ml", "mnist", "Running", "2/2", "2/2", "loss=0.09123", "400", "sweep", "5m"])
        job["status"] = ["phase": "Queued", "requestedGPUs": 4]
        #expect(ObjectTable.row(kind, job, now: Self.now, withNamespace: false)[1...4] == ["Queued", "-", "0/4", "-"])

        let service: JSONValue = ["metadata": ["name": "api", "creationTimestamp": Self.ago(3600)],
                                  "status": ["readyReplicas": 1, "replicas": 1, "activeColor": "green",
                                             "activeRevision": ["hash": "7d9f", "color": "green", "image": "srv:2"],
                                             "candidate": ["revision": ["hash": "81ac"], "phase": "AwaitingPromotion"],
                                             "previousRevision": ["hash": "5b21"], "lastSwap": ["at": Self.ago(90), "reason": "Promoted", "to": "7d9f"]]]
        #expect(ObjectTable.row(try GantryKind.named("gis"), service, now: Self.now, withNamespace: false)
            == ["api", "1/1", "7d9f (green)", "81ac AwaitingPromotion", "5b21", "90s ago (Promoted)", "60m"])

        let notebook: JSONValue = ["metadata": ["name": "alice", "creationTimestamp": Self.ago(7200)],
                                   "status": ["phase": "Running", "gpus": 1, "lastActivity": Self.ago(30)]]
        #expect(ObjectTable.row(try GantryKind.named("gnb"), notebook, now: Self.now, withNamespace: false) == ["alice", "Running", "1", "30s ago", "120m"])

        let experiment: JSONValue = ["metadata": ["name": "sweep", "creationTimestamp": Self.ago(10)], "spec": ["objective": ["metric": "loss"]],
                                     "status": ["phase": "Running", "trials": ["created": 3, "running": 2], "search": ["maxTrials": 6],
                                                "bestTrial": ["name": "sweep-1", "value": 0.5]]]
        #expect(ObjectTable.row(try GantryKind.named("gex"), experiment, now: Self.now, withNamespace: false)
            == ["sweep", "Running", "3/6", "2", "sweep-1", "loss=0.5", "10s"])

        let platform: JSONValue = ["metadata": ["name": "default", "creationTimestamp": Self.ago(86400 * 3)],
                                   "status": ["conditions": [["type": "Ready", "status": "True"]],
                                              "budgets": [["namespace": "a", "state": "Exhausted"], ["namespace": "b", "state": "WithinBudget"]],
                                              "idleGPUs": [["namespace": "a", "pod": "p", "gpus": 1]]]]
        let platformKind = try GantryKind.named("gpc")
        #expect(ObjectTable.header(platformKind, withNamespace: true) == ["NAME", "READY", "BUDGETS", "IDLE-GPU-PODS", "AGE"], "cluster-scoped: no namespace")
        #expect(ObjectTable.row(platformKind, platform, now: Self.now, withNamespace: true) == ["default", "True", "2 namespaces, 1 exhausted", "1", "3d"])
    }

    @Test func theSummaryNamesWhatIsWrongWithReasonAndMessageAndTheWarnings() throws {
        let job: JSONValue = [
            "metadata": ["name": "bad", "namespace": "ml", "uid": "u1", "generation": 2, "creationTimestamp": Self.ago(60)],
            "status": ["phase": "Invalid", "observedGeneration": 2, "requestedGPUs": 16, "conditions": [
                ["type": "Ready", "status": "False", "reason": "GangTooLarge", "message": "16 GPUs asked, 8 on the largest node pool"],
                ["type": "Stalled", "status": "True", "reason": "GangTooLarge", "message": "16 GPUs asked, 8 on the largest node pool"],
                ["type": "Reconciling", "status": "False", "reason": "GangTooLarge", "message": "waiting for a corrected spec"],
                ["type": "Admitted", "status": "False", "reason": "Invalid", "message": "not admitted"],
            ]]]
        let events: [JSONValue] = [
            ["type": "Warning", "reason": "GangTooLarge", "note": "cannot ever run", "eventTime": Self.ago(50), "series": ["count": 3, "lastObservedTime": Self.ago(5)]],
            ["type": "Normal", "reason": "Created", "note": "fine", "eventTime": Self.ago(55)],
        ]
        let children: [(kind: String, object: JSONValue)] = [("Pod", ["metadata": ["name": "bad-0"], "status": ["phase": "Pending",
            "containerStatuses": [["state": ["waiting": ["reason": "ImagePullBackOff"]]]]]])]
        let text = StatusSummary(kind: GantryKind.trainingJob, object: job, children: children, events: events, now: Self.now).render()
        #expect(text.hasPrefix("TrainingJob ml/bad\n  Phase:           Invalid\n  GPUs:            0/16 (held/requested)\n"), "\(text)")
        #expect(text.contains("Wrong:\n  ✗ Stalled=True (GangTooLarge): 16 GPUs asked, 8 on the largest node pool\n"), "\(text)")
        #expect(!text.contains("✗ Ready") && !text.contains("✗ Admitted"), "Ready follows Stalled; Admitted False is not itself trouble: \(text)")
        #expect(text.contains("  Pod/bad-0   Pending (ImagePullBackOff)"), "\(text)")
        #expect(text.contains("Warning events (newest first):\n  5s ago   GangTooLarge   cannot ever run (×3)\n"), "\(text)")
        #expect(!text.contains("Created"), "only warnings: \(text)")

        var healthy = job
        healthy["status"] = ["phase": "Running", "observedGeneration": 1, "conditions": [["type": "Ready", "status": "True", "reason": "Running", "message": "training is running"]]]
        let fine = StatusSummary(kind: GantryKind.trainingJob, object: healthy, children: [], events: [], now: Self.now).render()
        #expect(fine.contains("Nothing wrong.\n  Ready=True (Running): training is running\n"), "\(fine)")
        #expect(fine.contains("Not yet seen:    generation 2 (the controller last acted on 1)"), "\(fine)")
        #expect(fine.contains("Children: none\n") && fine.hasSuffix("Warning events: none\n"), "\(fine)")
        #expect(StatusSummary.isWrong(["type": "Idle", "status": "Unknown"]))
    }

    @Test func historiesComeFromStatusOrRecordForTheObjectiveOrAnotherMetric() throws {
        let metrics: JSONValue = ["step": 30, "best": ["name": "loss", "value": 0.5, "step": 30], "history": [[10, 2.0], [20, 1.0], [30, 0.5]],
                                  "additional": [["name": "acc", "best": ["name": "acc", "value": 0.9], "history": [[10, 0.5], [30, 0.9]]]]]
        let job: JSONValue = ["metadata": ["name": "t-2", "labels": ["gantry.dev/trial-index": "2"]], "status": ["phase": "Succeeded", "metrics": metrics]]
        let run = try #require(try RunHistory.read(trainingJob: job, requested: nil))
        #expect(run.metric == "loss" && run.points.map(\.y) == [2.0, 1.0, 0.5] && run.trialIndex == 2)
        #expect(run.label == "t-2  loss=0.5 at step 30 (Succeeded)")
        let acc = try #require(try RunHistory.read(trainingJob: job, requested: "acc"))
        #expect(acc.points.map(\.x) == [10, 30] && acc.best?.value == 0.9)
        let record: JSONValue = ["job": "t-1", "phase": "Deleted", "objective": ["metric": "loss"], "metrics": ["history": [[5, 3.0]]]]
        let old = try #require(try RunHistory.read(record: record, requested: nil))
        #expect(old.metric == "loss" && old.label == "t-1  loss: no value yet (Deleted)" && old.points.count == 1)
        #expect(try RunHistory.read(record: ["job": "x"], requested: nil) == nil, "no metric and no objective: nothing to plot")
        #expect(throws: PluginError.self, "a metrics section that does not decode is said, not plotted empty") {
            try RunHistory.read(record: ["job": "x", "metrics": ["history": "not pairs"]], requested: nil)
        }
        #expect(RunHistory.ordered([old, run]).map(\.job) == ["t-2", "t-1"], "trials in search order first")
    }

    @Test func logStreamsArePrefixedWithPodAndContainerAsKubectlPrefixes() {
        let pods: [JSONValue] = [
            ["metadata": ["name": "job-1"], "spec": ["containers": [["name": "trainer"], ["name": "sidecar"]]]],
            ["metadata": ["name": "job-0"], "spec": ["containers": [["name": "trainer"]]]],
        ]
        #expect(LogPrefix.streams(pods, container: nil).map(\.prefix) == ["[pod/job-0/trainer] ", "[pod/job-1/trainer] ", "[pod/job-1/sidecar] "])
        #expect(LogPrefix.streams(pods, container: "sidecar").map(\.pod) == ["job-1"])
        let finished: JSONValue = ["status": ["replicaStatuses": [["index": 0, "podName": "job-0", "lastLogLines": ["a", "b"]],
                                                                  ["index": 1, "podName": "job-1", "lastLogLines": ["c"]]]]]
        #expect(LogPrefix.keptLines(finished) == ["[pod/job-0] a", "[pod/job-0] b", "[pod/job-1] c"])
    }
}
