import Foundation
import Testing
import GantryAPI
import GantryControllers
import GantryTestSupport
import KubeClient
import KubeCore

/// What docs/trainingjob.md promises and no other test checked, each through the real path: kubectl applies the
/// job to the embedded cluster, the operator reconciles it over libcurl, the simulated kubelets run the pods.
@Suite(.serialized) struct TrainingJobDocumentedTests {
    /// A job manifest; `framework` is written for gangs (replicas > 1) and whenever given.
    static func manifest(_ name: String, replicas: Int = 1, gpus: Int = 1, framework: String? = nil, script: String,
                         extra: String = "", labels: String = "") -> String {
        let fw = framework ?? (replicas > 1 ? "pytorch" : nil)
        return """
            apiVersion: gantry.dev/v1alpha1
            kind: TrainingJob
            metadata: {name: \(name), namespace: default\(labels.isEmpty ? "" : ", labels: {\(labels)}")}
            spec:
              image: trainer:1
              replicas: \(replicas)
              gpu: {count: \(gpus)}
            \(fw.map { "  distributed: {framework: \($0)}\n" } ?? "")\(extra)  podMetadata:
                annotations:
                  sim.gantry.dev/script: '\(script)'
            """
    }

    static func status(_ h: OperatorHarness, _ name: String) async throws -> JSONValue {
        try await h.get(.trainingJobs, "default", name)?["status"] ?? .null
    }

    static func condition(_ status: JSONValue, _ type: String) -> JSONValue? {
        status["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == type }
    }

    static func env(_ pod: JSONValue) -> [String: String] {
        (pod[path: "spec", "containers"]?.arrayValue?.first?["env"]?.arrayValue ?? [])
            .reduce(into: [String: String]()) { $0[$1["name"]?.stringValue ?? ""] = $1["value"]?.stringValue }
    }

    /// Reasons of the events.k8s.io/v1 Events regarding the job, oldest first.
    static func eventReasons(_ h: OperatorHarness, _ name: String) async throws -> [String] {
        let events = try await h.client.list(.events, namespace: "default",
                                             options: ListOptions(fieldSelector: "regarding.kind=TrainingJob,regarding.name=\(name)"))
        return events.items.sorted { ($0["eventTime"]?.stringValue ?? "") < ($1["eventTime"]?.stringValue ?? "") }
            .compactMap { $0["reason"]?.stringValue }
    }

    // MARK: failures and deadlines

    /// `failurePolicy.permanentExitCodes`: a listed exit code fails the job at once, without a gang restart,
    /// though `backoffLimit` would allow three.
    @Test func aPermanentExitCodeFailsTheJobAtOnce() async throws {
        try await withOperator { h async throws in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("fatal", script: "{exit: {code: 42, after: 1s}}",
                                                                             extra: "  backoffLimit: 3\n  failurePolicy: {permanentExitCodes: [42]}\n"))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.status(h, "fatal")["phase"] == "Failed" })
            let status = try await Self.status(h, "fatal")
            #expect((status["restarts"]?.intValue ?? 0) == 0, "no gang restart: \(status)")
            let failed = Self.condition(status, "Failed")
            #expect(failed?["reason"] == "PermanentExitCode", "\(failed ?? .null)")
            #expect(failed?["message"]?.stringValue?.contains("exited with 42") == true, "\(failed ?? .null)")
            #expect(status["replicaStatuses"]?.arrayValue?.first?["exitCode"] == 42)
        }
    }

    /// Job-level `activeDeadlineSeconds`: a job still running after it fails with `DeadlineExceeded` and
    /// frees its GPUs.
    @Test func theJobsActiveDeadlineFailsARunThatIsStillGoing() async throws {
        try await withOperator { h async throws in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("overtime", script: "{logs: [\"training\"]}",
                                                                             extra: "  activeDeadlineSeconds: 3\n"))
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.status(h, "overtime")["phase"] == "Running" })
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.status(h, "overtime")["phase"] == "Failed" })
            let failed = Self.condition(try await Self.status(h, "overtime"), "Failed")
            #expect(failed?["reason"] == "DeadlineExceeded", "\(failed ?? .null)")
            #expect(failed?["message"]?.stringValue?.contains("activeDeadlineSeconds") == true)
            #expect(try await eventually(timeout: .seconds(30)) { try await h.get(.pods, "default", "overtime-0") == nil }, "GPU freed")
        }
    }

    // MARK: what every pod gets

    /// `GANTRY_JOB_NAME`, `GANTRY_REPLICA_INDEX` and torchrun's `PET_*` variables in every pod of a PyTorch
    /// gang; `serviceAccountName` and `imagePullSecrets` passed to every pod; requests equal to limits, which
    /// the kubelet reports as Guaranteed QoS.
    @Test func everyPodGetsItsIdentityTorchrunVariablesAccountAndGuaranteedQoS() async throws {
        try await withOperator { h async throws in
            _ = try await h.kubectl("apply", "-f", "-", stdin: "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: trainer, namespace: default}\n")
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("torch", replicas: 2, gpus: 2, script: "{logs: [\"training\"]}", extra: """
                  serviceAccountName: trainer
                  imagePullSecrets: [{name: registry-credentials}]
                  resources: {cpu: "2", memory: 8Gi}

                """))
            for rank in 0..<2 {
                #expect(try await eventually(timeout: .seconds(30)) {
                    try await h.get(.pods, "default", "torch-\(rank)")?[path: "status", "qosClass"] == "Guaranteed"
                }, "torch-\(rank) runs with Guaranteed QoS")
                let pod = try #require(try await h.get(.pods, "default", "torch-\(rank)"))
                let env = Self.env(pod)
                #expect(env["GANTRY_JOB_NAME"] == "torch")
                #expect(env["GANTRY_REPLICA_INDEX"] == String(rank))
                #expect(env["PET_MASTER_ADDR"] == "torch-0.torch")
                #expect(env["PET_MASTER_PORT"] == "29500")
                #expect(env["PET_NNODES"] == "2")
                #expect(env["PET_NODE_RANK"] == String(rank))
                #expect(env["PET_NPROC_PER_NODE"] == "2")
                #expect(pod[path: "spec", "serviceAccountName"] == "trainer")
                #expect(pod[path: "spec", "imagePullSecrets"] == [["name": "registry-credentials"]])
                let resources = try #require(pod[path: "spec", "containers"]?.arrayValue?.first?["resources"])
                #expect(resources["limits"] == ["cpu": "2", "memory": "8Gi", "nvidia.com/gpu": "2"], "\(resources)")
                #expect(resources["requests"] == resources["limits"], "\(resources)")
            }
        }
    }

    /// MPI: a ConfigMap `<job>-hostfile` with `<host> slots=<GPUs per replica>` per replica, mounted at
    /// `/etc/mpi/hostfile`, and `OMPI_MCA_orte_default_hostfile` pointing at it.
    @Test func mpiJobsGetAHostfileMountedAndNamedInTheEnvironment() async throws {
        try await withOperator { h async throws in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("allreduce", replicas: 2, gpus: 2, framework: "mpi",
                                                                             script: "{logs: [\"training\"]}"))
            #expect(try await eventually(timeout: .seconds(30)) {
                let first = try await h.get(.pods, "default", "allreduce-0")
                let second = try await h.get(.pods, "default", "allreduce-1")
                return first != nil && second != nil
            })
            let hostfile = try #require(try await h.get(.configMaps, "default", "allreduce-hostfile"))
            #expect(hostfile[path: "data", "hostfile"] == "allreduce-0.allreduce slots=2\nallreduce-1.allreduce slots=2\n")
            #expect(hostfile.ownerReferences.first?.kind == "TrainingJob")
            for rank in 0..<2 {
                let pod = try #require(try await h.get(.pods, "default", "allreduce-\(rank)"))
                #expect(Self.env(pod)["OMPI_MCA_orte_default_hostfile"] == "/etc/mpi/hostfile")
                let mounts = pod[path: "spec", "containers"]?.arrayValue?.first?["volumeMounts"]?.arrayValue ?? []
                let mount = try #require(mounts.first { $0["mountPath"] == "/etc/mpi" }, "\(mounts)")
                let volume = pod[path: "spec", "volumes"]?.arrayValue?.first { $0["name"] == mount["name"] }
                #expect(volume?[path: "configMap", "name"] == "allreduce-hostfile", "\(volume ?? .null)")
            }
        }
    }

    /// `dataset.cache: node`: replicas mount the node cache read-only at `/datasets` and find it in
    /// `GANTRY_DATASET_PATH`.
    @Test func aCachedDatasetIsNamedByGantryDatasetPath() async throws {
        try await withOperator { h async throws in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("reader", script: "{logs: [\"training\"]}",
                                                                             extra: "  dataset: {uri: s3://data/coco, cache: node}\n"))
            #expect(try await eventually(timeout: .seconds(30)) { try await h.get(.pods, "default", "reader-0") != nil })
            let pod = try #require(try await h.get(.pods, "default", "reader-0"))
            #expect(Self.env(pod)["GANTRY_DATASET_PATH"] == "/datasets")
            let mounts = pod[path: "spec", "containers"]?.arrayValue?.first?["volumeMounts"]?.arrayValue ?? []
            #expect(mounts.contains { $0["mountPath"] == "/datasets" && $0["readOnly"] == true }, "\(mounts)")
        }
    }

    // MARK: metrics

    /// `metrics.replica`: Gantry follows the log of the replica it names, not rank 0's. The test plays the
    /// kubelet and writes each replica's log itself, so the two logs differ.
    @Test func metricsComeFromTheReplicaTheSpecNames() async throws {
        try await withOperator(nodes: "off") { h async throws in
            try await h.addGPUNode("e2e-gpu-m", gpus: 8, product: "E2E-GPU")
            _ = try await h.kubectl("apply", "-f", "-", stdin: """
                apiVersion: gantry.dev/v1alpha1
                kind: TrainingJob
                metadata: {name: watched, namespace: default}
                spec:
                  image: trainer:1
                  replicas: 2
                  gpu: {count: 1, product: E2E-GPU}
                  distributed: {framework: pytorch}
                  metrics: {replica: 1}
                  earlyStopping: {metric: loss, patience: {evaluations: 1000}}
                """)
            #expect(try await eventually(timeout: .seconds(20)) {
                let first = try await h.get(.pods, "default", "watched-0")
                let second = try await h.get(.pods, "default", "watched-1")
                return first != nil && second != nil
            })
            let logs = h.cluster.cluster.logs
            await logs.append(namespace: "default", pod: "watched-0", container: "trainer", line: "step=1 loss=9.5")
            await logs.append(namespace: "default", pod: "watched-1", container: "trainer", line: "step=1 loss=0.25")
            for i in 0..<2 { try await h.setPodPhase("default", "watched-\(i)", "Running") }
            await logs.append(namespace: "default", pod: "watched-0", container: "trainer", line: "step=2 loss=9.0")
            await logs.append(namespace: "default", pod: "watched-1", container: "trainer", line: "step=2 loss=0.2")
            #expect(try await eventually(timeout: .seconds(30)) {
                try await Self.status(h, "watched")[path: "metrics", "latest", "loss"]?.doubleValue == 0.2
            }, "status.metrics.latest.loss never became rank 1's 0.2")
            let metrics = try await Self.status(h, "watched")["metrics"] ?? .null
            #expect(metrics[path: "best", "value"]?.doubleValue == 0.2, "\(metrics)")
            #expect(!"\(metrics)".contains("9.5") && !"\(metrics)".contains("9.0"), "rank 0's log was read: \(metrics)")
        }
    }

    // MARK: status, events and the record

    /// kstatus conditions and the Events of a job that waits for quota, runs and succeeds: `Queued` (Ready
    /// False, Reconciling True), `Admitted`, `Running` (Ready True, Reconciling False), `Completed` (Ready
    /// True, Reconciling False), every condition at the job's generation.
    @Test func readyReconcilingAndEventsFollowAQueuedJobToCompletion() async throws {
        try await withOperator { h async throws in
            _ = try await h.kubectl("apply", "-f", "-", stdin: "apiVersion: gantry.dev/v1alpha1\nkind: PlatformConfig\nmetadata: {name: default}\nspec: {quotas: [{namespace: default, gpus: 1}]}\n")
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("ahead", script: "{logs: [\"training\"], exit: {code: 0, after: 4s}}"))
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.status(h, "ahead")["phase"] == "Running" })
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("behind", script: "{logs: [\"training\"], exit: {code: 0, after: 4s}}"))
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.status(h, "behind")["phase"] == "Queued" })
            let queued = try await Self.status(h, "behind")
            #expect(Self.condition(queued, "Ready")?["status"] == "False")
            #expect(Self.condition(queued, "Reconciling")?["status"] == "True")
            #expect(Self.condition(queued, "Reconciling")?["reason"] == "Queued")

            #expect(try await eventually(timeout: .seconds(60)) { try await Self.status(h, "behind")["phase"] == "Running" })
            let running = try await Self.status(h, "behind")
            #expect(Self.condition(running, "Ready")?["status"] == "True", "\(running)")
            #expect(Self.condition(running, "Reconciling")?["status"] == "False", "\(running)")

            #expect(try await eventually(timeout: .seconds(60)) { try await Self.status(h, "behind")["phase"] == "Succeeded" })
            let job = try #require(try await h.get(.trainingJobs, "default", "behind"))
            let done = job["status"] ?? .null
            #expect(Self.condition(done, "Ready")?["status"] == "True", "\(done)")
            #expect(Self.condition(done, "Reconciling")?["status"] == "False", "\(done)")
            for type in ["Ready", "Reconciling", "Admitted", "Succeeded"] {
                #expect(Self.condition(done, type)?["observedGeneration"] == job[path: "metadata", "generation"], "\(type): \(done)")
            }
            // Events are recorded beside the status writes, not before them: wait for the last one.
            let completed = try await eventually(timeout: .seconds(20)) { try await Self.eventReasons(h, "behind").contains("Completed") }
            #expect(completed)
            let reasons = try await Self.eventReasons(h, "behind")
            for reason in ["Queued", "Admitted", "Running", "Completed"] {
                #expect(reasons.contains(reason), "events: \(reasons)")
            }
            #expect(reasons.firstIndex(of: "Queued") ?? .max < reasons.firstIndex(of: "Admitted") ?? -1, "events: \(reasons)")
            #expect(reasons.firstIndex(of: "Admitted") ?? .max < reasons.firstIndex(of: "Completed") ?? -1, "events: \(reasons)")
        }
    }

    /// An early-stopped job records the `EarlyStopped` Event (Normal: a sweep result, not a failure) beside
    /// its condition. (Whether it is also `Stalled` is being changed and is not asserted here.)
    @Test func anEarlyStopIsRecordedAsAnEvent() async throws {
        try await withOperator { h async throws in
            let slow = "{logs: [{series: {every: 0.1s, count: 200, start: 1, step: 1, template: \"step={step} acc={acc}\", acc: {from: 0.1, to: 0.2, curve: linear}}}], exit: {code: 0}}"
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("weak", script: slow,
                                                                             extra: "  earlyStopping: {metric: acc, goal: maximize, threshold: {bound: 0.5, startStep: 10}}\n"))
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.status(h, "weak")["phase"] == "EarlyStopped" })
            #expect(Self.condition(try await Self.status(h, "weak"), "EarlyStopped")?["status"] == "True")
            #expect(try await eventually(timeout: .seconds(10)) { try await Self.eventReasons(h, "weak").contains("EarlyStopped") })
            let events = try await h.client.list(.events, namespace: "default", options: ListOptions(fieldSelector: "regarding.name=weak,reason=EarlyStopped"))
            #expect(events.items.first?["type"] == "Normal", "an early stop is a normal sweep result, not a failure (docs/trainingjob.md)")
        }
    }

    /// A finished job points at its record (`recordRef`) and says what it cost (`gpuHours`); the record
    /// carries the labels `gantry.dev/record=true`, `gantry.dev/trainingjob` and the experiment, so
    /// `kubectl get configmaps -l gantry.dev/record=true` finds it.
    @Test func theRecordIsLabelledAndTheStatusPointsAtItWithTheCost() async throws {
        try await withOperator { h async throws in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("costed", gpus: 2, script: "{logs: [\"training\"], exit: {code: 0, after: 3s}}",
                                                                             labels: "gantry.dev/experiment: cost-study"))
            let started = Date()
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.status(h, "costed")["phase"] == "Succeeded" })
            let elapsed = Date().timeIntervalSince(started)
            let status = try await Self.status(h, "costed")
            #expect(status["recordRef"] == "costed-record")
            let gpuHours = try #require(status["gpuHours"]?.doubleValue, "\(status)")
            // Two GPUs for about three seconds; never more than the two GPUs for the whole wait.
            #expect(gpuHours > 0 && gpuHours <= 2 * (elapsed + 2) / 3600, "gpuHours \(gpuHours) after \(elapsed) s")
            let record = try #require(try await h.get(.configMaps, "default", "costed-record"))
            #expect(record.labels["gantry.dev/record"] == "true")
            #expect(record.labels["gantry.dev/trainingjob"] == "costed")
            #expect(record.labels["gantry.dev/experiment"] == "cost-study")
            let listed = try await h.kubectl("get", "configmaps", "-l", "gantry.dev/record=true", "-o", "name")
            #expect(listed.split(separator: "\n").contains("configmap/costed-record"), "\(listed)")
            let doc = try JSONValue.parse(record[path: "data", "record.json"]?.stringValue ?? "")
            #expect(doc["gpuHours"]?.doubleValue == gpuHours, "\(doc)")
        }
    }
}
