import EmbeddedCluster
import Foundation
import GantryTestSupport
import KubeClient
import KubeCore
import Testing

/// A small workload of every kind, run by the `gantry controller` binary on the embedded cluster, for the tests
/// of what `/metrics` shows (ObservabilityTests): in namespace `research` (GPU quota 1) a TrainingJob stopped
/// early within its 600 s deadline and one queued behind it until then; in `default` an InferenceService
/// deployed, refused by its validation, swapped to a good revision and rolled back to the warm one, and a Notebook
/// culled after 10 s idle. Every kind holds a GPU; the InferenceService's GPU reads 0 % (dcgm-exporter's gauge), so its
/// pods are reported idle after the PlatformConfig's window of 2 s.
struct PlatformWorkload {
    let cluster: TestCluster
    let controller: ControllerProcess
    let admin: KubeClient

    /// Starts the cluster and the controller, calls `started` (a test starts its Prometheus there, so it scrapes
    /// the whole run), runs the workload to its end, then calls `body`. Everything is stopped afterwards.
    static func run(started: (ControllerProcess) async throws -> Void = { _ in },
                    _ body: (PlatformWorkload) async throws -> Void) async throws {
        try await withCluster(TestCluster(DevClusterOptions(nodes: "2x{gpu: 4}", tls: true))) { cluster async throws in
            for args in [["apply", "-k", OperatorHarness.repoRoot + "/crds"], ["create", "namespace", "research"],
                         ["wait", "--for=condition=Established", "--timeout=20s", "crd/trainingjobs.gantry.dev", "crd/platformconfigs.gantry.dev",
                          "crd/inferenceservices.gantry.dev", "crd/notebooks.gantry.dev"]] {
                let r = await cluster.kubectl(args: args)
                guard r.ok else { throw TestFailure("kubectl \(args.joined(separator: " ")): \(r.stderr)") }
            }
            try await apply(cluster, platformConfig)
            let controller = try ControllerProcess(kubeconfig: cluster.kubeconfig, logPath: cluster.dir + "/controller.log",
                                                   ["--identity", "metrics", "--lease-namespace", "default", "--log-format", "json"])
            defer { controller.killIfRunning() }
            #expect(try await eventually(timeout: .seconds(30)) { controller.healthPort != nil }, "\(controller.output.suffix(2000))")
            try await started(controller)
            let workload = PlatformWorkload(cluster: cluster, controller: controller,
                                            admin: try KubeClient(config: KubeConfig.load(path: cluster.kubeconfig, environment: [:])))
            try await workload.play()
            try await body(workload)
            controller.signal(SIGTERM)
            #expect(await controller.waitForExit(timeout: 60) == 0)
        }
    }

    static let platformConfig = """
        apiVersion: gantry.dev/v1alpha1
        kind: PlatformConfig
        metadata: {name: default}
        spec:
          quotas: [{namespace: research, gpus: 1}]
          # Large enough to hold nothing back: the budget and idle-GPU series exist (docs/budgets-and-idle-gpus.md).
          budgets: {accountingPeriodSeconds: 1, namespaces: [{namespace: research, gpuHoursPerMonth: 100}]}
          idleGPUs: {checkPeriodSeconds: 1, windowSeconds: 2}
        """

    static func job(_ name: String, script: String, extra: String = "") -> String {
        """
        apiVersion: gantry.dev/v1alpha1
        kind: TrainingJob
        metadata: {name: \(name), namespace: research}
        spec:
          image: trainer:1
          gpu: {count: 1}
        \(extra)  podMetadata:
            annotations:
              sim.gantry.dev/script: '\(script)'
        """
    }

    /// An InferenceService answering its validation request with `label` (only `positive` passes), its GPU unused.
    static func service(image: String, label: String) -> String {
        """
        apiVersion: gantry.dev/v1alpha1
        kind: InferenceService
        metadata: {name: api, namespace: default}
        spec:
          image: \(image)
          gpu: {count: 1}
          podMetadata:
            annotations:
              sim.gantry.dev/script: '{readyAfter: 1s, http: {"/v1/models/m:predict": {body: {predictions: [{label: \(label)}]}}}, metrics: "DCGM_FI_DEV_GPU_UTIL 0"}'
          rollout:
            scaleDownDelaySeconds: 120
            validation:
              requests:
              - {method: POST, path: "/v1/models/m:predict", body: "{}", expect: {status: 200, json: [{path: predictions.0.label, equals: positive}]}}
        """
    }

    static let notebook = """
        apiVersion: gantry.dev/v1alpha1
        kind: Notebook
        metadata: {name: nb, namespace: default}
        spec: {image: 'jupyter/base-notebook:latest', gpu: {count: 1}, culling: {idleTimeoutSeconds: 10, checkPeriodSeconds: 1}}
        """

    static func apply(_ cluster: TestCluster, _ manifest: String) async throws {
        let r = await cluster.kubectl(args: ["apply", "-f", "-"], stdin: manifest)
        guard r.ok else { throw TestFailure("kubectl apply: \(r.stderr)\n\(manifest)") }
    }

    func status(_ type: ResourceType, _ namespace: String, _ name: String) async throws -> JSONValue? {
        try await admin.getIfFound(type, namespace, name)?["status"]
    }

    func play() async throws {
        // Loss rising past 2.0 from step 1: stopped early at about step 11 (11 s), well within its 600 s budget; the
        // second job, applied once the first runs, is still queued behind it when the test looks.
        let rising = "{logs: [{series: {every: 1s, count: 100, start: 1, step: 1, template: \"step={step} loss={loss}\", loss: {from: 1.0, to: 11.0, curve: linear}}}], exit: {code: 0}}"
        try await Self.apply(cluster, Self.job("stopper", script: rising,
                                               extra: "  activeDeadlineSeconds: 600\n  earlyStopping: {metric: loss, threshold: {bound: 2.0, startStep: 1}}\n"))
        #expect(try await eventually(timeout: .seconds(30)) { try await status(.trainingJobs, "research", "stopper")?["phase"] == "Running" })
        try await Self.apply(cluster, Self.job("waiter", script: "{logs: [\"training\"], exit: {code: 0, after: 2s}}"))
        #expect(try await eventually(timeout: .seconds(30)) { try await status(.trainingJobs, "research", "waiter")?["phase"] == "Queued" },
                "the quota of 1 GPU holds the second job back")
        try await Self.apply(cluster, Self.notebook)
        try await Self.apply(cluster, Self.service(image: "acme/llm-serving:1", label: "positive"))

        @Sendable func serving(_ image: String) async throws -> Bool {
            let s = try await status(.inferenceServices, "default", "api")
            return s?[path: "activeRevision", "image"]?.stringValue == image && s?["candidate"] == nil && s?["readyReplicas"] == 1
        }
        #expect(try await eventually(timeout: .seconds(60)) { try await serving("acme/llm-serving:1") })
        try await Self.apply(cluster, Self.service(image: "acme/llm-serving:2", label: "negative"))
        #expect(try await eventually(timeout: .seconds(60)) {
            try await status(.inferenceServices, "default", "api")?[path: "candidate", "phase"] == "Failed"
        }, "revision 2 fails its validation")
        try await Self.apply(cluster, Self.service(image: "acme/llm-serving:3", label: "positive"))
        #expect(try await eventually(timeout: .seconds(60)) { try await serving("acme/llm-serving:3") }, "revision 3 swapped in")
        try await Self.apply(cluster, Self.service(image: "acme/llm-serving:1", label: "positive"))
        #expect(try await eventually(timeout: .seconds(60)) {
            let s = try await status(.inferenceServices, "default", "api")
            return try await serving("acme/llm-serving:1") && s?[path: "lastSwap", "reason"] == "RolledBack"
        }, "back to the warm revision 1")

        #expect(try await eventually(timeout: .seconds(60)) { try await status(.trainingJobs, "research", "stopper")?["phase"] == "EarlyStopped" })
        #expect(try await eventually(timeout: .seconds(60)) { try await status(.trainingJobs, "research", "waiter")?["phase"] == "Succeeded" })
        #expect(try await eventually(timeout: .seconds(60)) { try await status(.notebooks, "default", "nb")?["phase"] == "Culled" })
    }
}
