import Testing
import KubeCore
@testable import GantryCLI

/// The pure logic of `gantry records`: hyperparameter columns, the best mark, the order, CSV.
struct RecordListingTests {
    static func record(_ job: String, experiment: String? = "sweep", namespace: String = "default", phase: String = "Succeeded",
                       hp: [String: String] = [:], metric: String? = "loss", value: Double? = nil,
                       objective: (String, String?)? = nil, finished: String = "2025-01-01T10:00:00Z") -> RecordRow {
        var doc: JSONValue = ["job": .string(job), "namespace": .string(namespace), "phase": .string(phase),
                              "completionTime": .string(finished), "gpuHours": 0.5, "image": "ghcr.io/x/train:1",
                              "imageID": "ghcr.io/x/train@sha256:abc", "nodes": ["gpu-1", "gpu-0"],
                              "result": ["reason": .string(phase), "message": "m"]]
        if let experiment { doc["experiment"] = .string(experiment) }
        if !hp.isEmpty { doc["hyperparameters"] = .object(hp.mapValues(JSONValue.string)) }
        if let metric, let value { doc["metrics"] = ["step": 100, "best": ["name": .string(metric), "value": .double(value), "step": 90]] }
        if let objective {
            doc["objective"] = ["metric": .string(objective.0)]
            if let goal = objective.1 { doc[path: "objective", "goal"] = .string(goal) }
        }
        return RecordRow(document: doc, configMapNamespace: namespace, annotatedJob: job)
    }

    static func bestJobs(_ rows: [RecordRow]) -> [String] {
        RecordListing.markingBest(rows).filter(\.isBest).map(\.job).sorted()
    }

    @Test func hyperparameterColumnsAreTheUnionOfKeysSortedAndUpperCased() {
        let rows = [Self.record("a", hp: ["lr": "0.1", "batch-size": "32"]), Self.record("b", hp: ["lr": "0.01", "warmup": "5"])]
        let table = RecordTable(rows, withNamespace: false, wide: false)
        #expect(table.hyperparameterKeys == ["batch-size", "lr", "warmup"])
        #expect(table.header() == ["", "JOB", "EXPERIMENT", "BATCH_SIZE", "LR", "WARMUP", "OBJECTIVE", "PHASE", "GPU-HOURS", "FINISHED"])
        #expect(table.cells(rows[1])[3...5] == ["-", "0.01", "5"])
    }

    @Test func aHyperparameterNamedLikeAFixedColumnKeepsItsPrefix() {
        let table = RecordTable([Self.record("a", hp: ["phase": "2"])], withNamespace: false, wide: false)
        #expect(table.hyperparameterHeaders == ["HP_PHASE"])
    }

    @Test func minimizeMarksTheLowestJudgedValue() {
        let rows = [
            Self.record("a", value: 0.3), Self.record("b", phase: "EarlyStopped", value: 0.2),
            Self.record("c", phase: "Failed", value: 0.05),   // lower, but a failed run never wins
            Self.record("d", phase: "Deleted", value: 0.01),
            Self.record("e", value: nil),                     // no value never wins
        ]
        #expect(Self.bestJobs(rows) == ["b"])
    }

    @Test func maximizeMarksTheHighestAndMetricsOtherThanTheObjectiveDoNotCount() {
        let rows = [
            Self.record("a", metric: "acc", value: 0.8, objective: ("acc", "maximize")),
            Self.record("b", metric: "acc", value: 0.9, objective: ("acc", "maximize")),
            Self.record("c", metric: "loss", value: 5, objective: ("acc", "maximize")),  // best is another metric: no value
        ]
        #expect(Self.bestJobs(rows) == ["b"])
        #expect(rows[2].value == nil)
        #expect(RecordTable(rows, withNamespace: false, wide: false).cells(rows[2]).contains("acc=-"))
    }

    @Test func theObjectiveValueMayComeFromTheAdditionalMetrics() {
        let doc: JSONValue = ["job": "a", "phase": "Succeeded", "objective": ["metric": "val_acc", "goal": "maximize"],
                              "metrics": ["best": ["name": "loss", "value": 0.3],
                                          "additional": [["name": "val_acc", "goal": "maximize", "best": ["name": "val_acc", "value": 0.91]]]]]
        let row = RecordRow(document: doc, configMapNamespace: "default", annotatedJob: nil)
        #expect(row.value == 0.91 && row.objective == RecordObjective(metric: "val_acc", goal: .maximize, assumed: false))
    }

    @Test func withoutObjectiveTheBestMetricsOwnGoalIsNotAnAssumption() {
        let doc: JSONValue = ["job": "a", "metrics": ["best": ["name": "acc", "value": 0.8, "goal": "maximize"]]]
        let row = RecordRow(document: doc, configMapNamespace: "default", annotatedJob: nil)
        #expect(row.objective == RecordObjective(metric: "acc", goal: .maximize, assumed: false) && row.value == 0.8)
    }

    @Test func recordsWithoutObjectiveAreJudgedByTheirBestMetricMinimizedAndSaySo() {
        let rows = [Self.record("a", value: 0.3), Self.record("b", value: 0.4)]
        #expect(rows[0].objective == RecordObjective(metric: "loss", goal: .minimize, assumed: true))
        #expect(Self.bestJobs(rows) == ["a"])
        let wide = RecordTable(rows, withNamespace: false, wide: true)
        let cells = wide.cells(rows[0])
        #expect(cells[wide.header().firstIndex(of: "GOAL") ?? 0] == "minimize (assumed)")
    }

    @Test func oldRecordsCountUnderTheGoalNewerRecordsState() {
        let rows = [
            Self.record("old", value: 0.9, finished: "2025-01-01T00:00:00Z"),
            Self.record("new", value: 0.7, objective: ("loss", "maximize"), finished: "2025-01-02T00:00:00Z"),
        ]
        #expect(Self.bestJobs(rows) == ["old"])
    }

    @Test func eachExperimentOfEachNamespaceHasItsOwnBestAndRecordsWithoutExperimentNone() {
        let rows = [
            Self.record("a", value: 0.3), Self.record("b", value: 0.2),
            Self.record("c", namespace: "other", value: 0.9),
            Self.record("d", experiment: "x", value: 0.5),
            Self.record("lone", experiment: nil, value: 0.1),
        ]
        #expect(Self.bestJobs(rows) == ["b", "c", "d"])
    }

    @Test func equalValuesGoToTheRunThatFinishedFirst() {
        let rows = [Self.record("late", value: 0.2, finished: "2025-01-02T00:00:00Z"),
                    Self.record("early", value: 0.2, finished: "2025-01-01T00:00:00Z")]
        #expect(Self.bestJobs(rows) == ["early"])
    }

    @Test func sortByObjectivePutsTheBestFirstThenOtherValuesThenNone() {
        let rows = RecordListing.markingBest([
            Self.record("none", value: nil, finished: "2025-01-01T00:00:00Z"),
            Self.record("failed", phase: "Failed", value: 0.01),
            Self.record("mid", value: 0.5), Self.record("best", value: 0.2), Self.record("worst", phase: "EarlyStopped", value: 0.9),
        ])
        let sorted = RecordListing.sorted(rows, by: .objective)
        #expect(sorted.map(\.job) == ["best", "mid", "worst", "failed", "none"])
        #expect(sorted.first?.isBest == true)

        let maximize = [Self.record("a", metric: "acc", value: 0.5, objective: ("acc", "maximize")),
                        Self.record("b", metric: "acc", value: 0.7, objective: ("acc", "maximize"))]
        #expect(RecordListing.sorted(maximize, by: .objective).map(\.job) == ["b", "a"])
    }

    @Test func sortByFinishedAndByName() {
        let rows = [Self.record("b", finished: "2025-01-02T00:00:00Z"), Self.record("a", finished: "2025-01-03T00:00:00Z"),
                    Self.record("c", finished: "2025-01-01T00:00:00Z")]
        #expect(RecordListing.sorted(rows, by: .finished).map(\.job) == ["c", "b", "a"])
        #expect(RecordListing.sorted(rows, by: .name).map(\.job) == ["a", "b", "c"])
    }

    @Test func csvQuotesOnlyWhatNeedsQuotingAndEndsLinesWithCRLF() {
        #expect(RecordTable.csvField("plain") == "plain")
        #expect(RecordTable.csvField("a,b") == "\"a,b\"")
        #expect(RecordTable.csvField("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(RecordTable.csvField("two\nlines") == "\"two\nlines\"")
        #expect(RecordTable.csvField("crlf\r\n") == "\"crlf\r\n\"")

        let rows = RecordListing.markingBest([Self.record("a", hp: ["opt": "adam,beta=0.9"], value: 0.25)])
        let csv = RecordTable(rows, withNamespace: false, wide: false).csv(rows)
        let lines = csv.components(separatedBy: "\r\n")
        #expect(lines.count == 3 && lines[2].isEmpty)
        #expect(lines[0] == "BEST,NAMESPACE,JOB,EXPERIMENT,OPT,OBJECTIVE,VALUE,PHASE,GPU-HOURS,FINISHED,GOAL,IMAGE,IMAGE-ID,GIT-COMMIT,NODES,REASON")
        #expect(lines[1] == "*,default,a,sweep,\"adam,beta=0.9\",loss,0.25,Succeeded,0.5,2025-01-01T10:00:00Z,minimize (assumed),ghcr.io/x/train:1,sha256:abc,,\"gpu-1,gpu-0\",Succeeded")
    }

    @Test func aDocumentWithoutJobFallsBackToTheAnnotation() {
        let row = RecordRow(document: ["phase": "Failed"], configMapNamespace: "ns", annotatedJob: "run.v2")
        #expect(row.job == "run.v2" && row.namespace == "ns" && row.objective == nil && !row.isJudged)
        #expect(RecordTable([row], withNamespace: true, wide: true).cells(row)
            == ["", "ns", "run.v2", "-", "-", "Failed", "-", "-", "-", "-", "-", "-", "-", "-"])
    }
}
