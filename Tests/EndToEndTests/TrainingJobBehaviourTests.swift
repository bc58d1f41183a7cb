import Foundation
import Testing
import GantryAPI
import GantryControllers
import GantryTestSupport
import KubeCore

/// TrainingJob behaviours on the simulated GPU pool (2 nodes × 8 A100 by default), driven through kubectl.
@Suite(.serialized) struct TrainingJobBehaviourTests {
    static func manifest(_ name: String, replicas: Int = 1, gpus: Int = 1, script: String, extra: String = "") -> String {
        """
        apiVersion: gantry.dev/v1alpha1
        kind: TrainingJob
        metadata: {name: \(name), namespace: default}
        spec:
          image: trainer:1
          replicas: \(replicas)
          gpu: {count: \(gpus)}
        \(replicas > 1 ? "  distributed: {framework: pytorch}\n" : "")\(extra)  podMetadata:
            annotations:
              sim.gantry.dev/script: '\(script)'
        """
    }

    static func status(_ h: OperatorHarness, _ name: String) async throws -> JSONValue {
        try await h.get(.trainingJobs, "default", name)?["status"] ?? .null
    }

    @Test func aFailingReplicaRestartsTheGangUntilTheBackoffLimit() async throws {
        try await withOperator { h async throws in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("flaky", replicas: 2, script: "{exit: {code: 3, after: 1s}}",
                                                                             extra: "  backoffLimit: 1\n"))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.status(h, "flaky")["phase"] == "Failed" })
            let status = try await Self.status(h, "flaky")
            #expect(status["restarts"] == 1)
            let failed = status["conditions"]?.arrayValue?.first { $0["type"] == "Failed" }
            #expect(failed?["reason"] == "BackoffLimitExceeded")
            #expect(failed?["message"]?.stringValue?.contains("exit code 3") == true)
            #expect(status["replicaStatuses"]?.arrayValue?.first?["exitCode"] == 3)
        }
    }

    @Test func aPreemptedNodeRestartsTheJobWithoutCountingIt() async throws {
        try await withOperator { h async throws in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("spot", script: "{logs: [\"training\"]}", extra: "  backoffLimit: 0\n"))
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.status(h, "spot")["phase"] == "Running" })
            let node = try #require(try await h.get(.pods, "default", "spot-0")?[path: "spec", "nodeName"]?.stringValue)
            _ = try await h.kubectl("annotate", "node", node, "sim.gantry.dev/disrupt=preempt")
            #expect(try await eventually(timeout: .seconds(60)) {
                let s = try await Self.status(h, "spot")
                return s["evictionRestarts"] == 1 && s["phase"] == "Running"
            })
            let status = try await Self.status(h, "spot")
            #expect(status["restarts"]?.intValue ?? 0 == 0)
            let newNode = try await h.get(.pods, "default", "spot-0")?[path: "spec", "nodeName"]?.stringValue
            #expect(newNode != nil && newNode != node)
        }
    }

    @Test func twoGangsThatEachNeedTheWholePoolRunOneAfterTheOther() async throws {
        try await withOperator { h async throws in
            let script = "{logs: [\"training\"], exit: {code: 0, after: 3s}}"
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("gang-a", replicas: 2, gpus: 8, script: script))
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.status(h, "gang-a")["phase"] == "Running" })
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("gang-b", replicas: 2, gpus: 8, script: script))
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.status(h, "gang-b")["phase"] == "Queued" })
            let queued = try await Self.status(h, "gang-b")
            #expect(queued[path: "queue", "position"] == 1)
            #expect(queued[path: "queue", "reason"]?.stringValue?.contains("nvidia.com/gpu") == true)
            #expect(try await h.get(.pods, "default", "gang-b-0") == nil)  // no partial placement
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.status(h, "gang-b")["phase"] == "Succeeded" })
            #expect(try await Self.status(h, "gang-a")["phase"] == "Succeeded")
        }
    }

    @Test func suspendFreesTheGPUsAndResumeStartsAgain() async throws {
        try await withOperator { h async throws in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("pausable", script: "{logs: [\"training\"]}"))
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.status(h, "pausable")["phase"] == "Running" })
            _ = try await h.kubectl("patch", "trainingjob", "pausable", "--type=merge", "-p", #"{"spec":{"suspend":true}}"#)
            #expect(try await eventually(timeout: .seconds(30)) {
                let pod = try await h.get(.pods, "default", "pausable-0")
                return try await Self.status(h, "pausable")["phase"] == "Suspended" && pod == nil
            })
            _ = try await h.kubectl("patch", "trainingjob", "pausable", "--type=merge", "-p", #"{"spec":{"suspend":false}}"#)
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.status(h, "pausable")["phase"] == "Running" })
        }
    }

    @Test func ttlDeletesTheFinishedJobAndKeepsItsRecord() async throws {
        try await withOperator { h async throws in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("short", script: "{exit: {code: 0, after: 1s}}",
                                                                             extra: "  ttlSecondsAfterFinished: 2\n"))
            #expect(try await eventually(timeout: .seconds(60)) { try await h.get(.trainingJobs, "default", "short") == nil })
            #expect(try await h.get(.configMaps, "default", "short-record") != nil)
        }
    }

    @Test func tensorBoardRunsBesideTheJobAndGoesWithIt() async throws {
        try await withOperator { h async throws in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("viz", script: "{exit: {code: 0, after: 1s}}",
                                                                             extra: "  tensorboard: {logDir: /runs/viz}\n"))
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.status(h, "viz")["phase"] == "Succeeded" })
            #expect(try await eventually(timeout: .seconds(30)) {
                try await h.get(.pods, "default", "viz-tensorboard")?[path: "status", "phase"] == "Running"
            })
            #expect(try await h.get(.services, "default", "viz-tensorboard") != nil)
            _ = try await h.kubectl("delete", "trainingjob", "viz")
            #expect(try await eventually(timeout: .seconds(30)) {
                let pod = try await h.get(.pods, "default", "viz-tensorboard")
                let service = try await h.get(.services, "default", "viz-tensorboard")
                return pod == nil && service == nil
            })
        }
    }

    @Test func podsThatCannotStartFailTheJobAtTheStartupDeadlineWithADiagnosis() async throws {
        try await withOperator { h async throws in
            let manifest = Self.manifest("stuck", script: "{}", extra: "  startupDeadlineSeconds: 3\n")
                .replacingOccurrences(of: "image: trainer:1", with: "image: registry.example.com/trainer:missing")
            _ = try await h.kubectl("apply", "-f", "-", stdin: manifest)
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.status(h, "stuck")["phase"] == "Failed" })
            let failed = try await Self.status(h, "stuck")["conditions"]?.arrayValue?.first { $0["type"] == "Failed" }
            #expect(failed?["reason"] == "StartupDeadlineExceeded")
            let message = failed?["message"]?.stringValue ?? ""
            #expect(message.contains("stuck-0") && (message.contains("ImagePullBackOff") || message.contains("ErrImagePull")), "\(message)")
            #expect(try await eventually(timeout: .seconds(30)) { try await h.get(.pods, "default", "stuck-0") == nil })  // GPU freed
        }
    }

    @Test func aNodeCachedDatasetIsSyncedOnceAndRemovedWhenNoJobNeedsIt() async throws {
        try await withOperator { h async throws in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("cached", script: "{exit: {code: 0, after: 8s}}",
                                                                             extra: "  dataset: {uri: s3://data/imagenet, cache: node}\n"))
            let name = DatasetCache.daemonSetName("s3://data/imagenet")
            #expect(try await eventually(timeout: .seconds(30)) {
                try await h.get(.daemonSets, "default", name)?[path: "status", "numberReady"] == 2  // the two A100 nodes, not the CPU one
            })
            let pod = try await h.get(.pods, "default", "cached-0")
            let mounts = pod?[path: "spec", "containers"]?.arrayValue?.first?["volumeMounts"]?.arrayValue ?? []
            #expect(mounts.contains { $0["mountPath"] == "/datasets" })
            #expect(try await eventually(timeout: .seconds(60)) { try await h.get(.daemonSets, "default", name) == nil })
            #expect(try await Self.status(h, "cached")["phase"] == "Succeeded")
        }
    }

    @Test func patienceAndThresholdRulesStopRunsFromTheirLogs() async throws {
        try await withOperator { h async throws in
            let plateau = "{logs: [{series: {every: 0.1s, count: 200, start: 1, step: 1, template: \"step={step} loss={loss}\", loss: {from: 1.0, to: 1.0, curve: flat}}}], exit: {code: 0}}"
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("plateau", script: plateau,
                                                                             extra: "  earlyStopping: {metric: loss, patience: {evaluations: 5, minDelta: 0.01}}\n"))
            let slow = "{logs: [{series: {every: 0.1s, count: 200, start: 1, step: 1, template: \"step={step} acc={acc}\", acc: {from: 0.1, to: 0.2, curve: linear}}}], exit: {code: 0}}"
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("slow", script: slow,
                                                                             extra: "  earlyStopping: {metric: acc, goal: maximize, threshold: {bound: 0.5, startStep: 10}}\n"))
            #expect(try await eventually(timeout: .seconds(30)) {
                let a = try await Self.status(h, "plateau")["phase"]
                let b = try await Self.status(h, "slow")["phase"]
                return a == "EarlyStopped" && b == "EarlyStopped"
            })
            let patience = try await Self.status(h, "plateau")["earlyStop"]
            #expect(patience?["rule"] == "patience")
            let patienceStep = try #require(patience?["step"]?.intValue, "earlyStop.step is missing: \(patience ?? .null)")
            #expect(patienceStep > 0 && patienceStep < 50)  // stopped long before the 200 steps of the script
            let threshold = try await Self.status(h, "slow")["earlyStop"]
            #expect(threshold?["rule"] == "threshold")
            #expect(threshold?["step"]?.intValue.map { $0 >= 10 && $0 < 50 } == true)
        }
    }

    @Test func aPlatformConfigChangeAppliesWithoutRestartingTheOperator() async throws {
        try await withOperator { h async throws in
            let quota = { (gpus: Int) in
                "apiVersion: gantry.dev/v1alpha1\nkind: PlatformConfig\nmetadata: {name: default}\nspec: {quotas: [{namespace: default, gpus: \(gpus)}]}\n"
            }
            _ = try await h.kubectl("apply", "-f", "-", stdin: quota(2))
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("first", gpus: 2, script: "{logs: [\"training\"]}"))
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.status(h, "first")["phase"] == "Running" })
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("second", gpus: 2, script: "{logs: [\"training\"]}"))
            #expect(try await eventually(timeout: .seconds(30)) {
                try await Self.status(h, "second")[path: "queue", "reason"]?.stringValue?.contains("quota") == true
            })
            #expect(try await Self.status(h, "first")[path: "appliedDefaults", "namespaceGPUQuota"] == 2)
            _ = try await h.kubectl("apply", "-f", "-", stdin: quota(4))  // the admin raises the quota in Git
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.status(h, "second")["phase"] == "Running" })
        }
    }

    @Test func kubectlExplainReadsTheCRDAndGetWatchFollowsStatus() async throws {
        try await withOperator(nodes: "none") { h async throws in
            let explain = try await h.kubectl("explain", "trainingjob.spec.earlyStopping.median")
            let words = explain.split(whereSeparator: \.isWhitespace).joined(separator: " ")  // kubectl wraps lines
            #expect(words.contains("median of other jobs of the same experiment"), "\(explain)")
            // `kubectl get -w` streams rows as the operator writes status (no node: the job becomes Invalid).
            let watch = Task {
                await runProcess(TestCluster.kubectlPath, ["--kubeconfig", h.cluster.kubeconfig, "get", "trainingjobs", "-w",
                                                           "--output-watch-events", "--request-timeout=120s"])
            }
            let dev = h.cluster.cluster
            #expect(try await eventually {
                dev.requests().contains { ($0.userAgent ?? "").hasPrefix("kubectl") && $0.path.hasSuffix("/trainingjobs") && $0.query.contains("watch=true") }
            }, "kubectl's watch is open")
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("nowhere", script: "{}"))
            // Once the operator has written the status, the server ends the watches (events committed before are
            // written first): kubectl exits after the change it must show, not when a timeout runs out.
            #expect(try await eventually(timeout: .seconds(30)) {
                try await Self.status(h, "nowhere")["conditions"]?.arrayValue?.contains { $0["type"] == "Invalid" && $0["status"] == "True" } == true
            })
            await dev.dropWatches()
            let output = await watch.value.stdout
            #expect(output.contains("ADDED") && output.contains("MODIFIED") && output.contains("nowhere"), "\(output)")
        }
    }

    @Test func kueueLabelledJobsLeaveAdmissionToKueueThroughSuspend() async throws {
        try await withOperator { h async throws in
            // Gantry's quota would refuse this job; under Kueue it does not apply.
            _ = try await h.kubectl("apply", "-f", "-", stdin: "apiVersion: gantry.dev/v1alpha1\nkind: PlatformConfig\nmetadata: {name: default}\nspec: {quotas: [{namespace: default, gpus: 0}]}\n")
            let manifest = Self.manifest("queued-by-kueue", script: "{logs: [\"training\"]}", extra: "  suspend: true\n")
                .replacingOccurrences(of: "metadata: {name: queued-by-kueue, namespace: default}",
                                      with: "metadata: {name: queued-by-kueue, namespace: default, labels: {kueue.x-k8s.io/queue-name: team-a}}")
            _ = try await h.kubectl("apply", "-f", "-", stdin: manifest)
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.status(h, "queued-by-kueue")["phase"] == "Suspended" })
            #expect(try await h.get(.pods, "default", "queued-by-kueue-0") == nil)
            // Kueue admits the workload by unsuspending it.
            _ = try await h.kubectl("patch", "trainingjob", "queued-by-kueue", "--type=merge", "-p", #"{"spec":{"suspend":false}}"#)
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.status(h, "queued-by-kueue")["phase"] == "Running" })
        }
    }

    @Test func theSchemaRefusesBadSpecsNamingTheField() async throws {
        try await withOperator(nodes: "none") { h async throws in
            let zero = await h.cluster.kubectl(args: ["apply", "-f", "-"], stdin: Self.manifest("zero", script: "{}").replacingOccurrences(of: "replicas: 1", with: "replicas: 0"))
            #expect(!zero.ok)
            #expect(zero.stderr.contains("spec.replicas"), "\(zero.stderr)")
            let noFramework = await h.cluster.kubectl(args: ["apply", "-f", "-"], stdin: """
                apiVersion: gantry.dev/v1alpha1
                kind: TrainingJob
                metadata: {name: nofw, namespace: default}
                spec: {image: t, replicas: 2}
                """)
            #expect(!noFramework.ok)
            #expect(noFramework.stderr.contains("distributed.framework"), "\(noFramework.stderr)")
            let badEnum = await h.cluster.kubectl(args: ["apply", "-f", "-"], stdin: """
                apiVersion: gantry.dev/v1alpha1
                kind: TrainingJob
                metadata: {name: badgpu, namespace: default}
                spec: {image: t, gpu: {count: 1, sharing: Sometimes}}
                """)
            #expect(!badEnum.ok)
            #expect(badEnum.stderr.contains("spec.gpu.sharing"), "\(badEnum.stderr)")
        }
    }
}
