import Foundation
import Hummingbird
import EmbeddedCluster
import GantryControllers
import GantryTestSupport
import KubeClient
import KubeCore
import Testing

/// GPU-hour budgets and idle-GPU detection through the real path: the embedded cluster's simulated GPU nodes, the
/// operator, kubectl, a local webhook receiver and the built `gantry gpus` (docs/budgets-and-idle-gpus.md).
@Suite(.serialized)
struct BudgetTests {
    init() throws {
        _ = try Prerequisite.gantryBinary(repoRoot: OperatorHarness.repoRoot)
        try Prerequisite.kubectl()
    }

    /// The `n`-th YAML block of docs/budgets-and-idle-gpus.md, as written.
    static func docExample(_ n: Int) throws -> String {
        let text = try String(contentsOfFile: OperatorHarness.repoRoot + "/docs/budgets-and-idle-gpus.md", encoding: .utf8)
        let blocks = text.components(separatedBy: "```yaml\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        guard blocks.indices.contains(n) else { throw TestFailure("docs/budgets-and-idle-gpus.md has no YAML block \(n)") }
        return blocks[n]
    }

    static func job(_ name: String, script: String) -> String {
        """
        apiVersion: gantry.dev/v1alpha1
        kind: TrainingJob
        metadata: {name: \(name), namespace: default}
        spec:
          image: trainer:1
          gpu: {count: 1}
          podMetadata:
            annotations:
              sim.gantry.dev/script: '\(script)'
        """
    }

    /// The PlatformConfig `default` with `spec` (flow YAML fields) and notifications to `webhook` (via a Secret).
    static func configure(_ h: OperatorHarness, webhook: String, _ spec: String) async throws {
        _ = try await h.kubectl("create", "secret", "generic", "chat-hook", "-n", "default", "--from-literal=url=\(webhook)")
        _ = try await h.kubectl("apply", "-f", "-", stdin: """
            apiVersion: gantry.dev/v1alpha1
            kind: PlatformConfig
            metadata: {name: default}
            spec: {\(spec), notifications: {webhookSecretRef: {namespace: default, name: chat-hook}}}
            """)
    }

    static func platform(_ h: OperatorHarness) async throws -> JSONValue {
        try #require(try await h.get(.platformConfigs, nil, "default"))
    }

    static func usage(_ platform: JSONValue, _ namespace: String = "default") -> JSONValue? {
        platform[path: "status", "budgets"]?.arrayValue?.first { $0["namespace"]?.stringValue == namespace }
    }

    static func condition(_ object: JSONValue?, _ type: String) -> JSONValue? {
        object?[path: "status", "conditions"]?.arrayValue?.first { $0["type"]?.stringValue == type }
    }

    static func gpus(_ kubeconfig: String, _ args: String...) async throws -> String {
        let r = await runProcess(GantryBinary.path, ["gpus", "--kubeconfig", kubeconfig] + args)
        guard r.ok else { throw TestFailure("gantry gpus \(args) failed (\(r.status)): \(r.stderr)") }
        return r.stdout
    }

    /// The guide's example is accepted as written; then, with a budget of 7.2 GPU-seconds, a running job crosses the
    /// warning and the budget (an Event on the PlatformConfig and a notification each, once), goes on running,
    /// while a new TrainingJob and a new Notebook wait with reason BudgetExhausted until the budget is raised.
    @Test func pastItsBudgetANamespacesNewWorkWaitsUntilTheBudgetIsRaised() async throws {
        try await withWebhookReceiver { url, receiver in
            try await withOperator { h in
                _ = try await h.kubectl("apply", "-f", "-", stdin: try Self.docExample(0))
                let example = try await Self.platform(h)
                #expect(example[path: "spec", "budgets", "namespaces"]?.arrayValue?.count == 2 && example[path: "spec", "idleGPUs", "windowSeconds"] == 1800)
                try await Self.configure(h, webhook: url, "budgets: {accountingPeriodSeconds: 1, namespaces: [{namespace: default, gpuHoursPerMonth: 0.002, warningFraction: 0.5}]}")
                _ = try await h.kubectl("apply", "-f", "-", stdin: Self.job("burner", script: "{logs: [\"training\"]}"))
                #expect(try await eventually(timeout: .seconds(60)) {
                    Self.usage(try await Self.platform(h))?["state"] == "Exhausted"
                })
                let exhausted = try #require(Self.usage(try await Self.platform(h)))
                #expect((exhausted["usedGPUHours"]?.doubleValue ?? 0) >= 0.002 && exhausted["gpuHoursPerMonth"]?.doubleValue == 0.002)

                // New work waits; the running job goes on.
                _ = try await h.kubectl("apply", "-f", "-", stdin: Self.job("waiter", script: "{logs: [\"training\"]}"))
                _ = try await h.kubectl("apply", "-f", "-", stdin: NotebookTests.manifest("nb", idle: 3600))
                #expect(try await eventually(timeout: .seconds(30)) {
                    Self.condition(try await h.get(.trainingJobs, "default", "waiter"), "Admitted")?["reason"] == "BudgetExhausted"
                })
                let waiter = try #require(try await h.get(.trainingJobs, "default", "waiter"))
                #expect(waiter[path: "status", "phase"] == "Queued")
                let message = Self.condition(waiter, "Admitted")?["message"]?.stringValue ?? ""
                #expect(message.contains("namespace default used") && message.contains("of its 0.002 GPU-hours") && message.contains("raises spec.budgets"), "\(message)")
                #expect(try await eventually(timeout: .seconds(30)) { try await h.get(.notebooks, "default", "nb")?[path: "status", "phase"] == "Queued" })
                #expect(Self.condition(try await h.get(.notebooks, "default", "nb"), "Reconciling")?["reason"] == "BudgetExhausted")
                #expect(try await h.get(.pods, "default", "nb") == nil, "a waiting notebook has no pod")
                #expect(try await h.get(.trainingJobs, "default", "burner")?[path: "status", "phase"] == "Running", "running work is never stopped")
                let events = try await h.kubectl("get", "events", "-A", "-o", "jsonpath={range .items[*]}{.involvedObject.kind}/{.involvedObject.name}={.reason}{\"\\n\"}{end}")
                for expected in ["PlatformConfig/default=GPUBudgetWarning", "PlatformConfig/default=GPUBudgetExhausted", "TrainingJob/waiter=BudgetExhausted", "Notebook/nb=BudgetExhausted"] {
                    #expect(events.contains(expected), "\(expected) in \(events)")
                }

                // Each crossing is announced once, however many accountings follow.
                let accounted = exhausted["usedGPUHours"]?.doubleValue ?? 0
                #expect(try await eventually(timeout: .seconds(30)) {
                    (Self.usage(try await Self.platform(h))?["usedGPUHours"]?.doubleValue ?? 0) > accounted + 0.0005
                })
                let texts = await receiver.bodies.compactMap { try? JSONValue.parse($0)["text"]?.stringValue }
                #expect(texts.filter { $0.contains("GPUBudgetWarning") }.count == 1 && texts.filter { $0.contains("GPUBudgetExhausted") }.count == 1, "\(texts)")
                #expect(texts.contains { $0.contains("PlatformConfig /default: GPUBudgetExhausted: namespace default used all of its 0.002 GPU-hours") }, "\(texts)")

                let report = try JSONValue.parse(try await Self.gpus(h.cluster.kubeconfig, "-o", "json"))
                let row = report["namespaces"]?.arrayValue?.first { $0["name"] == "default" }
                #expect(row?["budgetState"] == "Exhausted" && row?["gpuHoursPerMonth"]?.doubleValue == 0.002 && row?["allocated"] == 1, "\(report)")

                // A raised budget releases both.
                _ = try await h.kubectl("patch", "platformconfig", "default", "--type", "merge", "-p",
                                        #"{"spec":{"budgets":{"namespaces":[{"namespace":"default","gpuHoursPerMonth":1000}]}}}"#)
                #expect(try await eventually(timeout: .seconds(30)) {
                    let job = try await h.get(.trainingJobs, "default", "waiter")
                    let notebook = try await h.get(.notebooks, "default", "nb")
                    return job?[path: "status", "phase"] == "Running" && notebook?[path: "status", "phase"] == "Running"
                })
            }
        }
    }

    /// The month's GPU-hours live in the PlatformConfig's status: a job runs and finishes (its pod is deleted), the
    /// controller stops, and a new one continues from the stored figure rather than from the pods it finds (none).
    @Test func aRestartedControllerContinuesTheMonthsGPUHours() async throws {
        try await withCluster(TestCluster(DevClusterOptions(tls: true))) { cluster in
            for args in [["apply", "-k", OperatorHarness.repoRoot + "/crds"],
                         ["wait", "--for=condition=Established", "--timeout=20s", "crd", "--all"]] {
                let r = await cluster.kubectl(args: args)
                guard r.ok else { throw TestFailure("kubectl \(args): \(r.stderr)") }
            }
            let client = try KubeClient(config: KubeConfig.load(path: cluster.kubeconfig))
            func apply(_ manifest: String) async throws {
                let r = await cluster.kubectl(args: ["apply", "-f", "-"], stdin: manifest)
                guard r.ok else { throw TestFailure("kubectl apply: \(r.stderr)") }
            }
            @Sendable func used() async throws -> (hours: Double, at: String)? {
                let platform = try await client.getIfFound(.platformConfigs, nil, "default")
                guard let usage = platform.flatMap({ Self.usage($0) }), let hours = usage["usedGPUHours"]?.doubleValue,
                      let at = platform?[path: "status", "accountedAt"]?.stringValue else { return nil }
                return (hours, at)
            }
            func runOperator(until done: @Sendable () async throws -> Bool) async throws -> Bool {
                let manager = try OperatorManager(client: client)
                let task = Task { await manager.run() }
                defer { task.cancel() }
                let result = try await eventually(timeout: .seconds(60), done)
                task.cancel()
                await task.value
                return result
            }
            try await apply("""
                apiVersion: gantry.dev/v1alpha1
                kind: PlatformConfig
                metadata: {name: default}
                spec: {budgets: {accountingPeriodSeconds: 1}}
                """)
            try await apply(Self.job("short", script: "{logs: [\"training\"], exit: {code: 0, after: 4s}}"))
            let finished = try await runOperator {
                let job = try await client.getIfFound(.trainingJobs, "default", "short")
                let pods = try await client.list(.pods, namespace: "default").items
                let hours = try await used()?.hours
                return job?[path: "status", "phase"] == "Succeeded" && pods.isEmpty && hours.map { $0 > 0 } == true
            }
            #expect(finished)
            let before = try #require(try await used())
            #expect(before.hours > 0.0005 && before.hours < 0.01, "about 4 GPU-seconds: \(before.hours)")
            let accounted = try await runOperator {
                let at = try await used()?.at
                return at != nil && at != before.at
            }
            #expect(accounted, "the new controller accounted")
            let after = try #require(try await used())
            #expect(after.hours == before.hours, "no pod holds a GPU: the stored figure stays, \(before.hours) → \(after.hours)")
        }
    }

    /// A job whose GPU reads 0 % for the window is reported on its owner (Event IdleGPU), to the webhook, in the
    /// PlatformConfig's status and by `gantry gpus`; a busy one is not.
    @Test func aGPUPodBelowTheThresholdForTheWindowIsReportedOnItsOwner() async throws {
        try await withWebhookReceiver { url, receiver in
            try await withOperator { h in
                try await Self.configure(h, webhook: url, "idleGPUs: {utilizationThresholdPercent: 5, windowSeconds: 3, checkPeriodSeconds: 1}")
                _ = try await h.kubectl("apply", "-f", "-", stdin: Self.job("idler", script: "{metrics: \"DCGM_FI_DEV_GPU_UTIL 0\"}"))
                _ = try await h.kubectl("apply", "-f", "-", stdin: Self.job("busy", script: "{metrics: \"DCGM_FI_DEV_GPU_UTIL 87\"}"))
                #expect(try await eventually(timeout: .seconds(60)) {
                    try await Self.platform(h)[path: "status", "idleGPUs"]?.arrayValue?.contains { $0["ownerName"] == "idler" && $0["idle"] == true } == true
                })
                let status = try await Self.platform(h)["status"]
                #expect(status?["idleGPUs"]?.arrayValue?.count == 1, "the busy job is not listed: \(status ?? .null)")
                let namespaceLevel = status?["utilization"]?.arrayValue?.first { $0["scope"] == "Namespace" && $0["name"] == "default" }
                #expect(namespaceLevel?["meanPercent"]?.doubleValue == 43.5 && namespaceLevel?["gpus"] == 2, "\(status ?? .null)")
                #expect(try await eventually(timeout: .seconds(20)) {
                    try await h.kubectl("get", "events", "--field-selector", "involvedObject.name=idler", "-o", "jsonpath={.items[*].reason}").contains("IdleGPU")
                })
                let busyEvents = try await h.kubectl("get", "events", "--field-selector", "involvedObject.name=busy", "-o", "jsonpath={.items[*].reason}")
                #expect(!busyEvents.contains("IdleGPU"), "\(busyEvents)")
                #expect(try await eventually(timeout: .seconds(20)) {
                    await receiver.bodies.contains { $0.contains("TrainingJob default/idler: IdleGPU: pod ") && $0.contains("below 5% since") }
                })

                let table = try await Self.gpus(h.cluster.kubeconfig)
                let idleLine = table.split(separator: "\n").first { $0.contains("TrainingJob/idler") }
                #expect(idleLine?.contains(" yes ") == true, "\(table)")
                #expect(!table.contains("TrainingJob/busy"), "the table lists idle pods only: \(table)")
                let wide = try await Self.gpus(h.cluster.kubeconfig, "-o", "wide")
                #expect(wide.split(separator: "\n").first { $0.contains("TrainingJob/busy") }?.contains(" no ") == true, "\(wide)")
                let report = try JSONValue.parse(try await Self.gpus(h.cluster.kubeconfig, "-o", "json"))
                let pods = report["pods"]?.arrayValue ?? []
                #expect(pods.first { $0["ownerName"] == "idler" }?["idle"] == true && pods.first { $0["ownerName"] == "busy" }?["idle"] == false, "\(report)")
                let namespace = report["namespaces"]?.arrayValue?.first { $0["name"] == "default" }
                #expect(namespace?["allocated"] == 2 && namespace?["idle"] == 1 && namespace?["utilizationPercent"]?.doubleValue == 43.5, "\(report)")
                let allocated = (report["nodes"]?.arrayValue ?? []).compactMap { $0["allocated"]?.intValue }.reduce(0, +)
                #expect(allocated == 2, "\(report)")
            }
        }
    }

    /// The same detection with the utilisation read from a real Prometheus (Debian's `prometheus`) that scrapes a
    /// stand-in dcgm-exporter (per-GPU samples labelled with the pod's namespace and name): the pods are not asked.
    @Test func idleGPUsAreFoundThroughAPrometheusQuery() async throws {
        try await withOperator { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.job("quiet", script: "{logs: [\"training\"]}"))
            var podName: String?
            #expect(try await eventually(timeout: .seconds(30)) {
                let pods = try await h.client.list(.pods, namespace: "default").items
                return pods.contains { $0.controllerReference?.name == "quiet" && $0[path: "status", "phase"] == "Running" }
            })
            podName = try await h.client.list(.pods, namespace: "default").items.first { $0.controllerReference?.name == "quiet" }?.name
            let pod = try #require(podName)
            let exposition = "# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n"
                + "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",Hostname=\"dcgm-0\",namespace=\"default\",pod=\"\(pod)\",container=\"trainer\"} 1\n"
                + "DCGM_FI_DEV_GPU_UTIL{gpu=\"1\",Hostname=\"dcgm-0\"} 0\n"
            try await withExporter(exposition) { exporter in
                let prometheus = try await PrometheusServer.start(scraping: exporter, in: h.cluster.dir)
                do {
                    #expect(try await eventually(timeout: .seconds(30)) { try await prometheus.query("DCGM_FI_DEV_GPU_UTIL").count == 2 })
                    _ = try await h.kubectl("apply", "-f", "-", stdin: try Self.docExample(2))  // the guide's, as written
                    #expect(try await Self.platform(h)[path: "spec", "idleGPUs", "prometheus", "query"] == "DCGM_FI_DEV_GPU_UTIL")
                    _ = try await h.kubectl("apply", "-f", "-", stdin: """
                        apiVersion: gantry.dev/v1alpha1
                        kind: PlatformConfig
                        metadata: {name: default}
                        spec:
                          idleGPUs: {windowSeconds: 2, checkPeriodSeconds: 1, prometheus: {url: "http://127.0.0.1:\(prometheus.port)"}}
                        """)
                    #expect(try await eventually(timeout: .seconds(30)) {
                        try await Self.platform(h)[path: "status", "idleGPUs"]?.arrayValue?.contains { $0["pod"]?.stringValue == pod && $0["idle"] == true } == true
                    })
                    let entry = try await Self.platform(h)[path: "status", "idleGPUs"]?.arrayValue?.first
                    #expect(entry?["utilizationPercent"]?.doubleValue == 1 && entry?["ownerKind"] == "TrainingJob", "\(entry ?? .null)")
                    #expect(try await eventually(timeout: .seconds(20)) {
                        try await h.kubectl("get", "events", "--field-selector", "involvedObject.name=quiet", "-o", "jsonpath={.items[*].reason}").contains("IdleGPU")
                    })
                } catch {
                    await prometheus.stop()
                    throw error
                }
                await prometheus.stop()
            }
        }
    }

    /// `gantry gpus` for a namespace user whom RBAC lets list nodes and pods but not read the PlatformConfig: the
    /// allocation, without budgets or utilisation, and no error.
    @Test func aUserWhoMayNotReadThePlatformConfigStillSeesTheAllocation() async throws {
        var options = DevClusterOptions(tls: true)
        options.authorization = .rbac
        try await withCluster(TestCluster(options)) { cluster in
            let setup = """
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRole
                metadata: {name: gpu-viewer}
                rules: [{apiGroups: [""], resources: [nodes, pods], verbs: [list]}]
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRoleBinding
                metadata: {name: alice-gpu-viewer}
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: gpu-viewer}
                subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}]
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: worker, namespace: default, labels: {app.kubernetes.io/managed-by: gantry}}
                spec:
                  containers: [{name: c, image: trainer:1, resources: {limits: {nvidia.com/gpu: "1"}}}]
                  tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
                """
            for (args, stdin) in [(["apply", "-k", OperatorHarness.repoRoot + "/crds"], nil),
                                  (["wait", "--for=condition=Established", "--timeout=20s", "crd/platformconfigs.gantry.dev"], nil),
                                  (["apply", "-f", "-"], setup),
                                  (["wait", "--for=condition=Ready", "--timeout=30s", "pod/worker"], nil)] as [([String], String?)] {
                let r = await cluster.kubectl(args: args, stdin: stdin)
                guard r.ok else { throw TestFailure("kubectl \(args): \(r.stderr)") }
            }
            let token = "alice-" + UUID().uuidString
            cluster.cluster.addToken(token, user: "alice")
            let kubeconfig = cluster.dir + "/alice.kubeconfig"
            try cluster.cluster.kubeconfigYAML().replacingOccurrences(of: cluster.cluster.token, with: token).write(toFile: kubeconfig, atomically: true, encoding: .utf8)
            let refused = await cluster.kubectl(args: ["--kubeconfig", kubeconfig, "get", "platformconfig", "default"])
            #expect(!refused.ok && refused.stderr.contains("forbidden"), "\(refused.stderr)")
            let report = try JSONValue.parse(try await Self.gpus(kubeconfig, "-o", "json"))
            let namespace = report["namespaces"]?.arrayValue?.first { $0["name"] == "default" }
            #expect(namespace?["allocated"] == 1 && namespace?["usedGPUHours"] == .null, "\(report)")
            #expect(report["pods"]?.arrayValue?.first?["name"] == "worker", "\(report)")
        }
    }

    /// Serves `text` at http://127.0.0.1:PORT/metrics while `body` runs (`body` gets "127.0.0.1:PORT").
    func withExporter(_ text: String, _ body: (String) async throws -> Void) async throws {
        let router = Router()
        router.get("/metrics") { _, _ -> String in text }
        try await withLoopbackServer(router) { port in try await body("127.0.0.1:\(port)") }
    }
}
