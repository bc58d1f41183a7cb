import Foundation
import GantryAPI
import GantryCLI
import EmbeddedCluster
import GantryTestSupport
import KubeClient
import KubeCore
import KubeYAML
import Testing

/// What `/metrics` of the `gantry controller` binary shows after a small workload of every kind
/// (PlatformWorkload), read directly and through a real Prometheus with the Grafana dashboard's queries
/// (docs/observability.md).
@Suite(.serialized)
struct ObservabilityTests {
    init() throws {
        _ = try Prerequisite.gantryBinary(repoRoot: OperatorHarness.repoRoot)
        try Prerequisite.kubectl()
    }

    /// The metric names of README.md's "Metrics" section, with the labels each names (`x{a,b}`).
    static func readmeMetrics() throws -> [(name: String, labels: [String])] {
        let readme = try String(contentsOfFile: OperatorHarness.repoRoot + "/README.md", encoding: .utf8)
        guard let start = readme.range(of: "\n### Metrics\n") else { throw TestFailure("README.md has no \"### Metrics\" section") }
        let section = readme[start.upperBound...]
        let end = section.range(of: "\n#")?.lowerBound ?? section.endIndex
        let spans = section[..<end].split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
        return spans.compactMap { span in
            guard let match = span.wholeMatch(of: /([a-z_][a-z0-9_]*)(\{([a-z_,]*)\})?/) else { return nil }
            return (String(match.1), match.3.map { $0.split(separator: ",").map(String.init) } ?? [])
        }
    }

    /// After a small workload: every name README.md's Metrics section lists is on `/metrics` with the labels it
    /// names, every `gantry_` series there is listed, and the platform series show what the workload did.
    @Test func theReadmesMetricsExistAndThePlatformSeriesCountTheWorkload() async throws {
        let named = try Self.readmeMetrics()
        try Prerequisite.executable("/usr/bin/promtool", "promtool (Debian package prometheus; `make test-deps` installs it)")
        #expect(named.count >= 20, "the README's list was read: \(named.map(\.name))")
        try await PlatformWorkload.run { w in
            let research = ["namespace": "research"], serving = ["namespace": "default"]
            // Transitions are counted when their Event is recorded; the levels within the refresh period (5 s).
            #expect(try await eventually(timeout: .seconds(30)) {
                let s = try await MetricsScrape.of(w.controller)
                return s.value("gantry_workloads", ["kind": "Notebook", "namespace": "default", "phase": "Culled"]) == 1
                    && s.value("gantry_workloads", ["kind": "TrainingJob", "namespace": "research", "phase": "EarlyStopped"]) == 1
                    && s.value("gantry_gpus_allocated", ["kind": "TrainingJob", "namespace": "research"]) == 0
            })
            let s = try await MetricsScrape.of(w.controller)
            #expect(s.value("gantry_inferenceservice_swaps_total", serving) == 1, "revision 3 swapped in")
            #expect(s.value("gantry_inferenceservice_rollbacks_total", serving) == 1, "back to revision 1")
            #expect(s.value("gantry_inferenceservice_validation_failures_total", serving) == 1, "revision 2 refused")
            #expect(s.value("gantry_notebooks_culled_total", serving) == 1)
            #expect(s.value("gantry_trainingjob_early_stops_total", research) == 1)
            // 1 GPU × what was left of 600 s after a run of a few seconds.
            let saved = try #require(s.value("gantry_early_stopping_saved_gpu_seconds_total", research))
            #expect(saved > 500 && saved < 600, "\(saved)")
            #expect(s.value("gantry_trainingjob_admission_wait_seconds_count", research) == 2, "both jobs admitted once")
            // The second job waited in the queue for the first to stop (seconds), so not every wait is under 1 s.
            let underOneSecond = try #require(s.value("gantry_trainingjob_admission_wait_seconds_bucket", research.merging(["le": "1.0"]) { $1 }))
            #expect(underOneSecond < 2)
            #expect(s.value("gantry_trainingjob_queue_length", research) == 0)
            // GPU-hours of the month against research's budget of 100.
            let month = try #require(s.value("gantry_budget_used_gpu_seconds", research))
            #expect(month > 0 && month < 360, "\(month)")
            #expect(s.value("gantry_budget_gpu_seconds", research) == 360_000)
            // (to within one accounting period: the two gauges are published one after the other)
            #expect(s.value("gantry_budget_used_ratio", research).map { abs($0 - month / 360_000) < 1e-4 } == true)
            // The jobs' pods expose no GPU gauge (never idle without a reading); the serving revision's reads 0 %.
            #expect(s.value("gantry_gpus_idle", ["kind": "TrainingJob", "namespace": "research"]) == 0)
            #expect(s.value("gantry_gpus_idle", ["kind": "InferenceService", "namespace": "default"]).map { $0 >= 1 } == true)
            for kind in ["TrainingJob", "InferenceService", "Notebook"] {
                let namespace = kind == "TrainingJob" ? "research" : "default"
                let used = try #require(s.value("gantry_gpu_seconds_total", ["kind": kind, "namespace": namespace]), "\(kind)")
                #expect(used > 0, "\(kind) held a GPU for a while: \(used)")
            }
            // The serving revision holds its GPU; requested counts it too.
            #expect(s.value("gantry_gpus_allocated", ["kind": "InferenceService", "namespace": "default"]).map { $0 >= 1 } == true)
            #expect(s.value("gantry_gpus_requested", ["kind": "InferenceService", "namespace": "default"]) == 1)
            #expect(s.value("gantry_build_info", ["version": GantryVersion.current]) == 1)
            // Bounded cardinality: the platform series are labelled by kind, namespace and phase only.
            let platform = s.samples.filter { $0.name.hasPrefix("gantry_") && !$0.name.hasPrefix("gantry_watch_") && $0.name != "gantry_build_info" }
            let keys = Set(platform.flatMap(\.labels.keys))
            #expect(!platform.isEmpty && keys.isSubset(of: ["kind", "namespace", "phase", "le"]), "\(keys)")
            for (name, labels) in named {
                // A histogram is exposed as name_bucket, name_sum and name_count.
                let samples = s.samples.filter { $0.name == name || $0.name == name + "_count" }
                #expect(!samples.isEmpty, "\(name) is not on /metrics")
                for label in labels {
                    #expect(samples.contains { $0.labels[label] != nil }, "\(name) has no label \(label)")
                }
            }
            // Prometheus' own linter (promtool, from the prometheus package) on the exposition: names, units,
            // suffixes. swift-metrics has no help texts, so "no help text" is the one finding allowed.
            let lint = await runProcess("/usr/bin/promtool", ["check", "metrics"], stdin: s.text)
            let findings = (lint.stdout + lint.stderr).split(separator: "\n").filter { !$0.hasSuffix("no help text") }
            #expect(findings.isEmpty, "promtool check metrics: \(findings.joined(separator: "\n"))")
            let listed = Set(named.map(\.name))
            func histogram(_ name: String) -> String? {
                ["_bucket", "_sum", "_count"].first { name.hasSuffix($0) }.map { String(name.dropLast($0.count)) }
            }
            let unlisted = s.names.filter { $0.hasPrefix("gantry_") && !listed.contains($0) && !listed.contains(histogram($0) ?? "") }
            #expect(unlisted.isEmpty, "on /metrics but not in the README: \(unlisted.sorted())")
        }
    }

    /// deploy/grafana-dashboard.json against a real Prometheus: every panel's query, run through the HTTP API
    /// after the workload, returns at least one number (not NaN). Grafana's variables are given the values a
    /// viewer of the whole run would have: all namespaces, a range of one hour, a rate window of one minute.
    @Test func everyDashboardQueryReturnsDataFromARealPrometheus() async throws {
        let queries = try Self.dashboardQueries()
        #expect(queries.count >= 12, "\(queries)")
        var prometheus: PrometheusServer?
        do {
            try await PlatformWorkload.run(started: { controller in
                guard let port = controller.healthPort else { throw TestFailure("no health port") }
                prometheus = try await PrometheusServer.start(scraping: "127.0.0.1:\(port)", in: NSTemporaryDirectory() + "gantry-prom-" + UUID().uuidString.prefix(8))
            }) { w in
                let server = try #require(prometheus)
                // Prometheus has scraped the end of the workload.
                #expect(try await eventually(timeout: .seconds(30)) {
                    try await server.query(#"gantry_notebooks_culled_total{namespace="default"} == 1 and on() gantry_inferenceservice_rollbacks_total{namespace="default"} == 1"#).count == 1
                }, "\(server.log.suffix(2000))")
                for (title, expr) in queries {
                    let resolved = try Self.resolve(expr)
                    #expect(try await eventually(timeout: .seconds(20)) {
                        try await server.query(resolved).contains { !$0.value.isNaN }
                    }, "panel \"\(title)\": \(resolved) returned no number")
                    // A label the panel groups by is one the series really carry: no answer lacks it (histogram_quantile
                    // consumes `le`, and gives no number without it).
                    let grouped = Self.groupingLabels(expr).subtracting(["le"])
                    let answers = try await server.query(resolved)
                    #expect(answers.allSatisfy { a in grouped.allSatisfy { a.labels[$0]?.isEmpty == false } }, "panel \"\(title)\" groups by \(grouped): \(answers)")
                }
                // The cost figures saw GPUs held, and the savings the early stop.
                let cost = try await server.query(Self.resolve(#"sum(increase(gantry_gpu_seconds_total{namespace=~"$namespace"}[$__range]))"#))
                #expect(cost.first.map { $0.value > 0 } == true, "\(cost)")
                // The idle panel saw the serving revision's GPU, and the budget panels research's use.
                let idle = try await server.query(Self.resolve(#"sum by (namespace, kind) (gantry_gpus_idle{namespace=~"$namespace"})"#))
                #expect(idle.contains { $0.labels == ["namespace": "default", "kind": "InferenceService"] && $0.value >= 1 }, "\(idle)")
                let used = try await server.query(Self.resolve(#"max by (namespace) (gantry_budget_used_ratio{namespace=~"$namespace"})"#))
                #expect(used.contains { $0.labels == ["namespace": "research"] && $0.value > 0 && $0.value < 1 }, "\(used)")
            }
        } catch {
            await prometheus?.stop()
            throw error
        }
        await prometheus?.stop()
    }

    static func dashboard() throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: OperatorHarness.repoRoot + "/deploy/grafana-dashboard.json"))
    }

    /// Every `expr` of the dashboard's panels (rows included), with its panel's title.
    static func dashboardQueries() throws -> [(title: String, expr: String)] {
        guard let dashboard = try JSONSerialization.jsonObject(with: dashboard()) as? [String: Any] else { throw TestFailure("the dashboard is not a JSON object") }
        func panels(_ list: [[String: Any]]) -> [[String: Any]] {
            list.flatMap { [$0] + panels($0["panels"] as? [[String: Any]] ?? []) }
        }
        return panels(dashboard["panels"] as? [[String: Any]] ?? []).flatMap { panel in
            (panel["targets"] as? [[String: Any]] ?? []).compactMap { target in
                (target["expr"] as? String).map { (panel["title"] as? String ?? "?", $0) }
            }
        }
    }

    /// The labels of every `by (…)` clause of a query.
    static func groupingLabels(_ expr: String) -> Set<String> {
        Set(expr.matches(of: /\bby\s*\(([^)]*)\)/).flatMap { $0.1.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } })
    }

    /// The budget panels colour at the PlatformConfig's default warning fraction and at the budget itself.
    @Test func theBudgetPanelsThresholdsAreTheWarningFractionAndTheBudget() throws {
        let panels = try JSONValue.parse(Self.dashboard())["panels"]?.arrayValue ?? []
        let budget = panels.filter { panel in
            panel["targets"]?.arrayValue?.contains { $0["expr"]?.stringValue?.contains("gantry_budget_used_ratio") == true } == true
        }
        #expect(budget.count == 2, "the stat and the bar gauge")
        for panel in budget {
            let steps = panel[path: "fieldConfig", "defaults", "thresholds", "steps"]?.arrayValue?.compactMap { $0["value"]?.doubleValue } ?? []
            #expect(steps == [GPUBudgets.defaultWarningFraction, 1], "\(panel["title"] ?? .null): \(steps)")
            #expect(panel[path: "fieldConfig", "defaults", "unit"] == "percentunit")
        }
    }

    /// Grafana's variables as a viewer of the test's run sets them; an unknown variable fails the test.
    static func resolve(_ expr: String) throws -> String {
        let values = ["${gpu_hour_price}": "2.5", "$gpu_hour_price": "2.5", "$namespace": ".*", "$__rate_interval": "1m", "$__range": "1h"]
        var resolved = expr
        for key in values.keys.sorted(by: { $0.count > $1.count }) { resolved = resolved.replacingOccurrences(of: key, with: values[key] ?? "") }
        guard !resolved.contains("$") else { throw TestFailure("a variable the test does not know: \(expr)") }
        return resolved
    }

    @Test func gantryVersionPrintsTheRelease() async throws {
        let binary = try Prerequisite.gantryBinary(repoRoot: OperatorHarness.repoRoot)
        for args in [["version"], ["--version"]] {
            let r = await runProcess(binary, args)
            #expect(r.ok && r.stdout == "gantry \(GantryVersion.current)\n", "gantry \(args): \(r.stdout) \(r.stderr)")
        }
        #expect(GantryVersion.current.wholeMatch(of: /[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?/) != nil, "a semantic version")
        // The release the binary names is the one deploy/ installs.
        let deployment = try String(contentsOfFile: OperatorHarness.repoRoot + "/deploy/deployment.yaml", encoding: .utf8)
        let images = deployment.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("image:") }
        #expect(!images.isEmpty && images.allSatisfy { $0.hasSuffix(":" + GantryVersion.current) }, "deploy/deployment.yaml: \(images)")
    }

    /// deploy/monitoring: the ServiceMonitor finds the Service, the Service the controller's pods and their health
    /// port, the PodMonitor the same pods and port, the workload's `namespace` label is kept, and deploy/ itself
    /// does not need the Prometheus Operator's CRDs.
    @Test func theServiceMonitorAndPodMonitorReachTheControllersMetricsPort() throws {
        func documents(_ path: String) throws -> [JSONValue] {
            try YAML.parseDocuments(String(contentsOfFile: OperatorHarness.repoRoot + "/deploy/" + path, encoding: .utf8))
        }
        let deployment = try #require(try documents("deployment.yaml").first { $0["kind"] == "Deployment" })
        let service = try #require(try documents("monitoring/service.yaml").first)
        let monitor = try #require(try documents("monitoring/servicemonitor.yaml").first)
        #expect(monitor["kind"] == "ServiceMonitor" && service["kind"] == "Service")
        let podLabels = deployment[path: "spec", "template", "metadata", "labels"]?.objectValue ?? [:]
        let selector = service[path: "spec", "selector"]?.objectValue ?? [:]
        #expect(!selector.isEmpty && selector.allSatisfy { podLabels[$0.key] == $0.value }, "the Service selects the controller's pods")
        let serviceLabels = service[path: "metadata", "labels"]?.objectValue ?? [:]
        let wanted = monitor[path: "spec", "selector", "matchLabels"]?.objectValue ?? [:]
        #expect(!wanted.isEmpty && wanted.allSatisfy { serviceLabels[$0.key] == $0.value }, "the ServiceMonitor selects the Service")
        #expect(monitor[path: "spec", "namespaceSelector", "matchNames"]?.arrayValue?.contains(service[path: "metadata", "namespace"] ?? .null) == true)
        let endpoint = try #require(monitor[path: "spec", "endpoints"]?.arrayValue?.first)
        let servicePort = try #require(service[path: "spec", "ports"]?.arrayValue?.first { $0["name"] == endpoint["port"] }, "the endpoint names a port of the Service")
        let containerPorts = deployment[path: "spec", "template", "spec", "containers"]?.arrayValue?.flatMap { $0["ports"]?.arrayValue ?? [] } ?? []
        let target = try #require(containerPorts.first { $0["name"] == servicePort["targetPort"] }, "the Service targets a named port of the controller")
        let args = deployment[path: "spec", "template", "spec", "containers"]?.arrayValue?.first?["args"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(args.contains("--health-port=\(target["containerPort"]?.intValue ?? -1)"), "the port /metrics is served on: \(args)")
        #expect(endpoint["path"] == "/metrics" && endpoint["honorLabels"] == true)
        let kustomization = try String(contentsOfFile: OperatorHarness.repoRoot + "/deploy/kustomization.yaml", encoding: .utf8)
        #expect(!kustomization.contains("monitoring") && !kustomization.contains("servicemonitor"), "deploy/ applies without the Prometheus Operator")

        // The PodMonitor, the alternative without the Service: it selects the controller's pods in their namespace
        // and names the container port /metrics is served on. Not in deploy/monitoring's kustomization: applied
        // beside the ServiceMonitor, every series would be scraped twice.
        let podMonitor = try #require(try documents("monitoring/podmonitor.yaml").first)
        #expect(podMonitor["kind"] == "PodMonitor" && podMonitor["apiVersion"] == "monitoring.coreos.com/v1")
        let podSelector = podMonitor[path: "spec", "selector", "matchLabels"]?.objectValue ?? [:]
        #expect(!podSelector.isEmpty && podSelector.allSatisfy { podLabels[$0.key] == $0.value }, "the PodMonitor selects the controller's pods: \(podSelector)")
        #expect(podMonitor[path: "spec", "namespaceSelector", "matchNames"]?.arrayValue == [deployment[path: "metadata", "namespace"] ?? .null])
        let podEndpoint = try #require(podMonitor[path: "spec", "podMetricsEndpoints"]?.arrayValue?.first)
        #expect(podEndpoint["port"] == target["name"], "the PodMonitor names the controller's metrics port: \(podEndpoint)")
        #expect(podEndpoint["path"] == "/metrics" && podEndpoint["honorLabels"] == true)
        let monitoring = try documents("monitoring/kustomization.yaml").first
        #expect(monitoring?["resources"]?.arrayValue?.contains("podmonitor.yaml") == false, "one of ServiceMonitor and PodMonitor, not both")
    }

    /// Only the leader shows platform levels and counts transitions: a standby's `/metrics` has neither, and the
    /// replica that takes over after the leader stops shows the same levels.
    @Test func onlyTheLeaderPublishesPlatformSeries() async throws {
        try await withCluster(TestCluster(DevClusterOptions(nodes: "1x{gpu: 4}", tls: true))) { cluster async throws in
            for args in [["apply", "-k", OperatorHarness.repoRoot + "/crds"],
                         ["wait", "--for=condition=Established", "--timeout=20s", "crd/notebooks.gantry.dev", "crd/trainingjobs.gantry.dev"]] {
                let r = await cluster.kubectl(args: args)
                #expect(r.ok, "kubectl \(args): \(r.stderr)")
            }
            try await PlatformWorkload.apply(cluster, "apiVersion: gantry.dev/v1alpha1\nkind: Notebook\nmetadata: {name: nb, namespace: default}\nspec: {image: jupyter, gpu: {count: 1}}\n")
            let client = try KubeClient(config: KubeConfig.load(path: cluster.kubeconfig, environment: [:]))
            @Sendable func holder() async -> String? {
                (try? await client.get(Lease.self, namespace: "default", name: "gantry-controller"))?.spec.holderIdentity
            }
            func start(_ identity: String) throws -> ControllerProcess {
                try ControllerProcess(kubeconfig: cluster.kubeconfig, logPath: cluster.dir + "/\(identity).log",
                                      ["--identity", identity, "--lease-namespace", "default", "--log-format", "json"])
            }
            let first = try start("first")
            defer { first.killIfRunning() }
            #expect(try await eventually(timeout: .seconds(30)) { await holder() == "first" && first.healthPort != nil })
            let second = try start("second")
            defer { second.killIfRunning() }
            let running = ["kind": "Notebook", "namespace": "default", "phase": "Running"]
            #expect(try await eventually(timeout: .seconds(60)) { try await MetricsScrape.of(first).value("gantry_workloads", running) == 1 })
            #expect(try await eventually(timeout: .seconds(30)) { second.healthPort != nil })
            let standby = try await MetricsScrape.of(second)
            #expect(standby.names.contains("gantry_build_info"), "the standby serves /metrics")
            let platform = standby.names.filter { $0.hasPrefix("gantry_") && !$0.hasPrefix("gantry_watch_") && $0 != "gantry_build_info" }
            #expect(platform.isEmpty, "a standby publishes no platform series: \(platform.sorted())")

            first.signal(SIGTERM)  // releases the Lease
            #expect(await first.waitForExit(timeout: 60) == 0)
            #expect(try await eventually(timeout: .seconds(30)) { await holder() == "second" })
            #expect(try await eventually(timeout: .seconds(60)) { try await MetricsScrape.of(second).value("gantry_workloads", running) == 1 })
            #expect(try await MetricsScrape.of(second).value("gantry_notebooks_culled_total", ["namespace": "default"]) == 0, "created at 0 by the new leader")
            second.signal(SIGTERM)
            #expect(await second.waitForExit(timeout: 60) == 0)
        }
    }
}
