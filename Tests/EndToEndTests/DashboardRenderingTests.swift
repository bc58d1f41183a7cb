import Foundation
import GantryAPI
import KubeCore
import Testing
@testable import GantryCLI

/// The pure part of `gantry dashboard`: objects → view models → HTML/SVG (DashboardTests drives the real path).
struct DashboardRenderingTests {
    let pages: DashboardPages
    /// Every template parses (a parse error fails here, naming the template).
    init() throws { pages = try DashboardPages(identity: "tester@test") }

    @Test func aKnownHistoryBecomesKnownPolylinePoints() {
        // x 0...100 on round ticks of 20 across the plot (64...580); y 0.5...2 on ticks of 0.5, top 16, bottom 276.
        let chart = LossChart(metric: "loss", series: [.init(name: "run-1", history: [[0, 2.0], [50, 1.0], [100, 0.5]])])
        #expect(chart.lines.map(\.points) == ["64.0,16.0 322.0,189.3 580.0,276.0"])
        #expect(chart.xTicks.map(\.label) == ["0", "20", "40", "60", "80", "100"])
        #expect(chart.yTicks.map(\.label) == ["0.5", "1", "1.5", "2"])
        #expect(chart.yTicks.first?.position == "276.0" && chart.yTicks.last?.position == "16.0")
        #expect(!chart.isEmpty)
    }

    @Test func runsGetTheirOwnColourTheBestIsThickerAndBadPointsAreDropped() {
        let chart = LossChart(metric: "loss", series: [
            .init(name: "a", history: [[10, 1.0], [20, .nan], [30]]),  // NaN and a malformed pair left out: one point, a dot
            .init(name: "b", history: [[10, 2.0], [20, 1.0]], emphasized: true),
            .init(name: "c", history: []),
        ])
        #expect(chart.lines.map(\.name) == ["a", "b"])
        #expect(chart.lines.map(\.color) == [LossChart.palette[0], LossChart.palette[1]])
        #expect(chart.lines.map(\.strokeWidth) == ["1.5", "3"])
        #expect(chart.lines[0].dot != nil && chart.lines[1].dot == nil)
        #expect(chart.legend.map(\.name) == ["a", "b", "c"], "a run without points is still in the legend")
        #expect(LossChart(metric: "loss", series: [.init(name: "a", history: [])]).isEmpty)
        // Past the palette, colours come back dashed: no two of 40 runs are drawn alike.
        let many = (0..<40).map { "\(LossChart.color($0)) \(LossChart.dashes($0) ?? "solid")" }
        #expect(Set(many).count == 40)
    }

    @Test func conditionsAreColouredByWhatTheirStatusMeans() {
        let rows = ConditionRow.rows([Condition(type: "Ready", status: .false, reason: "NotReady", message: ""),
                                      Condition(type: "Degraded", status: .false, reason: "AsExpected", message: ""),
                                      Condition(type: "Degraded", status: .true, reason: "ReplicasMissing", message: "", observedGeneration: 1),
                                      Condition(type: "Ready", status: .true, reason: "Serving", message: "", observedGeneration: 2)],
                                     generation: 2)
        #expect(rows.map(\.tone) == ["bad", "neutral", "bad", "good"])
        #expect(rows.map(\.stale) == [false, false, true, false])
    }

    @Test func idleGPUsAreCountedPerNodeAndPerNamespaceAndBudgetsDrawnAsBars() {
        func node(_ name: String, gpus: Int) -> JSONValue {
            var n: JSONValue = ["apiVersion": "v1", "kind": "Node", "status": ["allocatable": ["nvidia.com/gpu": .string(String(gpus))]]]
            n.name = name
            return n
        }
        func pod(_ name: String, node: String, gpus: Int) -> JSONValue {
            var p: JSONValue = ["apiVersion": "v1", "kind": "Pod", "status": ["phase": "Running"],
                                "spec": ["nodeName": .string(node), "containers": [["name": "c", "resources": ["limits": ["nvidia.com/gpu": .string(String(gpus))]]]]]]
            p.name = name
            p.namespace = "team-a"
            return p
        }
        let platform: JSONValue = [
            "spec": ["idleGPUs": ["checkPeriodSeconds": 60]],
            "status": ["idleGPUs": [["namespace": "team-a", "pod": "a", "gpus": 2, "idleSince": "2026-12-01T10:00:00Z", "idle": true],
                                    ["namespace": "team-a", "pod": "b", "gpus": 1, "idleSince": "2026-12-01T10:00:00Z", "idle": false]],
                       "budgets": [["namespace": "team-a", "month": "2026-12", "usedGPUHours": 30, "gpuHoursPerMonth": 40, "state": "Warning"]]],
        ]
        let page = GPUViews.page(nodes: Listing(items: [node("n1", gpus: 4), node("n2", gpus: 4)]),
                                 pods: Listing(items: [pod("a", node: "n1", gpus: 2), pod("b", node: "n2", gpus: 1)]), platform: platform)
        #expect(page.nodes.rows.map { [$0.name, $0.allocated, $0.free, $0.idle] } == [["n1", "2", "2", "2"], ["n2", "1", "3", "0"]])
        #expect(page.namespaces.rows.map { [$0.name, $0.allocated, $0.idle, $0.used, $0.budget, $0.barWidth] } == [["team-a", "3", "2", "30", "40", "75.0"]])
        #expect(page.namespaces.rows.first?.overWarning == true)
        #expect(page.idlePods.rows.map(\.pod) == ["a"], "below the threshold but not yet past the window: not idle")
        let html = pages.render("gpus", title: "GPUs", page)
        #expect(html.contains(#"<span class="bar over"><span style="width:75.0%"></span></span> 75.0%"#), "\(html)")
        #expect(!html.contains("Idle-GPU detection is off"))
    }

    @Test func listsCountTrialsAsPeopleDo() {
        let names = ["run-10", "run-2", "run-1"].map { ("default", $0) }.sorted { DashboardFormat.inOrder($0, $1) }.map(\.1)
        #expect(names == ["run-1", "run-2", "run-10"])
        #expect(DashboardFormat.inOrder(("a", "z"), ("b", "a")))
    }

    @Test func oneValueIsCentredInsteadOfDividingByZero() {
        let scale = LossChart.niceScale(2, 2)
        #expect(scale.low < 2 && scale.high > 2)
        let chart = LossChart(metric: "loss", series: [.init(name: "a", history: [[5, 2.0], [5, 2.0]])])
        #expect(chart.lines.first?.points.contains("nan") == false)
    }

    @Test func theChartRendersAsSVGWithAxesLegendAndOnePolylinePerRun() {
        let chart = LossChart(metric: "loss", series: [.init(name: "run-1", history: [[0, 2.0], [100, 0.5]]),
                                                       .init(name: "run-2", history: [[0, 1.8], [100, 0.9]], emphasized: true)])
        let page = TrainingJobPage(title: "t", facts: [], charts: [chart], replicas: [], conditions: [])
        let html = pages.render("trainingjob", title: "t", page)
        #expect(html.contains(##"<polyline class="run" data-run="run-1" fill="none" stroke="#0072B2" stroke-width="1.5" stroke-linejoin="round" points="64.0,16.0 580.0,276.0">"##), "\(html)")
        #expect(html.components(separatedBy: "<polyline").count == 3)
        #expect(html.contains("run-2 ★ best"))
        #expect(html.contains(">step</text>") && html.contains(">loss</text>"))
        #expect(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"), "no script, nothing fetched")
    }

    static func record(_ job: String, hp: [String: String], value: Double, phase: String = "Succeeded") -> JSONValue {
        let document: JSONValue = [
            "job": .string(job), "namespace": "default", "experiment": "sweep", "phase": .string(phase),
            "hyperparameters": .object(hp.mapValues(JSONValue.string)), "objective": ["metric": "loss", "goal": "minimize"],
            "metrics": ["step": 30, "best": ["name": "loss", "value": .double(value), "step": 30],
                        "history": [[10, 2.0], [20, 1.5], [30, .double(value)]]],
            "completionTime": "2026-12-01T10:00:00Z",
        ]
        var cm: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "data": ["record.json": .string(document.serialized())]]
        cm.name = "\(job)-record"
        cm.namespace = "default"
        cm.annotations = ["gantry.dev/trainingjob": job]
        return cm
    }

    @Test func anExperimentOfRecordsComparesItsRunsAndMarksTheBest() throws {
        let records = ExperimentViews.recordRows([Self.record("sweep-1", hp: ["lr": "0.1"], value: 0.9),
                                                  Self.record("sweep-2", hp: ["lr": "0.01"], value: 0.3),
                                                  Self.record("sweep-3", hp: ["lr": "0.5"], value: 0.1, phase: "Failed")])
        let page = try #require(ExperimentViews.page(namespace: "default", name: "sweep", experiment: nil, jobs: [], records: records))
        #expect(page.runs.map(\.name) == ["sweep-1", "sweep-2", "sweep-3"])
        #expect(page.runs.filter(\.isBest).map(\.name) == ["sweep-2"], "a failed run's lower loss does not win")
        #expect(page.chart.lines.count == 3)
        #expect(page.records.headers == ["Best", "JOB", "EXPERIMENT", "LR", "OBJECTIVE", "PHASE", "GPU-HOURS", "FINISHED"])
        #expect(page.records.rows.first?.cells.prefix(2) == ["★ best", "sweep-2"])
        let list = ExperimentViews.list(experiments: [], records: records)
        #expect(list.map(\.name) == ["sweep"] && list.first?.best == "sweep-2 (loss 0.3)")
        #expect(ExperimentViews.page(namespace: "default", name: "other", experiment: nil, jobs: [], records: []) == nil)
    }

    /// Names are DNS labels, but hyperparameter values, condition messages and event notes are anything a user
    /// wrote: each is text on the page, never markup.
    @Test func userTextIsEscapedOnEveryPage() throws {
        let attack = "<script>alert(1)</script>"
        let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
        let records = ExperimentViews.recordRows([Self.record("sweep-1", hp: ["note": attack], value: 0.9)])
        let experiment = try #require(ExperimentViews.page(namespace: "default", name: "sweep", experiment: nil, jobs: [], records: records))
        var html = [pages.render("experiment", title: experiment.title, experiment)]

        var notebook: JSONValue = ["apiVersion": "gantry.dev/v1alpha1", "kind": "Notebook", "spec": ["image": "jupyter"],
                                   "status": ["phase": "Running", "conditions": [["type": "Idle", "status": "True", "reason": "NoActivity",
                                                                                 "message": .string(attack), "lastTransitionTime": "2026-12-01T10:00:00Z"]]]]
        notebook.name = "nb"
        notebook.namespace = "default"
        notebook[path: "metadata", "uid"] = "u1"
        html.append(pages.list("notebooks", title: "Notebooks", Section(NotebookViews.rows([notebook], now: Date()))))

        var event: JSONValue = ["apiVersion": "events.k8s.io/v1", "kind": "Event", "type": "Warning", "reason": "ValidationFailed",
                                "note": .string(attack), "eventTime": "2026-12-01T10:00:00.000000Z", "regarding": ["uid": "s1"]]
        event.name = "e1"
        var service: JSONValue = ["apiVersion": "gantry.dev/v1alpha1", "kind": "InferenceService", "spec": ["image": "serve:1"],
                                  "status": ["url": .string("http://api.default.svc/\(attack)")]]
        service.name = "api"
        service.namespace = "default"
        service[path: "metadata", "uid"] = "s1"
        let servicePage = try InferenceServiceViews.page(service, events: Listing(items: [event]))
        #expect(servicePage.history.rows.count == 1)
        html.append(pages.render("inferenceservice", title: servicePage.title, servicePage))
        html.append(pages.message(title: attack, attack))

        for page in html {
            #expect(!page.contains("<script"), "\(page)")
            #expect(page.contains(escaped), "\(page)")
        }
    }

    @Test func aSectionTheUserMayNotReadSaysNoAccess() {
        let denied = Unavailable.forbidden(#"notebooks.gantry.dev is forbidden: User "viewer" cannot list resource "notebooks""#)
        let html = pages.list("notebooks", title: "Notebooks", Section<NotebookRow>(unavailable: denied))
        #expect(html.contains("<b>No access</b>: notebooks.gantry.dev is forbidden: User &quot;viewer&quot; cannot list"))
        #expect(!html.contains("No Notebooks."))
        let narrowed = pages.list("notebooks", title: "Notebooks", Section<NotebookRow>([], from: Listing(narrowedTo: "team-a")))
        #expect(narrowed.contains("Showing namespace team-a only: you may not list across namespaces."))
    }

    @Test func theCullingDeadlineIsTheIdleTimeoutAfterTheLastActivity() {
        var status = NotebookStatus()
        status.phase = .running
        status.startedAt = "2026-12-01T10:00:00Z"
        status.lastActivity = "2026-12-01T10:05:00Z"
        var culling = NotebookStatus.CullingStatus()
        culling.idleTimeoutSeconds = 600
        status.culling = culling
        #expect(NotebookViews.cullingDeadline(status) == "2026-12-01T10:15:00Z")
        status.lastActivity = "2026-12-01T09:00:00Z"  // before this start (a restart after a cull): the start counts
        #expect(NotebookViews.cullingDeadline(status) == "2026-12-01T10:10:00Z")
        status.phase = .culled
        #expect(NotebookViews.cullingDeadline(status) == nil)
        let now = Timestamp.parse("2026-12-01T10:06:00Z") ?? Date()
        #expect(DashboardFormat.relative("2026-12-01T10:10:00Z", now: now) == "2026-12-01T10:10:00Z (in 4m 0s)")
        #expect(DashboardFormat.relative("2026-12-01T10:05:30Z", now: now) == "2026-12-01T10:05:30Z (30s ago)")
    }
}
