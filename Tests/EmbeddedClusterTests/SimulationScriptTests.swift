import Foundation
import GantryTestSupport
import Synchronization
import KubeCore
import KubeYAML
import Testing

@testable import EmbeddedCluster

@Suite struct SimulationScriptTests {
    let context = ScriptContext(pod: "train-0", namespace: "ml", container: "main", node: "gpu-a100-0",
                                startTime: SimFixtures.now)

    /// A curve's end may be an expression of the container's env (an Experiment's trials learn towards a value set by
    /// their hyperparameters); a variable the container lacks prints nan; a malformed expression names field and place.
    @Test func curveEndsAreExpressionsOfTheEnvironment() throws {
        let script = try PodScript.parse("""
            {logs: [{series: {every: 1s, count: 2, template: "loss={loss:.3}", loss: {from: 2.0, to: "0.1 + (log10(HP_LR) + 2)^2 * HP_B / 4", curve: linear}}}]}
            """)
        let s = try #require(script.all)
        var env = context
        env.env = ["HP_LR": "0.001", "HP_B": "8"]
        #expect(ScriptLogs.lines(s, after: -1, through: 10, context: env).map(\.text) == ["loss=2.000", "loss=2.100"])
        #expect(ScriptLogs.lines(s, after: -1, through: 10, context: context).map(\.text) == ["loss=nan", "loss=nan"])
        #expect(try ScriptExpression.parse("-2^2 + max(1, 3) * 2").evaluate([:]) == 2)
        #expect(throws: ScriptError.self) { try PodScript.parse(#"{logs: [{series: {every: 1s, template: "{loss}", loss: {from: 1, to: "1 + (2"}}}]}"#) }
        do {
            _ = try PodScript.parse(#"{logs: [{series: {every: 1s, template: "{loss}", loss: {from: 1, to: "sin(2)"}}}]}"#)
            Issue.record("an unknown function was accepted")
        } catch {
            #expect(error.field.hasSuffix(".loss.to") && error.message.contains("unknown function sin"), "\(error)")
        }
    }

    @Test func lossCurveSeries() throws {
        let script = try PodScript.parse("""
            {logs: [{at: 0s, line: "starting on {node}"},
                    {series: {at: 1s, every: 0.5s, count: 5, start: 0, step: 10,
                              template: "step={step} loss={loss:.3}", loss: {from: 2.0, to: 0.1, curve: linear}}}],
             exit: {code: 0}}
            """)
        let s = try #require(script.all)
        let lines = ScriptLogs.lines(s, after: -1, through: 100, context: context)
        #expect(lines.map(\.text) == ["starting on gpu-a100-0", "step=0 loss=2.000", "step=10 loss=1.525", "step=20 loss=1.050",
                                      "step=30 loss=0.575", "step=40 loss=0.100"])
        #expect(lines.map(\.at) == [0, 1, 1.5, 2, 2.5, 3])
        #expect(s.exitAfter == 3)
        // Windows are half-open (after, through]: nothing is written twice.
        let first = ScriptLogs.lines(s, after: -1, through: 1.5, context: context)
        let rest = ScriptLogs.lines(s, after: 1.5, through: 100, context: context)
        #expect((first + rest).map(\.text) == lines.map(\.text))
    }

    @Test func curvesShapes() {
        let exp = ContainerScript.Curve(from: 2, to: 0.1, shape: .exp)
        let v0 = ScriptLogs.value(exp, index: 0, count: 11, name: "loss")
        let v5 = ScriptLogs.value(exp, index: 5, count: 11, name: "loss")
        let v10 = ScriptLogs.value(exp, index: 10, count: 11, name: "loss")
        #expect(v0 == 2 && v5 < 0.3 && v10 < v5 && v10 > 0.1)
        let diverge = ContainerScript.Curve(from: 2, to: 0.1, shape: .diverge)
        #expect(ScriptLogs.value(diverge, index: 100, count: 101, name: "loss").isNaN)
        #expect(ScriptLogs.value(diverge, index: 70, count: 101, name: "loss") > ScriptLogs.value(diverge, index: 50, count: 101, name: "loss"))
        let noisy = ContainerScript.Curve(from: 1, to: 1, shape: .flat, noise: 0.1)
        let a = ScriptLogs.value(noisy, index: 3, count: 10, name: "x")
        #expect(a == ScriptLogs.value(noisy, index: 3, count: 10, name: "x") && abs(a - 1) <= 0.1)
    }

    @Test func endlessSeriesIsWindowed() throws {
        let s = try #require(try PodScript.parse(#"{"logs": [{"every": "1ms", "line": "tick {i}"}]}"#).all)
        let lines = ScriptLogs.lines(s, after: -1, through: 3600, context: context)
        #expect(lines.count == ScriptLogs.maxLinesPerWindow)
        #expect(s.exitAfter == nil)
    }

    @Test func blockYAMLScripts() throws {
        let script = try PodScript.parse("""
            logs:
            - at: 1s
              line: hello {pod}
            - series: {every: 1s, count: 2, template: "loss={loss:.1}", loss: {from: 1, to: 0, curve: linear}}
            exit:
              code: 2
            http:
              /healthz: {status: 200, body: ok}
            """)
        let s = try #require(script.all)
        #expect(ScriptLogs.lines(s, after: -1, through: 10, context: context).map(\.text) == ["loss=1.0", "hello train-0", "loss=0.0"])
        #expect(s.exit?.code == 2 && s.exitAfter == 1)
        do {
            _ = try PodScript.parse("logs:\n  - at: [\n")
            Issue.record("expected a YAML error")
        } catch {
            #expect(error.description.contains("yaml: line"), "\(error)")
        }
    }

    @Test func perContainerScripts() throws {
        let script = try PodScript.parse("{containers: {sidecar: {exit: 3}}, readyAfter: 5s}")
        #expect(script.script(for: ["name": "sidecar"]).exit?.code == 3)
        #expect(script.script(for: ["name": "main"]).readyAfter == 5)
        let only = try PodScript.parse("{containers: {a: {readyAfter: 2s}}}")
        #expect(only.all == nil)
        #expect(only.script(for: ["name": "b", "image": "vllm/vllm-openai"]).readyAfter == 2)
    }

    @Test(arguments: [
        ("{exit: {code: 1, after: soon}}", "at exit.after: invalid duration \"soon\""),
        ("{logz: []}", "at logz: unknown field (did you mean logs?)"),
        ("{logs: [{every: 0s, line: x}]}", "at logs[0].every: must be greater than 0"),
        ("{logs: [{every: 1s, line: x}], exit: 0}", "at exit.after: required when a log series has no count"),
        ("{logs: [{series: {every: 1s, count: 3, template: t, loss: {from: 1, curve: cubic}}}]}", "at logs[0].series.loss.curve: expected one of linear, exp, flat, diverge"),
        ("{http: {api: {status: 200}}}", "path \"api\" must start with /"),
        (#"{http: {"/v1": {ifHeader: {X-Api-Key: k}}}}"#, "at http[/v1].ifHeader: unknown field (did you mean ifHeaders?)"),
        (#"{http: {"/v1": {ifHeaders: [X-Api-Key]}}}"#, "at http[/v1].ifHeaders: expected a map of header name to value"),
        ("[1, 2]", "expected an object"),
        ("{logs: [step={step}]}", "quote strings"),
    ])
    func invalidScriptsExplainThemselves(text: String, fragment: String) {
        do {
            _ = try PodScript.parse(text)
            Issue.record("expected an error for \(text)")
        } catch {
            #expect(error.description.hasPrefix("invalid sim.gantry.dev/script annotation"), "\(error)")
            #expect(error.description.contains(fragment), "\(error)")
        }
    }

    @Test func httpResponsesChangeOverTime() throws {
        let s = try #require(try PodScript.parse("""
            {http: {"/v1/models/m": [{status: 503, body: loading}, {after: 5s, status: 200, body: {name: "{model}", ready: true}}],
                    "/api/*": {body: {last_activity: "{startTime}"}}},
             metrics: "gpu_util{pod=\\"{pod}\\"} 0.9\\n"}
            """).all)
        let early = ScriptHTTP.respond(s, path: "/v1/models/m", uptime: 1, context: context)
        #expect(early.status == 503 && early.text == "loading")
        let late = ScriptHTTP.respond(s, path: "/v1/models/m?x=1", uptime: 6, context: context)
        #expect(late.status == 200)
        #expect(late.headers["Content-Type"] == "application/json")
        #expect(try JSONValue.parse(late.body) == ["name": "m", "ready": true])
        let status = ScriptHTTP.respond(s, path: "/api/status", uptime: 0, context: context)
        #expect(try JSONValue.parse(status.body) == ["last_activity": .string(Timestamp.format(SimFixtures.now))])
        #expect(ScriptHTTP.respond(s, path: "/nope", uptime: 0, context: context).status == 404)
        #expect(ScriptHTTP.respond(s, path: "/metrics", uptime: 0, context: context).text == "gpu_util{pod=\"train-0\"} 0.9\n")
    }

    /// An answer with `ifHeaders` goes only to a request carrying them (names in any case, values exact); at the
    /// same `after` it wins over one without, whatever their order, and the latest `after` still wins over both.
    @Test func httpAnswersCanRequireRequestHeaders() throws {
        let script = #"{http: {"/predict": [{ifHeaders: {X-Api-Key: s3cret}, body: {label: positive}}, {status: 401, body: "missing X-Api-Key"}, "#
            + #"{after: 10s, status: 503, body: draining}], "/strict": {ifHeaders: {x-tenant: acme}, body: ok}}}"#
        let s = try #require(try PodScript.parse(script).all)
        let keyed = ScriptHTTP.respond(s, path: "/predict", headers: ["x-api-key": "s3cret"], uptime: 1, context: context)
        #expect(keyed.status == 200 && (try? JSONValue.parse(keyed.body)) == ["label": "positive"])
        let wrongKey = ScriptHTTP.respond(s, path: "/predict", headers: ["x-api-key": "S3CRET"], uptime: 1, context: context)
        #expect(wrongKey.status == 401 && wrongKey.text == "missing X-Api-Key")
        #expect(ScriptHTTP.respond(s, path: "/predict", uptime: 1, context: context).status == 401)
        #expect(ScriptHTTP.respond(s, path: "/predict", headers: ["x-api-key": "s3cret"], uptime: 11, context: context).status == 503)
        #expect(ScriptHTTP.respond(s, path: "/strict", headers: ["x-tenant": "acme"], uptime: 0, context: context).text == "ok")
        let none = ScriptHTTP.respond(s, path: "/strict", headers: ["x-tenant": "other"], uptime: 0, context: context)
        #expect(none.status == 404 && none.text.contains("ifHeaders"), "\(none.text)")
    }

    @Test func defaultsByImage() {
        let jupyter = DefaultScripts.script(image: "quay.io/jupyter/base-notebook:2024", isInit: false)
        let r = ScriptHTTP.respond(jupyter, path: "/api/status", uptime: 3, context: context)
        #expect(r.status == 200)
        #expect((try? JSONValue.parse(r.body))?["last_activity"] == .string(Timestamp.format(SimFixtures.now)))
        let vllm = DefaultScripts.script(image: "vllm/vllm-openai:v0.6", isInit: false)
        #expect(ScriptHTTP.respond(vllm, path: "/v1/models/llama", uptime: 0.5, context: context).status == 503)
        let ok = ScriptHTTP.respond(vllm, path: "/v1/models/llama", uptime: 3, context: context)
        #expect(ok.status == 200 && (try? JSONValue.parse(ok.body))?["name"] == "llama")
        #expect(DefaultScripts.script(image: "busybox", isInit: true).exitAfter == 1)
        #expect(DefaultScripts.script(image: "busybox", isInit: false).exitAfter == nil)
    }

    @Test func durationsAndDigests() throws {
        #expect(try SimDuration.parse("1m30s") == 90)
        #expect(try SimDuration.parse("500ms") == 0.5)
        #expect(try SimDuration.parse(2) == 2)
        #expect(throws: SimDuration.ParseError.self) { try SimDuration.parse("10x") }
        #expect(FakeDigest.sha256("busybox") == FakeDigest.sha256("busybox"))
        #expect(FakeDigest.sha256("busybox") != FakeDigest.sha256("busybox:1"))
        #expect(ImageRules.fullName("busybox") == "docker.io/library/busybox:latest")
        #expect(ImageRules.imageName("ghcr.io/org/img:tag") == "ghcr.io/org/img")
        #expect(ImageRules.imageName("localhost:5000/img") == "localhost:5000/img")
    }

    /// A sleeper wakes once the clock passes its deadline, and not before. Time moves in 0.5 s steps until the
    /// sleeper wakes, so a sleeper that registers late is still woken; one that is never woken fails the test
    /// (bounded waits and a time limit) instead of hanging it.
    @Test(.timeLimit(.minutes(1))) func manualClockWakesSleepers() async throws {
        let clock = ManualSimulationClock()
        let seen = Mutex<(began: Date?, woke: Date?)>((nil, nil))
        let sleeper = Task {
            seen.withLock { $0.began = clock.now }
            try await clock.sleep(seconds: 5)
            seen.withLock { $0.woke = clock.now }
        }
        #expect(try await eventually { seen.withLock { $0.began } != nil }, "the sleeper task never started")
        let began = try #require(seen.withLock { $0.began })
        while seen.withLock({ $0.woke }) == nil && clock.now.timeIntervalSince(began) < 20 {
            clock.advance(by: 0.5)
            // From the deadline on the sleeper must wake, within a generous wall-clock bound; before it a short
            // look suffices (an early wake is caught below from the time the sleeper saw).
            let due = clock.now.timeIntervalSince(began) >= 5
            _ = try await eventually(timeout: due ? .seconds(10) : .milliseconds(20)) { seen.withLock { $0.woke } != nil }
        }
        let wokeAt = try #require(seen.withLock { $0.woke }, "the sleeper never woke (clock moved \(clock.now.timeIntervalSince(began)) s)")
        try await sleeper.value
        let slept = wokeAt.timeIntervalSince(began)
        #expect(slept >= 5, "woke after \(slept) s of simulated time, before its 5 s deadline")
        // Woken at the first step past the deadline (one step more allowed: time may move between the
        // sleeper reading the clock and registering).
        #expect(slept <= 6, "woke only after \(slept) s of simulated time")
    }
}

@Suite struct SimulationDocumentedExamplesTests {
    /// The example of docs/embedded-cluster.md, "Scripted containers", must stay valid.
    @Test func documentedScriptParses() throws {
        let text = """
            {containers: {trainer: {
               logs: [{at: 0s, line: "starting on {node}"},
                      {series: {at: 2s, every: 0.5s, count: 200, start: 0, step: 10,
                                template: "step={step} loss={loss:.4} lr={lr:.6}",
                                loss: {from: 2.3, to: 0.15, curve: exp, noise: 0.03},
                                lr: {from: 0.0003, to: 0.00003, curve: linear}}}],
               exit: {code: 0},
               terminate: {after: 8s, code: 0, lines: ["SIGTERM: saving checkpoint", "checkpoint saved"]},
               http: {"/metrics/progress": {body: {step: 1990}}},
               metrics: "train_loss 0.15\\n"}},
             readyAfter: 1s}
            """
        let script = try PodScript.parse(text)
        let trainer = try #require(script.perContainer["trainer"])
        #expect(trainer.exitAfter == 2 + 199 * 0.5)
        #expect(trainer.terminate.after == 8)
        #expect(script.all?.readyAfter == 1)
        let lines = ScriptLogs.lines(trainer, after: -1, through: 2.5, context: ScriptContext(node: "gpu-a100-0"))
        #expect(lines.map(\.text).first == "starting on gpu-a100-0")
        #expect(lines.count == 3 && lines[1].text.hasPrefix("step=0 loss=2.3") && lines[2].text.hasPrefix("step=10 loss="))
    }

    @Test func documentedNodeSpecs() throws {
        #expect(try NodePoolSpec.parseList("none").isEmpty)
        let nodes = try NodeFactory.nodes(spec: "4x{gpu: 8, product: H100, memory: 640Gi}, 2x{cpu: 32}", now: SimFixtures.now)
        #expect(nodes.count == 6)
        #expect(nodes[0][path: "status", "capacity", "memory"] == "640Gi")
        let mig = try NodeFactory.nodes(spec: "{gpu: 8, mig: {1g.10gb: 7}}", now: SimFixtures.now)
        #expect(mig[0][path: "status", "capacity", "nvidia.com/mig-1g.10gb"] == "56")
    }
}

@Suite struct SimulationHostileInputTests {
    @Test(arguments: [
        String(repeating: "[", count: 10_000),
        "{logs: [{every: 1e-300, line: x, count: 5}]}",
        "{exit: {code: 0, after: 1e400}}",
        "{logs: [{every: 1s, count: 99999999999999999999, line: x}]}",
        "{\"a\": \"\\u12\"}",
        "",
        "{",
    ])
    func neverTraps(text: String) {
        // Whatever the input, parsing answers (a script or an error) and a kubelet pass completes.
        var pod = SimFixtures.pod("p", annotations: [PodScript.annotation: text])
        pod[path: "spec", "nodeName"] = "n"
        let runtime = PodRuntime(acceptedAt: SimFixtures.now, podIP: "10.244.0.2", hostIP: "10.0.0.2")
        let decision = KubeletSimulator.decide(pod: pod, script: PodScript.from(pod: pod), runtime: runtime, now: SimFixtures.now.addingTimeInterval(1e6))
        #expect(decision.status["phase"] != nil)
        if case .success(let s) = PodScript.from(pod: pod), let all = s.all {
            _ = ScriptLogs.lines(all, after: -1, through: 1e9, context: ScriptContext())
        }
    }

    @Test func tinyIntervalsAreWindowed() throws {
        let s = try #require(try PodScript.parse("{logs: [{every: 1e-9, line: x, count: 100000000}]}").all)
        #expect(ScriptLogs.lines(s, after: -1, through: 1e6, context: ScriptContext()).count == ScriptLogs.maxLinesPerWindow)
    }
}

@Suite struct SimulationExampleScriptsTests {
    /// Every `sim.gantry.dev/script` in examples/*.yaml must parse and write lines (the demo depends on them).
    @Test func examplesParse() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let folder = root.appendingPathComponent("examples")
        // A missing or empty examples folder fails the test: the demo depends on these scripts.
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(files.contains { $0.hasSuffix(".yaml") }, "no YAML file in \(folder.path)")
        var found = 0
        for file in files where file.hasSuffix(".yaml") {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for doc in try YAML.parseDocuments(text) {
                guard let script = doc[path: "spec", "podMetadata", "annotations", PodScript.annotation]?.stringValue else { continue }
                found += 1
                let parsed = try PodScript.parse(script)
                let all = try #require(parsed.all, "\(file)")
                let lines = ScriptLogs.lines(all, after: -1, through: 3600, context: ScriptContext())
                #expect(!lines.isEmpty, "\(file)")
                #expect(!lines.contains { $0.text.contains("{step}") || $0.text.contains("{loss") }, "\(file): \(lines.prefix(2))")
            }
        }
        #expect(found > 0, "no sim.gantry.dev/script annotation in \(folder.path)")
    }

    @Test func jsonTemplatesKeepTheirBraces() throws {
        let s = try #require(try PodScript.parse(#"{logs: [{series: {every: 1s, count: 1, template: "{\"iter\": {step}, \"loss\": {loss:.2}}", loss: {from: 1.5, to: 1.5, curve: flat}}}]}"#).all)
        let line = ScriptLogs.lines(s, after: -1, through: 1, context: ScriptContext()).first?.text
        #expect(line == #"{"iter": 0, "loss": 1.50}"#)
        #expect((try? JSONValue.parse(line ?? "")) != nil)
    }
}
