import Testing
import GantryAPI
import KubeCore
@testable import GantryControllers

@Suite struct MetricLineTests {
    @Test func keyValueAndJSONLines() throws {
        let kv = try #require(MetricLine.parse("epoch 3: step=120 loss=0.42, val_acc=0.81 lr: 0.001", format: .keyValue, stepKey: "step"))
        #expect(kv.step == 120)
        #expect(kv.values == ["loss": 0.42, "val_acc": 0.81, "lr": 0.001])
        let json = try #require(MetricLine.parse(#"{"iter": 7, "loss": "nan", "note": "x"}"#, format: .json, stepKey: "iter"))
        #expect(json.step == 7)
        #expect(json.values["loss"]?.isNaN == true)
        #expect(MetricLine.parse("loading data from s3://bucket", format: .keyValue, stepKey: "step") == nil)
        #expect(MetricLine.parse("not json", format: .json, stepKey: "step") == nil)
    }
}

@Suite struct EarlyStoppingRulesTests {
    func series(_ values: [Double], goal: EarlyStopping.Goal = .minimize, minDelta: Double = 0) -> (MetricSeries, Double) {
        var s = MetricSeries(metric: "loss", goal: goal, minDelta: minDelta)
        var last = 0.0
        for (i, v) in values.enumerated() { last = s.record(MetricLine(step: (i + 1) * 10, values: ["loss": v])) ?? last }
        return (s, last)
    }

    func rules(_ json: String) throws -> EarlyStopping {
        try JSONValueBridge.decode(json)
    }

    @Test func patienceStopsAfterNEvaluationsWithoutImprovement() throws {
        let r = try rules(#"{"metric": "loss", "patience": {"evaluations": 3, "minDelta": 0.01}}"#)
        let (improving, v1) = series([1.0, 0.9, 0.8, 0.7])
        #expect(EarlyStoppingRules.evaluate(improving, lastValue: v1, rules: r, peers: []) == nil)
        let (flat, v2) = series([1.0, 0.5, 0.499, 0.498, 0.497], minDelta: 0.01)
        let stop = try #require(EarlyStoppingRules.evaluate(flat, lastValue: v2, rules: r, peers: []))
        #expect(stop.rule == "patience")
        #expect(stop.step == 50)
        #expect(stop.message.contains("best 0.497"))
    }

    @Test func thresholdAppliesFromStartStepWithTheGoal() throws {
        let r = try rules(#"{"metric": "acc", "goal": "maximize", "threshold": {"bound": 0.5, "startStep": 30}}"#)
        var s = MetricSeries(metric: "acc", goal: .maximize)
        s.record(MetricLine(step: 10, values: ["acc": 0.1]))
        #expect(EarlyStoppingRules.evaluate(s, lastValue: 0.1, rules: r, peers: []) == nil)  // before startStep
        s.record(MetricLine(step: 30, values: ["acc": 0.4]))
        #expect(EarlyStoppingRules.evaluate(s, lastValue: 0.4, rules: r, peers: [])?.rule == "threshold")
        s.record(MetricLine(step: 40, values: ["acc": 0.6]))
        #expect(EarlyStoppingRules.evaluate(s, lastValue: 0.6, rules: r, peers: []) == nil)
    }

    @Test func divergenceStopsAtOnceUnlessDisabled() throws {
        let (s, v) = series([1.0, .nan])
        #expect(EarlyStoppingRules.evaluate(s, lastValue: v, rules: try rules(#"{"metric": "loss"}"#), peers: [])?.rule == "divergence")
        #expect(EarlyStoppingRules.evaluate(s, lastValue: v, rules: try rules(#"{"metric": "loss", "stopOnDivergence": false}"#), peers: []) == nil)
    }

    @Test func medianComparesWithTrialsThatReachedTheStep() throws {
        let r = try rules(#"{"metric": "loss", "median": {"minTrials": 3}}"#)
        let peers = (0..<3).map { i in
            EarlyStoppingRules.Peer(name: "p\(i)", history: [.init(step: 10, value: 0.5 + Double(i) * 0.1), .init(step: 20, value: 0.3 + Double(i) * 0.1)], lastStep: 20)
        }
        let (bad, v1) = series([0.9, 0.8])  // best 0.8 at step 20; peers' medians 0.4
        let stop = try #require(EarlyStoppingRules.evaluate(bad, lastValue: v1, rules: r, peers: peers))
        #expect(stop.rule == "median")
        #expect(stop.message.contains("median 0.4"))
        let (good, v2) = series([0.4, 0.2])
        #expect(EarlyStoppingRules.evaluate(good, lastValue: v2, rules: r, peers: peers) == nil)
        // Too few trials have reached step 20: no decision yet.
        #expect(EarlyStoppingRules.evaluate(bad, lastValue: v1, rules: r, peers: Array(peers.prefix(2))) == nil)
    }

    @Test func medianDecidesAtTheLatestStepEnoughPeersReachedWhenTheyRunSideBySide() throws {
        let r = try rules(#"{"metric": "loss", "median": {"minTrials": 2}}"#)
        // Peers report every 10 steps and are one report behind: a rule waiting for step 30 would wait for them.
        let peers = (0..<2).map { i in
            EarlyStoppingRules.Peer(name: "p\(i)", history: [.init(step: 10, value: 0.5), .init(step: 20, value: 0.3)], lastStep: 20)
        }
        let (bad, v) = series([0.9, 0.85, 0.8])  // steps 10, 20, 30
        let stop = try #require(EarlyStoppingRules.evaluate(bad, lastValue: v, rules: r, peers: peers))
        #expect(stop.step == 20)
        #expect(stop.value == 0.85)
    }

    @Test func historyIsBoundedAndKeepsItsShape() {
        var s = MetricSeries(metric: "loss", goal: .minimize)
        for i in 0..<10_000 { s.record(MetricLine(step: i, values: ["loss": 1.0 / Double(i + 1)])) }
        #expect(s.history.count <= MetricSeries.historyLimit + 1)
        #expect(s.history.first?.step == 0)
        #expect(s.history.last.map { $0.step > 9000 } == true)
        #expect(s.best?.step == 9999)
    }
}

enum JSONValueBridge {
    static func decode<T: Decodable>(_ text: String) throws -> T {
        try JSONValue.parse(text).decode(T.self)
    }
}
