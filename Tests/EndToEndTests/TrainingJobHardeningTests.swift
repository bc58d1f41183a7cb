import Foundation
import Testing
import EmbeddedCluster
import GantryAPI
import GantryControllers
import GantryTestSupport
import KubeClient
import KubeCore

/// TrainingJob off the happy path (issue #8): specs edited while running, names at the edges, a controller
/// restarted at the wrong moment, runs deleted or stopped early. Each test failed before its fix.
@Suite(.serialized) struct TrainingJobHardeningTests {
    static let manifest = TrainingJobBehaviourTests.manifest
    static func status(_ h: OperatorHarness, _ name: String) async throws -> JSONValue { try await TrainingJobBehaviourTests.status(h, name) }

    /// The shared `withOperator` (awaited teardown), under the name this file's tests use.
    static func withOperator(_ body: (OperatorHarness) async throws -> Void) async throws {
        try await EndToEndTests.withOperator(body)
    }

    static func condition(_ status: JSONValue, _ type: String) -> JSONValue? {
        status["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == type }
    }

    static func record(_ h: OperatorHarness, _ name: String) async throws -> JSONValue? {
        guard let cm = try await h.get(.configMaps, "default", name) else { return nil }
        return try JSONValue.parse(cm[path: "data", "record.json"]?.stringValue ?? "")
    }

    @Test func aGangNoClusterCouldHoldIsInvalidWithTheNumbersAndHoldsNobodyBack() async throws {
        try await Self.withOperator { h async throws in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("max-replicas", 1024, 1, "{}", ""))
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.status(h, "max-replicas")["phase"] == "Invalid" })
            let invalid = try #require(Self.condition(try await Self.status(h, "max-replicas"), "Invalid"))
            #expect(invalid["reason"] == "GangTooLarge")
            let message = invalid["message"]?.stringValue ?? ""
            #expect(message.contains("1024 replicas") && message.contains("at most 16"), "\(message)")
            #expect(try await Self.status(h, "max-replicas")["gpus"] == 0)
            #expect(try await h.get(.pods, "default", "max-replicas-0") == nil)
            // Jobs after it run.
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("after-it", 1, 1, "{exit: {code: 0, after: 1s}}", ""))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.status(h, "after-it")["phase"] == "Succeeded" })
        }
    }

    /// The Warning Events recorded about `name` with `reason` (events.k8s.io, as the operator writes them).
    static func notes(_ h: OperatorHarness, _ name: String, reason: String) async throws -> [String] {
        try await h.client.list(.events, namespace: "default").items
            .filter { $0[path: "regarding", "name"]?.stringValue == name && $0["reason"]?.stringValue == reason }
            .compactMap { $0["note"]?.stringValue }
    }

    /// A Service under the job's name that is not the job's (a user's): no pod starts beside it (the replicas would
    /// look each other up through it), nothing is adopted or overwritten, and a Warning Event names it and the fix;
    /// once the user deletes it, the job makes its own and runs.
    @Test func aServiceNamedLikeTheJobButNotItsHoldsThePodsBackUntilItGoes() async throws {
        try await Self.withOperator { h async throws in
            var r = await h.cluster.kubectl("create", "service", "clusterip", "taken", "--tcp=80:80")
            #expect(r.ok, "\(r.stderr)")
            // The first reads of the holder fail: the job waits for one that answers, it does not go on to its pods.
            h.cluster.cluster.failNextRequests(4, code: 503, target: FaultTarget(method: "GET", path: "/services/taken"))  // the client tries 4 times
            _ = try await h.kubectl("apply", "-f", "-", stdin: TrainingJobBehaviourTests.manifest("taken", replicas: 2, script: "{logs: [\"training\"]}"))
            #expect(try await eventually(timeout: .seconds(30)) { try await !Self.notes(h, "taken", reason: "ChildNameConflict").isEmpty })
            let note = try await Self.notes(h, "taken", reason: "ChildNameConflict").first ?? ""
            #expect(note.contains("Service default/taken already exists and is not owned by any object") && note.contains("Delete or rename it"), "\(note)")
            let pods = try await h.client.list(.pods, namespace: "default", options: ListOptions(labelSelector: "gantry.dev/trainingjob=taken"))
            #expect(pods.items.isEmpty, "\(pods.items.compactMap(\.name))")
            let foreign = try #require(try await h.get(.services, "default", "taken"))
            #expect(foreign[path: "metadata", "ownerReferences"] == nil && foreign[path: "spec", "ports"]?.arrayValue?.first?["port"] == 80, "\(foreign)")

            r = await h.cluster.kubectl("delete", "service", "taken")
            #expect(r.ok, "\(r.stderr)")
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.status(h, "taken")["phase"] == "Running" })
            let job = try #require(try await h.get(.trainingJobs, "default", "taken"))
            let own = try #require(try await h.get(.services, "default", "taken"))
            #expect(own[path: "metadata", "ownerReferences"]?.arrayValue?.first?["uid"] == job[path: "metadata", "uid"] && own[path: "spec", "clusterIP"] == "None", "\(own)")
        }
    }

    @Test func fieldsThatShapeTheRunAreImmutableAndTheMutableOnesTakeEffect() async throws {
        try await Self.withOperator { h async throws in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("edit", 2, 1, "{logs: [\"training\"]}", "  hyperparameters: {lr: \"0.1\"}\n"))
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.status(h, "edit")["phase"] == "Running" })
            for (patch, field) in [(#"{"spec":{"replicas":16}}"#, "spec.replicas"), (#"{"spec":{"gpu":{"count":4}}}"#, "spec.gpu"),
                                   (#"{"spec":{"hyperparameters":{"lr":"0.2"}}}"#, "spec.hyperparameters"),
                                   (#"{"spec":{"image":"trainer:2"}}"#, "spec.image"),
                                   (#"{"spec":{"env":[{"name":"X","value":"1"}]}}"#, "spec.env")] {
                let r = await h.cluster.kubectl("patch", "trainingjob", "edit", "--type=merge", "-p", patch)
                #expect(!r.ok, "\(patch) was accepted")
                #expect(r.stderr.contains("\(field) is immutable"), "\(r.stderr)")
            }
            let pods = try await h.client.list(.pods, namespace: "default", options: ListOptions(labelSelector: "gantry.dev/trainingjob=edit"))
            #expect(pods.items.count == 2)
            // The fields that may change do, and act.
            _ = try await h.kubectl("patch", "trainingjob", "edit", "--type=merge", "-p", #"{"spec":{"priority":5,"activeDeadlineSeconds":3600,"suspend":true}}"#)
            #expect(try await eventually(timeout: .seconds(30)) {
                let pod = try await h.get(.pods, "default", "edit-0")
                return try await Self.status(h, "edit")["phase"] == "Suspended" && pod == nil
            })
            #expect(try await Self.status(h, "edit")["gpus"] == 0)
            #expect(try await Self.status(h, "edit")["requestedGPUs"] == 2)
        }
    }

    @Test func earlyStoppingAddedToARunningJobStopsIt() async throws {
        try await Self.withOperator { h in
            let flat = "{logs: [{series: {every: 0.1s, count: 3000, start: 1, step: 1, template: \"step={step} loss={loss}\", loss: {from: 1.0, to: 1.0, curve: flat}}}], exit: {code: 0}}"
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("late-rule", 1, 1, flat, ""))
            #expect(try await eventually(timeout: .seconds(30)) {
                try await Self.status(h, "late-rule")[path: "metrics", "step"]?.intValue.map { $0 > 5 } == true
            })
            _ = try await h.kubectl("patch", "trainingjob", "late-rule", "--type=merge", "-p",
                                    #"{"spec":{"earlyStopping":{"metric":"loss","patience":{"evaluations":5}}}}"#)
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.status(h, "late-rule")["phase"] == "EarlyStopped" })
            #expect(try await Self.status(h, "late-rule")[path: "earlyStop", "rule"] == "patience")
        }
    }

    @Test func namesThatAreNotDNSLabelsStillGetValidChildrenAndRun() async throws {
        try await Self.withOperator { h async throws in
            let script = "{logs: [\"rank up\"], exit: {code: 0, after: 2s}}"
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("resnet50.v2", 2, 1, script, "  finishedPodPolicy: Keep\n"))
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("3d-unet", 1, 1, script, ""))
            #expect(try await eventually(timeout: .seconds(60)) {
                let a = try await Self.status(h, "resnet50.v2")["phase"]
                let b = try await Self.status(h, "3d-unet")["phase"]
                return a == "Succeeded" && b == "Succeeded"
            })
            // Kept pods show the names Gantry gave: DNS-1035 labels, the Service's subdomain among them.
            let pods = try await h.client.list(.pods, namespace: "default", options: ListOptions(labelSelector: "gantry.dev/trainingjob=resnet50.v2"))
            #expect(pods.items.count == 2)
            for pod in pods.items {
                let name = pod.name ?? ""
                #expect(ChildNaming.isDNS1035Label(name), "\(name)")
                let subdomain = pod[path: "spec", "subdomain"]?.stringValue ?? ""
                #expect(ChildNaming.isDNS1035Label(subdomain) && subdomain.hasPrefix("resnet50-v2-"), "\(subdomain)")
            }
        }
    }

    @Test func invalidPodLabelsAreRefusedByTheAPIServerNamingTheField() async throws {
        try await Self.withOperator { h async throws in
            let manifest = Self.manifest("bad-labels", 1, 1, "{}", "").replacingOccurrences(
                of: "  podMetadata:\n", with: "  podMetadata:\n    labels: {\"bad label!\": x}\n")
            let r = await h.cluster.kubectl(args: ["apply", "-f", "-"], stdin: manifest)
            #expect(!r.ok)
            #expect(r.stderr.contains("podMetadata.labels"), "\(r.stderr)")
            #expect(try await h.get(.trainingJobs, "default", "bad-labels") == nil)
        }
    }

    @Test func reservedEnvNamesAndCollidingHyperparametersAreInvalidAndCreateNothing() async throws {
        try await Self.withOperator { h async throws in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("rank-env", 2, 1, "{}", "  env: [{name: RANK, value: \"7\"}]\n"))
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("hp-clash", 1, 1, "{}", "  hyperparameters: {a-b: \"1\", A_B: \"2\"}\n"))
            #expect(try await eventually(timeout: .seconds(30)) {
                let a = try await Self.status(h, "rank-env")["phase"]
                let b = try await Self.status(h, "hp-clash")["phase"]
                return a == "Invalid" && b == "Invalid"
            })
            let env = Self.condition(try await Self.status(h, "rank-env"), "Invalid")?["message"]?.stringValue ?? ""
            #expect(env.contains("spec.env[0].name: RANK"), "\(env)")
            let hp = Self.condition(try await Self.status(h, "hp-clash"), "Invalid")?["message"]?.stringValue ?? ""
            #expect(hp.contains("A_B and a-b") && hp.contains("HP_A_B"), "\(hp)")
            #expect(try await h.get(.pods, "default", "rank-env-0") == nil)
            #expect(try await h.get(.pods, "default", "hp-clash-0") == nil)
        }
    }

    @Test func aChildTheAPIServerRefusesMakesTheJobInvalidAndReleasesItsGPUs() async throws {
        try await Self.withOperator { h async throws in
            h.cluster.cluster.failNextRequests(1, code: 422, target: FaultTarget(method: "POST", path: "/pods"))
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("refused", 1, 1, "{logs: [\"training\"]}", ""))
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.status(h, "refused")["phase"] == "Invalid" })
            let status = try await Self.status(h, "refused")
            #expect(Self.condition(status, "Invalid")?["reason"] == "ChildRejected")
            #expect(Self.condition(status, "Invalid")?["message"]?.stringValue?.contains("Pod refused-0") == true)
            #expect(Self.condition(status, "Admitted") == nil)
            #expect(status["gpus"] == 0)
            // It stays so (no retry loop creating pods).
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("next", 1, 1, "{exit: {code: 0, after: 1s}}", ""))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.status(h, "next")["phase"] == "Succeeded" })
            #expect(try await h.get(.pods, "default", "refused-0") == nil)
            #expect(try await Self.status(h, "refused")["phase"] == "Invalid")
        }
    }

    @Test func metricsSurviveAControllerThatWasDownWhenTheJobFinished() async throws {
        try await Self.withOperator { h async throws in
            let script = "{logs: [{series: {at: 0s, every: 0.1s, count: 20, start: 1, step: 1, template: \"step={step} loss={loss}\", loss: {from: 2.0, to: 0.5, curve: linear}}}], exit: {code: 0, after: 4s}}"
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("restarted", 1, 1, script, ""))
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.status(h, "restarted")["phase"] == "Running" })
            h.operatorTask.cancel()
            await h.operatorTask.value
            // The run finishes while no controller follows its log.
            #expect(try await eventually(timeout: .seconds(30)) {
                try await h.get(.pods, "default", "restarted-0")?[path: "status", "phase"] == "Succeeded"
            })
            let second = try OperatorManager(client: h.client)
            let task = Task { await second.run() }
            defer { task.cancel() }
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.status(h, "restarted")["phase"] == "Succeeded" })
            let metrics = try await Self.status(h, "restarted")["metrics"]
            #expect(metrics?["step"] == 20, "\(String(describing: metrics))")
            #expect(metrics?[path: "best", "name"] == "loss")
            let record = try await Self.record(h, "restarted-record")
            #expect(record?[path: "metrics", "step"] == 20)
            task.cancel()
            await task.value
        }
    }

    @Test func aDeletedRunningJobLeavesARecordOfWhatRan() async throws {
        try await Self.withOperator { h async throws in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("cancelled", 1, 1, "{logs: [\"epoch 1\", \"epoch 2\"]}", "  hyperparameters: {lr: \"0.1\"}\n"))
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.status(h, "cancelled")["phase"] == "Running" })
            #expect(try await h.get(.trainingJobs, "default", "cancelled")?.finalizers == ["gantry.dev/record"])
            _ = try await h.kubectl("delete", "trainingjob", "cancelled", "--timeout=60s")
            #expect(try await h.get(.trainingJobs, "default", "cancelled") == nil)
            let record = try #require(try await Self.record(h, "cancelled-record"))
            #expect(record["phase"] == "Deleted")
            #expect(record[path: "result", "reason"] == "Deleted")
            #expect(record[path: "hyperparameters", "lr"] == "0.1")
        }
    }

    @Test func anEarlyStoppedRunIsCompleteAndHealthyAndKeepsItsLogTail() async throws {
        try await Self.withOperator { h async throws in
            let plateau = "{logs: [{series: {every: 0.1s, count: 400, start: 1, step: 1, template: \"step={step} loss={loss}\", loss: {from: 1.0, to: 1.0, curve: flat}}}], exit: {code: 0}}"
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("plateau", 1, 1, plateau, "  earlyStopping: {metric: loss, patience: {evaluations: 5}}\n"))
            let waited = await h.cluster.kubectl("wait", "--for=condition=Complete", "trainingjob/plateau", "--timeout=60s")
            #expect(waited.ok, "\(waited.stderr)")
            let status = try await Self.status(h, "plateau")
            #expect(status["phase"] == "EarlyStopped")
            #expect(Self.condition(status, "Ready")?["status"] == "True")
            #expect(Self.condition(status, "Stalled")?["status"] != "True")
            #expect(Self.condition(status, "Reconciling")?["status"] == "False")
            #expect(status["gpus"] == 0)
            let tail = status["replicaStatuses"]?.arrayValue?.first?["lastLogLines"]?.arrayValue ?? []
            #expect(tail.contains { $0.stringValue?.hasPrefix("step=") == true }, "\(tail)")
        }
    }

    @Test func aFinishedDistributedJobDropsItsServiceAndKeepsPodsWhenAsked() async throws {
        try await Self.withOperator { h async throws in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("kept", 2, 1, "{logs: [\"hello from {pod}\"], exit: {code: 0, after: 2s}}",
                                                                             "  finishedPodPolicy: Keep\n"))
            #expect(try await eventually(timeout: .seconds(30)) { try await h.get(.services, "default", "kept") != nil })
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.status(h, "kept")["phase"] == "Succeeded" })
            #expect(try await eventually(timeout: .seconds(30)) { try await h.get(.services, "default", "kept") == nil })
            #expect(try await h.get(.pods, "default", "kept-0") != nil)
            #expect(try await h.get(.pods, "default", "kept-1") != nil)
            #expect(try await Self.status(h, "kept")["gpus"] == 0)
            let logs = try await h.kubectl("logs", "-l", "gantry.dev/trainingjob=kept", "--prefix")
            #expect(logs.contains("hello from kept-0") && logs.contains("hello from kept-1"), "\(logs)")
            #expect(logs.contains("pod/kept-0/trainer"), "\(logs)")
        }
    }
}

/// spec.metrics.objective and .additional through the real log follower (issue #8 item 9).
@Suite(.serialized) struct MetricsObjectiveTests {
    @Test func bestNamesTheObjectiveAndAdditionalMetricsKeepAHistory() async throws {
        try await withOperator { h async throws in
            let script = "{logs: [{series: {every: 0.1s, count: 10, start: 1, step: 1, template: \"step={step} loss={loss} val_acc={acc} lr={lr}\", loss: {from: 2.0, to: 0.5, curve: linear}, acc: {from: 0.1, to: 0.9, curve: linear}, lr: {from: 0.1, to: 0.01, curve: linear}}}], exit: {code: 0}}"
            _ = try await h.kubectl("apply", "-f", "-", stdin: TrainingJobHardeningTests.manifest("objective", 1, 1, script,
                "  metrics: {objective: {metric: val_acc, goal: maximize}, additional: [lr]}\n"))
            #expect(try await eventually(timeout: .seconds(60)) { try await TrainingJobHardeningTests.status(h, "objective")["phase"] == "Succeeded" })
            let metrics = try await TrainingJobHardeningTests.status(h, "objective")["metrics"] ?? .null
            #expect(metrics[path: "best", "name"] == "val_acc")
            #expect(metrics[path: "best", "goal"] == "maximize")
            #expect(metrics[path: "best", "value"]?.doubleValue.map { abs($0 - 0.9) < 1e-6 } == true, "\(metrics)")
            let lr = metrics["additional"]?.arrayValue?.first { $0["name"] == "lr" }
            #expect(lr?["history"]?.arrayValue?.count == 10, "\(String(describing: lr))")
            let table = try await h.kubectl("get", "gtj", "objective")
            #expect(table.contains("METRIC") && table.contains("val_acc"), "\(table)")
            let record = try await TrainingJobHardeningTests.record(h, "objective-record")
            #expect(record?["objective"] == ["metric": "val_acc", "goal": "maximize"])
        }
    }
}

/// PlatformConfig spec.podPolicy enforced before admission, through kubectl (issue #8 item 14).
@Suite(.serialized) struct PodPolicyTests {
    @Test func thePodPolicyRefusesHostPathAndUnlistedAccountsAndSecuresThePods() async throws {
        try await withOperator { h async throws in
            _ = try await h.kubectl("apply", "-f", "-", stdin: """
                apiVersion: gantry.dev/v1alpha1
                kind: PlatformConfig
                metadata: {name: default}
                spec:
                  podPolicy: {allowedServiceAccounts: [trainer]}
                """)
            let m = TrainingJobBehaviourTests.manifest
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("host", 1, 1, "{}", "  volumes: [{name: data, hostPath: {path: /data}}]\n"))
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("as-admin", 1, 1, "{}", "  serviceAccountName: admin\n"))
            _ = try await h.kubectl("apply", "-f", "-", stdin: m("fine", 1, 1, "{logs: [\"training\"]}", "  serviceAccountName: trainer\n"))
            #expect(try await eventually(timeout: .seconds(30)) {
                let a = try await TrainingJobHardeningTests.status(h, "host")["phase"]
                let b = try await TrainingJobHardeningTests.status(h, "as-admin")["phase"]
                let c = try await TrainingJobHardeningTests.status(h, "fine")["phase"]
                return a == "Invalid" && b == "Invalid" && c == "Running"
            })
            let host = TrainingJobHardeningTests.condition(try await TrainingJobHardeningTests.status(h, "host"), "Invalid")
            #expect(host?["reason"] == "PolicyViolation")
            #expect(host?["message"]?.stringValue?.contains("spec.volumes[0] (data) is a hostPath volume") == true)
            let admin = TrainingJobHardeningTests.condition(try await TrainingJobHardeningTests.status(h, "as-admin"), "Invalid")
            #expect(admin?["message"]?.stringValue?.contains("spec.serviceAccountName: admin") == true)
            let pod = try #require(try await h.get(.pods, "default", "fine-0"))
            #expect(pod[path: "spec", "securityContext", "runAsNonRoot"] == true)
            #expect(pod[path: "spec", "containers"]?.arrayValue?.first?[path: "securityContext", "allowPrivilegeEscalation"] == false)
            #expect(try await TrainingJobHardeningTests.status(h, "fine")[path: "appliedDefaults", "securityContext"] == "Restricted")
        }
    }
}

/// Past `maxLogStreams` running jobs, metrics logs are polled instead of followed (issue #8 item 15): one stream
/// per running job does not scale to thousands of jobs, and the polls share one budget of reads a second.
@Suite(.serialized) struct MetricsPollingTests {
    @Test func jobsPastTheStreamBoundArePolledWithinTheSharedBudgetAndStillStopEarly() async throws {
        // Three polled jobs would be read 0.6 times a second (each every 5 s); the budget allows 0.25.
        let budget = 0.25
        try await withOperator(maxLogStreams: 1, maxLogPollsPerSecond: budget) { h in
            let plateau = "{logs: [{series: {every: 0.1s, count: 600, start: 1, step: 1, template: \"step={step} loss={loss}\", loss: {from: 1.0, to: 1.0, curve: flat}}}], exit: {code: 0}}"
            // A job without a rule holds the one stream first, so every plateau job is polled.
            _ = try await h.kubectl("apply", "-f", "-", stdin: TrainingJobHardeningTests.manifest("holder", 1, 1, plateau, ""))
            try #require(try await eventually(timeout: .seconds(30)) {
                h.cluster.cluster.requests().contains { $0.path.contains("/pods/holder") && $0.path.hasSuffix("/log") && $0.query.contains("follow=true") }
            }, "the holder's log is not followed")
            let names = ["plateau-a", "plateau-b", "plateau-c"]
            for name in names {
                _ = try await h.kubectl("apply", "-f", "-", stdin: TrainingJobHardeningTests.manifest(name, 1, 1, plateau,
                    "  earlyStopping: {metric: loss, patience: {evaluations: 5}}\n"))
            }
            #expect(try await eventually(timeout: .seconds(60)) {
                for name in names where try await TrainingJobHardeningTests.status(h, name)["phase"] != "EarlyStopped" { return false }
                return true
            })
            for name in names {
                let stop = try await TrainingJobHardeningTests.status(h, name)["earlyStop"]
                #expect(stop?["rule"] == "patience", "\(name): \(String(describing: stop))")
            }
            // At most one log was followed at a time; the others were read by polls (timestamps, sinceTime).
            let logs = h.cluster.cluster.requests().filter { $0.path.hasSuffix("/log") }
            let polls = logs.filter { $0.query.contains("timestamps=true") }.map(\.received).sorted()
            #expect(polls.count >= 2, "polled reads: \(polls.count)")
            // A token bucket of `budget` a second holding one token: n reads need (n - 1) / budget seconds
            // (half a second allowed for the requests' different trips from the bucket to the server).
            if let first = polls.first, let last = polls.last {
                let span = last - first + .milliseconds(500)
                let allowed = 1 + Int((Double(span.components.seconds) + Double(span.components.attoseconds) / 1e18) * budget)
                #expect(polls.count <= allowed, "\(polls.count) polled reads in \(span), budget \(budget)/s")
            }
        }
    }
}
