import Foundation
import Testing
import GantryAPI
import GantryTestSupport
import KubeClient
import KubeCore

/// `kubectl gantry …` as users run it: the built gantry binary linked as `kubectl-gantry` in a folder on PATH,
/// found and run by the real kubectl (and once by kubectl 1.27 and 1.33), against the embedded cluster watched by the
/// real operator. One cluster for every verb: an Experiment of two short trials, a two-replica job, a failing
/// job, an InferenceService waiting for promotion, and notebooks in two namespaces.
@Suite(.serialized) struct KubectlPluginTests {
    init() throws {
        _ = try Prerequisite.gantryBinary(repoRoot: OperatorHarness.repoRoot)
        try Prerequisite.kubectl()
        _ = try Prerequisite.kubectl127And133()
    }

    /// kubectl with a PATH holding only `kubectl-gantry` (a symlink to this build's gantry) and the system.
    struct Plugin {
        let dir: String
        let kubeconfig: String

        init(_ h: OperatorHarness) throws {
            dir = h.cluster.dir + "/plugin-bin"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: dir + "/kubectl-gantry", withDestinationPath: GantryBinary.path)
            kubeconfig = h.cluster.kubeconfig
        }

        /// `kubectl gantry ARGS --kubeconfig K`: kubectl passes everything after the plugin's name through unchanged.
        func run(_ args: String..., kubectl: String = TestCluster.kubectlPath) async -> CommandResult {
            await run(args + ["--kubeconfig", kubeconfig], kubectl: kubectl, environment: [:])
        }

        func run(_ args: [String], kubectl: String = TestCluster.kubectlPath, environment: [String: String]) async -> CommandResult {
            await runProcess(kubectl, ["gantry"] + args,
                             environment: ["PATH": "\(dir):/usr/bin:/bin", "HOME": dir].merging(environment) { _, new in new })
        }
    }

    static let experiment = """
        apiVersion: gantry.dev/v1alpha1
        kind: Experiment
        metadata: {name: sweep, namespace: default}
        spec:
          algorithm: grid
          objective: {metric: loss}
          parallelTrials: 2
          parameters:
          - {name: lr, type: discrete, values: ["0.0001", "0.003"]}
          template:
            image: trainer:1
            gpu: {count: 1}
            podMetadata:
              annotations:
                sim.gantry.dev/script: '{logs: [{series: {at: 0.5s, every: 0.1s, count: 8, start: 10, step: 10, template: "step={step} loss={loss}", loss: {from: 2.3, to: "0.1 + 2.2 * (1 - exp(-((log10(HP_LR) + 2.5)^2)))", curve: exp}}}], exit: {code: 0}}'
        """

    /// Two replicas logging their rank and a falling loss; the pods are kept when it finishes, for `logs`.
    static let ranks = """
        apiVersion: gantry.dev/v1alpha1
        kind: TrainingJob
        metadata: {name: ranks, namespace: default}
        spec:
          image: trainer:1
          replicas: 2
          distributed: {framework: pytorch}
          gpu: {count: 1}
          finishedPodPolicy: Keep
          podMetadata:
            annotations:
              sim.gantry.dev/script: '{logs: ["hello from {pod}", {series: {at: 0.2s, every: 0.1s, count: 5, start: 1, step: 1, template: "step={step} loss={loss}", loss: {from: 1.0, to: 0.2, curve: linear}}}], exit: {code: 0, after: 3s}}'
        ---
        apiVersion: gantry.dev/v1alpha1
        kind: TrainingJob
        metadata: {name: broken, namespace: default}
        spec:
          image: trainer:1
          backoffLimit: 0
          podMetadata:
            annotations:
              sim.gantry.dev/script: '{logs: ["cannot open /data/train.csv"], exit: {code: 3, after: 0.5s}}'
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: ml}
        ---
        apiVersion: gantry.dev/v1alpha1
        kind: Notebook
        metadata: {name: lab, namespace: ml}
        spec: {image: 'jupyter/base-notebook:latest'}
        ---
        apiVersion: gantry.dev/v1alpha1
        kind: Notebook
        metadata: {name: nb, namespace: default}
        spec: {image: 'jupyter/base-notebook:latest'}
        """

    static func service(_ version: Int) -> String {
        """
        apiVersion: gantry.dev/v1alpha1
        kind: InferenceService
        metadata: {name: api, namespace: default}
        spec:
          image: acme/llm-serving:\(version)
          replicas: 1
          gpu: {count: 1}
          rollout: {autoPromote: false, scaleDownDelaySeconds: 600}
        """
    }

    static func status(_ h: OperatorHarness, _ type: ResourceType, _ name: String) async throws -> JSONValue {
        try await h.get(type, "default", name)?["status"] ?? .null
    }

    @Test func everyVerbThroughRealKubectl() async throws {
        try await withOperator { h in
            let plugin = try Plugin(h)
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.experiment)
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.ranks)
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.service(1))

            try await followedLogs(h, plugin)
            try await trainingVerbs(h, plugin)
            try await servingVerbs(h, plugin)
            try await notebookVerbsAndNamespaces(h, plugin)
        }
    }

    /// `make install-plugin PREFIX=…` (the build step taken as done: this test runs on the built binary) puts
    /// gantry and kubectl-gantry where `kubectl plugin list` finds the plugin.
    @Test func makeInstallPluginInstallsWhereKubectlFindsIt() async throws {
        try Prerequisite.executable("/usr/bin/make", "make")
        let prefix = NSTemporaryDirectory() + "gantry-install-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: prefix) }
        let installed = await runProcess("/usr/bin/make", ["-C", OperatorHarness.repoRoot, "-o", "build", "install-plugin",
                                                           "PREFIX=\(prefix)", "GANTRY=\(GantryBinary.path)"])
        try #require(installed.ok, "\(installed.stdout)\(installed.stderr)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: prefix + "/bin/kubectl-gantry") == "gantry")
        let listed = await runProcess(TestCluster.kubectlPath, ["plugin", "list"], environment: ["PATH": "\(prefix)/bin:/usr/bin:/bin", "HOME": prefix])
        #expect(listed.stdout.contains("\(prefix)/bin/kubectl-gantry"), "\(listed.stdout)\(listed.stderr)")
        let version = await runProcess(TestCluster.kubectlPath, ["gantry", "version"], environment: ["PATH": "\(prefix)/bin:/usr/bin:/bin", "HOME": prefix])
        #expect(version.ok && version.stdout.hasPrefix("gantry "), "\(version.stdout)\(version.stderr)")
    }

    /// get, status, metrics (one run, --compare, a deleted run's record), records -o csv, logs (and -f).
    func trainingVerbs(_ h: OperatorHarness, _ plugin: Plugin) async throws {
        #expect(try await eventually(timeout: .seconds(90)) { try await Self.status(h, .experiments, "sweep")["phase"] == "Succeeded" })
        #expect(try await eventually(timeout: .seconds(60)) { try await Self.status(h, .trainingJobs, "broken")["phase"] == "Failed" })

        // get: every kind, titled; the trials' best loss with its name.
        let all = await plugin.run("get")
        #expect(all.ok, "\(all.stderr)")
        for title in ["trainingjobs.gantry.dev:", "experiments.gantry.dev:", "inferenceservices.gantry.dev:", "notebooks.gantry.dev:"] {
            #expect(all.stdout.contains(title), "\(title) in\n\(all.stdout)")
        }
        let jobs = await plugin.run("get", "trainingjobs")
        let rows = RecordsCommandTests.table(jobs.stdout)
        let trial = try #require(rows.first { $0["NAME"] == "sweep-2" }, "\(jobs.stdout)")
        #expect(trial["PHASE"] == "Succeeded" && trial["EXPERIMENT"] == "sweep" && trial["GPUS"] == "0/1", "\(jobs.stdout)")
        #expect(trial["BEST"]?.hasPrefix("loss=0.1") == true, "lr 0.003 reaches the lowest loss: \(jobs.stdout)")
        let partly = await plugin.run("get", "gtj", "broken", "nope")
        #expect(!partly.ok && RecordsCommandTests.table(partly.stdout).map { $0["NAME"] ?? "" } == ["broken"]
                && partly.stderr.contains(#"trainingjobs.gantry.dev "nope" not found"#), "as kubectl: \(partly.stdout)\(partly.stderr)")
        let experiments = RecordsCommandTests.table(await plugin.run("get", "gex").stdout)
        #expect(experiments.first?["TRIALS"] == "2/2" && experiments.first?["BEST-TRIAL"] == "sweep-2", "\(experiments)")

        // status: the failure's condition with reason and message, the pod, the Warning events.
        let broken = await plugin.run("status", "broken")
        #expect(broken.ok, "\(broken.stderr)")
        #expect(broken.stdout.hasPrefix("TrainingJob default/broken\n  Phase:           Failed\n"), "\(broken.stdout)")
        #expect(broken.stdout.contains("Wrong:\n") && broken.stdout.contains("  ✗ Failed=True ("), "\(broken.stdout)")
        #expect(broken.stdout.contains("exit code 3"), "the exit code is in the message: \(broken.stdout)")
        #expect(broken.stdout.contains("Warning events (newest first):"), "\(broken.stdout)")
        let healthy = await plugin.run("status", "experiment/sweep")
        #expect(healthy.stdout.contains("Best trial:      sweep-2: loss=") && healthy.stdout.contains("Nothing wrong.")
                && healthy.stdout.contains("TrainingJob/sweep-1"), "\(healthy.stdout)")

        // metrics: one curve falling from the top left; --compare: both trials with a legend.
        let curve = await plugin.run("metrics", "sweep-2", "--width", "40", "--height", "8")
        #expect(curve.ok, "\(curve.stderr)")
        let lines = curve.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "TrainingJob default/sweep-2: loss by step", "\(curve.stdout)")
        #expect(lines.count == 12 && lines[1].contains("┤●") && lines[8].hasSuffix("●"), "falls from 2.3 to its best: \(curve.stdout)")
        #expect(lines.last?.hasPrefix("  ● sweep-2  loss=0.1") == true, "\(curve.stdout)")
        let compare = await plugin.run("metrics", "sweep-1", "--compare")
        #expect(compare.stdout.hasPrefix("Experiment default/sweep: loss by step, 2 runs\n"), "\(compare.stdout)")
        #expect(compare.stdout.contains("  ● sweep-1  loss=") && compare.stdout.contains("  ○ sweep-2  loss="), "\(compare.stdout)")
        let byName = await plugin.run("metrics", "--experiment", "sweep")
        #expect(byName.stdout == compare.stdout, "--experiment NAME plots the same runs: \(byName.stdout)\(byName.stderr)")

        // records -o csv: hyperparameters as columns, the best run marked.
        let csv = await plugin.run("records", "--experiment", "sweep", "-o", "csv")
        let csvLines = csv.stdout.components(separatedBy: "\r\n")
        #expect(csvLines.first?.hasPrefix("BEST,NAMESPACE,JOB,EXPERIMENT,LR,OBJECTIVE,VALUE,") == true, "\(csv.stdout)\(csv.stderr)")
        #expect(csvLines.count > 1 && csvLines[1].hasPrefix("*,default,sweep-2,sweep,0.003,loss,"), "\(csv.stdout)")

        // logs of the finished job (its pods kept): pod after pod.
        #expect(try await eventually(timeout: .seconds(60)) { try await Self.status(h, .trainingJobs, "ranks")["phase"] == "Succeeded" })
        Self.expectRankLogs(await plugin.run("logs", "ranks"))

        try await documentedCommands(h, plugin)

        // A deleted run: its curve comes from its record.
        _ = try await h.kubectl("delete", "trainingjob", "ranks", "--wait=true")
        let recorded = await plugin.run("metrics", "ranks")
        #expect(recorded.ok && recorded.stdout.contains("● ranks  loss=") && recorded.stdout.contains("(Succeeded)"), "\(recorded.stdout)\(recorded.stderr)")
    }

    /// `logs -f` started while both replicas run: it follows both at once and ends when their containers do.
    func followedLogs(_ h: OperatorHarness, _ plugin: Plugin) async throws {
        #expect(try await eventually(timeout: .seconds(60)) { try await Self.status(h, .trainingJobs, "ranks")["readyReplicas"] == "2/2" })
        Self.expectRankLogs(await plugin.run("logs", "ranks", "-f"))
    }

    /// Both replicas' lines, each prefixed with its pod and container.
    static func expectRankLogs(_ logs: CommandResult, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(logs.ok, "\(logs.stderr)", sourceLocation: sourceLocation)
        let lines = logs.stdout.split(separator: "\n").map(String.init)
        for rank in 0...1 {
            #expect(lines.contains("[pod/ranks-\(rank)/trainer] hello from ranks-\(rank)"), "\(logs.stdout)", sourceLocation: sourceLocation)
            #expect(lines.contains { $0.hasPrefix("[pod/ranks-\(rank)/trainer] step=5 loss=") }, "\(logs.stdout)", sourceLocation: sourceLocation)
        }
        #expect(lines.count == 12 && lines.allSatisfy { $0.hasPrefix("[pod/ranks-") }, "\(logs.stdout)", sourceLocation: sourceLocation)
    }

    /// A `$ kubectl gantry …` line of docs/kubectl-plugin.md and the output shown under it.
    struct DocumentedCommand {
        var arguments: [String]
        var output: [String]
    }

    static func documentedCommands() throws -> [DocumentedCommand] {
        let page = try String(contentsOfFile: OperatorHarness.repoRoot + "/docs/kubectl-plugin.md", encoding: .utf8)
        var commands: [DocumentedCommand] = []
        var inBlock = false
        for line in page.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("```") { inBlock.toggle(); continue }
            guard inBlock else { continue }
            if line.hasPrefix("$ kubectl gantry ") {
                commands.append(DocumentedCommand(arguments: line.dropFirst("$ kubectl gantry ".count).split(separator: " ").map(String.init), output: []))
            } else if line.hasPrefix("$ ") || line.hasPrefix("#") {
                continue
            } else if !commands.isEmpty {
                commands[commands.count - 1].output.append(line)
            }
        }
        return commands
    }

    /// Every read-only command of docs/kubectl-plugin.md, run against this workload (the page was made from it):
    /// it succeeds and the words of its first line (the table's columns, the title, the first log line) are the page's; the
    /// logs, fully determined by the script, are the page's whole. The commands that change state are run by the
    /// flow of this test with the same arguments.
    func documentedCommands(_ h: OperatorHarness, _ plugin: Plugin) async throws {
        #expect(try await eventually(timeout: .seconds(60)) { try await Self.status(h, .notebooks, "nb")["phase"] == "Running" })
        let commands = try Self.documentedCommands()
        let readOnly = commands.filter { ["get", "status", "metrics", "records", "logs"].contains($0.arguments.first) || $0.arguments.prefix(2) == ["notebook", "open"] }
        #expect(readOnly.count == 11, "the page's read-only examples: \(readOnly.map(\.arguments))")
        for command in readOnly {
            let result = await plugin.run(command.arguments + ["--kubeconfig", plugin.kubeconfig], environment: [:])
            #expect(result.ok, "\(command.arguments): \(result.stderr)")
            let lines = result.stdout.split(whereSeparator: \.isNewline).map(String.init)  // CSV ends lines with CRLF
            // Words, not spacing: a table's columns are as wide as this run's cells.
            #expect(lines.first?.split(separator: " ") == command.output.first?.split(separator: " "), "\(command.arguments):\n\(result.stdout)")
            if command.arguments.first == "logs" { #expect(lines == command.output.filter { !$0.isEmpty }, "\(result.stdout)") }
        }
    }

    /// promote and rollback through the plugin; `get gis` shows the revisions.
    func servingVerbs(_ h: OperatorHarness, _ plugin: Plugin) async throws {
        #expect(try await eventually(timeout: .seconds(60)) {
            let s = try await Self.status(h, .inferenceServices, "api")
            return s[path: "activeRevision", "image"] == "acme/llm-serving:1" && s["candidate"] == nil
        })
        _ = try await h.kubectl("apply", "-f", "-", stdin: Self.service(2))
        #expect(try await eventually(timeout: .seconds(60)) {
            try await Self.status(h, .inferenceServices, "api")[path: "candidate", "phase"] == "AwaitingPromotion"
        })
        let status = try await Self.status(h, .inferenceServices, "api")
        let (first, second) = (try #require(status[path: "activeRevision", "hash"]?.stringValue), try #require(status[path: "candidate", "revision", "hash"]?.stringValue))
        let waiting = RecordsCommandTests.table(await plugin.run("get", "gis").stdout).first
        #expect(waiting?["ACTIVE"] == "\(first) (blue)" && waiting?["CANDIDATE"] == "\(second) AwaitingPromotion", "\(String(describing: waiting))")

        let promoted = await plugin.run("promote", "api")
        #expect(promoted.ok && promoted.stdout.contains(second), "\(promoted.stderr)")
        #expect(try await eventually(timeout: .seconds(60)) {
            try await Self.status(h, .inferenceServices, "api")[path: "activeRevision", "hash"]?.stringValue == second
        })
        let rolled = await plugin.run("rollback", "api")
        #expect(rolled.ok && rolled.stdout.contains("rolling back to \(first)"), "\(rolled.stdout)\(rolled.stderr)")
        #expect(try await eventually(timeout: .seconds(60)) {
            let s = try await Self.status(h, .inferenceServices, "api")
            return s[path: "activeRevision", "hash"]?.stringValue == first && s[path: "lastSwap", "reason"] == "RolledBack"
        })
        let after = RecordsCommandTests.table(await plugin.run("get", "inferenceservice", "api").stdout).first
        #expect(after?["ACTIVE"] == "\(first) (blue)" && after?["PREVIOUS"] == second && after?["LAST-SWAP"]?.hasSuffix("(RolledBack)") == true,
                "\(String(describing: after))")
        let summary = await plugin.run("status", "gis/api")
        #expect(summary.stdout.contains("Wrong:\n  ✗ Stalled=True (RolledBack)"), "a rollback holds until the spec is reverted: \(summary.stdout)")
    }

    /// notebook stop/start/open; -n before the verb, -A, the kubeconfig's namespace through $KUBECONFIG; an older kubectl.
    func notebookVerbsAndNamespaces(_ h: OperatorHarness, _ plugin: Plugin) async throws {
        #expect(try await eventually(timeout: .seconds(60)) { try await Self.status(h, .notebooks, "nb")["phase"] == "Running" })
        let stopped = await plugin.run("notebook", "stop", "nb")
        #expect(stopped.ok && stopped.stdout.contains("spec.stopped is now true"), "\(stopped.stderr)")
        #expect(try await eventually(timeout: .seconds(30)) { try await Self.status(h, .notebooks, "nb")["phase"] == "Stopped" })
        #expect(try await eventually(timeout: .seconds(30)) { try await h.get(.pods, "default", "nb") == nil }, "its pod is deleted")
        let started = await plugin.run("notebook", "start", "nb")
        #expect(started.ok && started.stdout.contains("spec.stopped is now false"), "\(started.stderr)")
        #expect(try await eventually(timeout: .seconds(60)) { try await Self.status(h, .notebooks, "nb")["phase"] == "Running" })
        let open = await plugin.run("notebook", "open", "nb")
        #expect(open.ok && open.stdout.contains("kubectl port-forward -n default service/nb 8888:80") && open.stdout.contains("/?token="),
                "\(open.stdout)\(open.stderr)")

        // Flags before the verb, as kubectl passes them; -A adds the namespace column.
        let inML = await plugin.run(["-n", "ml", "get", "notebooks", "--kubeconfig", plugin.kubeconfig], environment: [:])
        #expect(RecordsCommandTests.table(inML.stdout).map { $0["NAME"] ?? "" } == ["lab"], "\(inML.stdout)\(inML.stderr)")
        let everywhere = RecordsCommandTests.table(await plugin.run("get", "gnb", "-A").stdout)
        #expect(everywhere.map { "\($0["NAMESPACE"] ?? "")/\($0["NAME"] ?? "")" } == ["default/nb", "ml/lab"], "\(everywhere)")

        // $KUBECONFIG and the context's namespace, as kubectl reads them; kubectl 1.27 and 1.33 run the plugin too.
        let mlConfig = h.cluster.dir + "/kubeconfig-ml"
        try FileManager.default.copyItem(atPath: plugin.kubeconfig, toPath: mlConfig)
        let setNamespace = await runProcess(TestCluster.kubectlPath, ["config", "set-context", "--current", "--namespace=ml", "--kubeconfig", mlConfig])
        try #require(setNamespace.ok, "\(setNamespace.stderr)")
        for kubectl in [TestCluster.kubectlPath] + (try Prerequisite.kubectl127And133()) {
            let fromEnv = await plugin.run(["get", "notebooks"], kubectl: kubectl, environment: ["KUBECONFIG": mlConfig])
            #expect(RecordsCommandTests.table(fromEnv.stdout).map { $0["NAME"] ?? "" } == ["lab"], "\(kubectl): \(fromEnv.stdout)\(fromEnv.stderr)")
        }
        // --context picks another context of that kubeconfig (here: the same cluster and user, namespace default).
        let current = await runProcess(TestCluster.kubectlPath, ["config", "view", "--minify", "--kubeconfig", mlConfig, "-o",
                                                                 "jsonpath={.contexts[0].context.cluster} {.contexts[0].context.user}"])
        let parts = current.stdout.split(separator: " ").map(String.init)
        try #require(parts.count == 2, "\(current.stdout)\(current.stderr)")
        let added = await runProcess(TestCluster.kubectlPath, ["config", "set-context", "team-default", "--cluster", parts[0], "--user", parts[1],
                                                               "--namespace", "default", "--kubeconfig", mlConfig])
        try #require(added.ok, "\(added.stderr)")
        let other = await plugin.run(["get", "notebooks", "--context", "team-default"], environment: ["KUBECONFIG": mlConfig])
        #expect(RecordsCommandTests.table(other.stdout).map { $0["NAME"] ?? "" } == ["nb"], "\(other.stdout)\(other.stderr)")

        let impersonating = await plugin.run("get", "--as", "bob")
        #expect(!impersonating.ok && impersonating.stderr.contains("--as is a kubectl flag kubectl gantry does not read"), "\(impersonating.stderr)")

        let missing = await plugin.run("status", "nothing-here")
        #expect(!missing.ok && missing.stderr.contains("no Gantry object named \"nothing-here\" in namespace \"default\""), "\(missing.stderr)")
    }
}
