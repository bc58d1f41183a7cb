import EmbeddedCluster
import Foundation
import GantryAPI
import GantryTestSupport
import KubeClient
import KubeCore
import Testing

/// `gantry dashboard` (docs/dashboard.md) through the real path: the binary serving pages read over libcurl from
/// the embedded cluster, where the operator runs a small experiment, an InferenceService that swaps after its
/// validation (PlatformWorkload's) and a Notebook; every page fetched over HTTP and loaded in Debian's headless chromium.
@Suite(.serialized)
struct DashboardTests {
    init() throws {
        _ = try Prerequisite.gantryBinary(repoRoot: OperatorHarness.repoRoot)
        try Prerequisite.kubectl()
        try Chromium.require()
    }

    static let attack = "<script>alert(1)</script>"

    /// Two grid trials (loss from 2.3 down towards 0.1 + 10·lr); a fixed hyperparameter holds markup.
    static let experiment = """
        apiVersion: gantry.dev/v1alpha1
        kind: Experiment
        metadata: {name: sweep, namespace: default}
        spec:
          algorithm: grid
          parallelTrials: 2
          objective: {metric: loss}
          parameters:
            - {name: lr, type: discrete, values: ["0.01", "0.05"]}
          template:
            image: trainer:1
            gpu: {count: 1}
            hyperparameters: {note: "\(attack)"}
            podMetadata:
              annotations:
                sim.gantry.dev/script: '{logs: [{series: {at: 0.3s, every: 0.1s, count: 6, start: 10, step: 10, template: "step={step} loss={loss}", loss: {from: 2.3, to: "0.1 + HP_LR * 10", curve: exp}}}], exit: {code: 0}}'
        """

    static let notebookAndPlatform = """
        apiVersion: gantry.dev/v1alpha1
        kind: Notebook
        metadata: {name: nb, namespace: default}
        spec: {image: 'jupyter/base-notebook:latest', gpu: {count: 1}, culling: {idleTimeoutSeconds: 3600, checkPeriodSeconds: 1}}
        ---
        apiVersion: gantry.dev/v1alpha1
        kind: PlatformConfig
        metadata: {name: default}
        spec:
          budgets: {accountingPeriodSeconds: 1, namespaces: [{namespace: default, gpuHoursPerMonth: 100}]}
        """

    static func status(_ h: OperatorHarness, _ type: ResourceType, _ name: String, namespace: String? = "default") async throws -> JSONValue? {
        try await h.get(type, namespace, name)?["status"]
    }

    /// The workload every page shows, run to a state worth looking at.
    static func play(_ h: OperatorHarness) async throws {
        _ = try await h.kubectl("apply", "-f", "-", stdin: experiment + "\n---\n" + PlatformWorkload.service(image: "acme/serve:1", label: "positive") + "\n---\n" + notebookAndPlatform)
        #expect(try await eventually(timeout: .seconds(60)) { try await status(h, .experiments, "sweep")?["phase"] == "Succeeded" })
        #expect(try await eventually(timeout: .seconds(30)) {
            try await h.client.list(.configMaps, namespace: "default", options: ListOptions(labelSelector: "gantry.dev/record=true")).items.count == 2
        }, "both trials' records written")
        #expect(try await eventually(timeout: .seconds(60)) { try await status(h, .inferenceServices, "api")?[path: "activeRevision", "image"] == "acme/serve:1" })
        _ = try await h.kubectl("apply", "-f", "-", stdin: PlatformWorkload.service(image: "acme/serve:2", label: "positive"))
        #expect(try await eventually(timeout: .seconds(60)) { try await status(h, .inferenceServices, "api")?[path: "lastSwap", "reason"] == "Swapped" })
        #expect(try await eventually(timeout: .seconds(60)) { try await status(h, .notebooks, "nb")?["phase"] == "Running" })
        #expect(try await eventually(timeout: .seconds(60)) {
            try await status(h, .platformConfigs, "default", namespace: nil)?["budgets"]?.arrayValue?.contains { $0["namespace"] == "default" } == true
        })
    }

    @Test func everyPageShowsTheWorkloadAndLoadsInABrowserWithItsCurves() async throws {
        try await withOperator(nodes: "2x{gpu: 4}", rbac: true) { h in
            try await Self.play(h)
            let dashboard = try DashboardProcess(kubeconfig: h.cluster.kubeconfig, logPath: h.cluster.dir + "/dashboard.log")
            defer { dashboard.process.killIfRunning() }
            let base = try await dashboard.baseURL()

            // Over HTTP: each page answers 200 with what it promises.
            let expected: [(String, [String])] = [
                ("/", ["Experiments", "InferenceServices", "GPUs allocated"]),
                ("/experiments", [#"<a href="/experiments/default/sweep">sweep</a>"#, "grid", "2/2"]),
                ("/experiments/default/sweep", ["sweep-1", "sweep-2", "★ best", "<th>LR</th>", "<th>NOTE</th>", "&lt;script&gt;alert(1)&lt;/script&gt;", "<polyline"]),
                ("/trainingjobs", ["sweep-1", "sweep-2", "Succeeded"]),
                ("/trainingjobs/default/sweep-1", ["Succeeded", "<polyline", "Conditions", "GPUs (held/requested)"]),
                ("/inferenceservices", [#"<a href="/inferenceservices/default/api">api</a>"#, "acme/serve:2", "Swapped"]),
                ("/inferenceservices/default/api", ["<td>Active</td>", "<td>Previous</td>", "acme/serve:1", "acme/serve:2", "Swapped", "RolloutStarted", "ValidationPassed"]),
                ("/notebooks", ["<td>nb</td>", "Running", "1h 0m"]),
                ("/gpus", ["<h2>Nodes</h2>", "<h2>Namespaces</h2>", "<td>default</td>", "100"]),
            ]
            for (path, needles) in expected {
                let (code, body) = await dashboard.get(base + path)
                #expect(code == 200, "\(path): \(code) \(body)")
                for needle in needles { #expect(body.contains(needle), "\(path) lacks \(needle): \(body)") }
                #expect(!body.contains("<script"), "\(path): markup from user text reached the page")
            }
            let (missing, body) = await dashboard.get(base + "/trainingjobs/default/nope")
            #expect(missing == 404 && body.contains("No TrainingJob default/nope."), "\(missing) \(body)")
            // A segment that is no Kubernetes name never reaches an API path or a label selector.
            let (odd, oddBody) = await dashboard.get(base + "/experiments/default/sweep,x=y")
            #expect(odd == 404 && oddBody.contains("is not a Kubernetes name"), "\(odd) \(oddBody)")

            // In the browser: the DOM chromium built has the curves as polylines with points, and no script.
            let profile = h.cluster.dir + "/chromium"
            for (path, _) in expected {
                let dom = await Chromium.dom(base + path, profile: profile)
                #expect(dom.ok && dom.stdout.contains("</html>"), "\(path): \(dom.stderr.suffix(2000))")
                #expect(!dom.stdout.contains("<script"), "\(path)")
            }
            let experimentDOM = await Chromium.dom(base + "/experiments/default/sweep", profile: profile).stdout
            let lines = Self.polylinePoints(experimentDOM)
            #expect(lines.count == 2 && lines.allSatisfy { $0.count == 6 }, "one curve of 6 points per trial: \(lines)")
            #expect(experimentDOM.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the hyperparameter is text in the DOM")
            let shot = h.cluster.dir + "/experiment.png"
            let screenshot = await Chromium.screenshot(base + "/experiments/default/sweep", to: shot, profile: profile)
            let png = FileManager.default.contents(atPath: shot) ?? Data()
            #expect(screenshot.ok && png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000, "\(screenshot.stderr.suffix(2000))")
            #expect(await dashboard.stop() == 0, "SIGTERM stops the dashboard cleanly: \(dashboard.process.output.suffix(2000))")
        }
    }

    /// docs/dashboard.md's flag table is what the binary takes; bad input names the flag or file and stops; an API
    /// server that cannot be reached gives an error page, not a dead dashboard.
    @Test func theDocumentedFlagsExistAndBadInputIsNamed() async throws {
        let help = await runProcess(GantryBinary.path, ["dashboard", "--help"])
        let doc = try String(contentsOfFile: OperatorHarness.repoRoot + "/docs/dashboard.md", encoding: .utf8)
        for flag in ["--kubeconfig", "--context", "--namespace", "--port", "--address"] {
            #expect(help.stdout.contains(flag) && doc.contains("`\(flag)"), "\(flag): \(help.stdout)")
        }
        // Every screenshot the guide shows is committed (make dashboard-shots writes them).
        let images = doc.components(separatedBy: "](images/").dropFirst().compactMap { $0.split(separator: ")").first.map(String.init) }
        #expect(images.count == 9, "\(images)")
        for image in images {
            let png = FileManager.default.contents(atPath: OperatorHarness.repoRoot + "/docs/images/" + image) ?? Data()
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "docs/images/\(image) is missing or not a PNG")
        }
        let port = await runProcess(GantryBinary.path, ["dashboard", "--port", "70000"])
        #expect(!port.ok && port.stderr.contains("--port must be between 0 and 65535, got 70000"), "\(port.stderr)")
        let missing = await runProcess(GantryBinary.path, ["dashboard", "--kubeconfig", "/nonexistent/kubeconfig", "--port", "0"])
        #expect(!missing.ok && missing.stderr.contains("/nonexistent/kubeconfig: kubeconfig file does not exist"), "\(missing.stderr)")

        // An API server that does not answer: an error page naming it, and the dashboard stays up.
        let dir = NSTemporaryDirectory() + "gantry-dashboard-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dead = """
            apiVersion: v1
            kind: Config
            clusters: [{name: dead, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
            users: [{name: u, user: {token: abc}}]
            contexts: [{name: dead, context: {cluster: dead, user: u, namespace: default}}]
            current-context: dead
            """
        try Data(dead.utf8).write(to: URL(fileURLWithPath: dir + "/kubeconfig"))
        let dashboard = try DashboardProcess(kubeconfig: dir + "/kubeconfig", logPath: dir + "/dashboard.log")
        defer { dashboard.process.killIfRunning() }
        let base = try await dashboard.baseURL()
        for _ in 0..<2 {
            let (code, body) = await dashboard.get(base + "/notebooks")
            #expect(code == 502 && body.contains("Cannot read the cluster") && body.contains("The API server could not be read"), "\(code) \(body)")
        }
        #expect(await dashboard.stop() == 0)
    }

    /// The points of every `<polyline class="run">`, as (x, y) pairs.
    static func polylinePoints(_ html: String) -> [[(Double, Double)]] {
        html.components(separatedBy: "<polyline").dropFirst().compactMap { element in
            guard let start = element.range(of: #"points=""#), let end = element[start.upperBound...].firstIndex(of: "\"") else { return nil }
            return element[start.upperBound..<end].split(separator: " ").compactMap { pair in
                let xy = pair.split(separator: ",").compactMap { Double($0) }
                return xy.count == 2 ? (xy[0], xy[1]) : nil
            }
        }
    }

    /// A user bound to `view` in one namespace: kinds they may not read say "no access" (not an error page);
    /// once Gantry's roles aggregate into `view` (deploy/rbac-users.yaml) they see their namespace only.
    @Test func aUserSeesOnlyWhatTheirCredentialsMayRead() async throws {
        var options = DevClusterOptions(tls: true)
        options.authorization = .rbac
        options.nodes = "1x{gpu: 2}"
        try await withCluster(TestCluster(options)) { t async throws in
            func kubectl(_ args: String..., stdin: String? = nil) async throws -> String {
                let r = await t.kubectl(args: args, stdin: stdin)
                guard r.ok else { throw TestFailure("kubectl \(args.joined(separator: " ")): \(r.stderr)") }
                return r.stdout
            }
            _ = try await kubectl("apply", "-k", OperatorHarness.repoRoot + "/crds")
            _ = try await kubectl("wait", "--for=condition=Established", "--timeout=20s", "crd/notebooks.gantry.dev")
            _ = try await kubectl("apply", "-f", "-", stdin: """
                apiVersion: v1
                kind: Namespace
                metadata: {name: team-a}
                ---
                apiVersion: v1
                kind: ServiceAccount
                metadata: {name: viewer, namespace: team-a}
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: RoleBinding
                metadata: {name: viewer, namespace: team-a}
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
                subjects: [{kind: ServiceAccount, name: viewer, namespace: team-a}]
                ---
                apiVersion: gantry.dev/v1alpha1
                kind: Notebook
                metadata: {name: mine, namespace: team-a}
                spec: {image: jupyter}
                ---
                apiVersion: gantry.dev/v1alpha1
                kind: Notebook
                metadata: {name: theirs, namespace: default}
                spec: {image: jupyter}
                """)
            let token = try await kubectl("create", "token", "viewer", "-n", "team-a").trimmingCharacters(in: .whitespacesAndNewlines)
            let viewerConfig = t.dir + "/viewer.kubeconfig"
            try FileManager.default.copyItem(atPath: t.kubeconfig, toPath: viewerConfig)
            _ = try await kubectl("--kubeconfig", viewerConfig, "config", "set-credentials", "viewer", "--token=\(token)")
            _ = try await kubectl("--kubeconfig", viewerConfig, "config", "set-context", "--current", "--user=viewer", "--namespace=team-a")

            let dashboard = try DashboardProcess(kubeconfig: viewerConfig, logPath: t.dir + "/dashboard.log")
            defer { dashboard.process.killIfRunning() }
            let base = try await dashboard.baseURL()

            // Plain `view` has no Gantry kinds: each page says so, and the node list is cluster-wide, never the viewer's.
            for path in ["/notebooks", "/experiments", "/trainingjobs", "/inferenceservices"] {
                let (code, body) = await dashboard.get(base + path)
                #expect(code == 200 && body.contains("<b>No access</b>") && body.contains("forbidden"), "\(path): \(code) \(body)")
            }
            var (code, body) = await dashboard.get(base + "/gpus")
            #expect(code == 200 && body.contains("<b>No access</b>") && body.contains("nodes"), "\(body)")
            (code, body) = await dashboard.get(base + "/")
            #expect(code == 200 && body.contains("No access"), "\(body)")

            // Gantry's roles aggregated into view: their namespace's notebooks, not the other namespace's.
            _ = try await kubectl("apply", "-f", OperatorHarness.repoRoot + "/deploy/rbac-users.yaml")
            #expect(try await eventually(timeout: .seconds(20)) { await dashboard.get(base + "/notebooks").1.contains("<td>mine</td>") })
            (code, body) = await dashboard.get(base + "/notebooks")
            #expect(code == 200 && !body.contains("theirs") && body.contains("Showing namespace team-a only"), "\(body)")
            let dom = await Chromium.dom(base + "/notebooks", profile: t.dir + "/chromium")
            #expect(dom.ok && dom.stdout.contains("<td>mine</td>"), "\(dom.stderr.suffix(2000))")
            #expect(await dashboard.stop() == 0)
        }
    }

    /// deploy/dashboard (the optional in-cluster Service): it installs beside deploy/ with RBAC enforced, rolls out,
    /// and its service account may read everything a page reads (no page says "no access").
    @Test func theInClusterManifestsInstallAndGrantEveryPageItsReads() async throws {
        try await withInstall { t, _ async throws in
            var r = await t.kubectl("apply", "-k", OperatorHarness.repoRoot + "/deploy/dashboard")
            #expect(r.ok && r.stdout.contains("deployment.apps/gantry-dashboard created"), "\(r.stdout) \(r.stderr)")
            r = await t.kubectl("rollout", "status", "deployment/gantry-dashboard", "-n", "gantry-system", "--timeout=90s")
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("create", "token", "gantry-dashboard", "-n", "gantry-system")
            try #require(r.ok, "\(r.stderr)")
            let config = t.dir + "/dashboard-sa.kubeconfig"
            try FileManager.default.copyItem(atPath: t.kubeconfig, toPath: config)
            for args in [["config", "set-credentials", "sa", "--token=\(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))"],
                         ["config", "set-context", "--current", "--user=sa"]] {
                let set = await t.kubectl(args: ["--kubeconfig", config] + args)
                #expect(set.ok, "\(set.stderr)")
            }
            let dashboard = try DashboardProcess(kubeconfig: config, logPath: t.dir + "/dashboard.log")
            defer { dashboard.process.killIfRunning() }
            let base = try await dashboard.baseURL()
            for path in ["/", "/experiments", "/trainingjobs", "/inferenceservices", "/notebooks", "/gpus"] {
                let (code, body) = await dashboard.get(base + path)
                #expect(code == 200 && !body.contains("No access") && !body.contains("Showing namespace"), "\(path): \(code) \(body)")
            }
            let health = await dashboard.get(base + "/healthz")
            #expect(health.0 == 200 && health.1 == "ok", "\(health)")
            #expect(await dashboard.stop() == 0)
        }
    }
}

/// One `gantry dashboard --port 0` process of this checkout.
struct DashboardProcess: Sendable {
    let process: ControllerProcess

    init(kubeconfig: String, logPath: String, _ args: [String] = []) throws {
        process = try ControllerProcess(arguments: ["dashboard", "--kubeconfig", kubeconfig, "--port", "0"] + args, environment: nil, logPath: logPath)
    }

    /// `http://127.0.0.1:PORT`, once the dashboard printed where it serves.
    func baseURL() async throws -> String {
        let process = self.process
        guard try await eventually(timeout: .seconds(30), { Self.servingURL(process.output) != nil }),
              let url = Self.servingURL(process.output) else {
            throw TestFailure("gantry dashboard did not start: \(process.output.suffix(2000))")
        }
        return url
    }

    static func servingURL(_ output: String) -> String? {
        let prefix = "gantry dashboard: serving "
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }),
              let url = line.dropFirst(prefix.count).split(separator: " ").first else { return nil }
        return String(url).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
    }

    /// (HTTP status, body) of GET `url`.
    func get(_ url: String) async -> (Int, String) {
        let r = await runProcess("/usr/bin/curl", ["-sS", "--max-time", "20", "-w", "\n%{http_code}", url])
        guard let nl = r.stdout.lastIndex(of: "\n") else { return (0, r.stderr) }
        return (Int(r.stdout[r.stdout.index(after: nl)...]) ?? 0, String(r.stdout[..<nl]))
    }

    /// SIGTERM, then the exit status (nil: still running after 30 s).
    func stop() async -> Int32? {
        process.signal(SIGTERM)
        return await process.waitForExit(timeout: 30)
    }
}
