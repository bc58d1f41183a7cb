import Foundation
import Testing
import GantryAPI
import GantryControllers
import EmbeddedCluster
import GantryTestSupport
import KubeClient
import KubeCore

/// InferenceService through the real path: kubectl → embedded cluster (simulated inference servers, Endpoints)
/// → the operator over libcurl (issue #10).
@Suite(.serialized) struct InferenceServiceTests {
    static let example = OperatorHarness.repoRoot + "/examples/inferenceservice.yaml"

    static func manifest(_ name: String, image: String, replicas: Int = 2, rollout: String = "{scaleDownDelaySeconds: 30}",
                         gpus: Int = 1) -> String {
        """
        apiVersion: gantry.dev/v1alpha1
        kind: InferenceService
        metadata: {name: \(name), namespace: default}
        spec:
          image: \(image)
          readinessPath: /v2/health/ready
          replicas: \(replicas)
          gpu: {count: \(gpus)}
          rollout: \(rollout)
        """
    }

    /// The real `gantry` binary against the test's cluster.
    static func gantry(_ h: OperatorHarness, _ args: String...) async -> CommandResult {
        await runProcess(GantryBinary.path, args + ["--kubeconfig", h.cluster.kubeconfig, "-n", "default"])
    }

    static func status(_ h: OperatorHarness, _ name: String) async throws -> JSONValue {
        try await h.get(.inferenceServices, "default", name)?["status"] ?? .null
    }

    static func condition(_ status: JSONValue, _ type: String) -> JSONValue? {
        status["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == type }
    }

    static func ready(_ h: OperatorHarness, _ name: String) async throws -> Bool {
        let s = try await status(h, name)
        return condition(s, "Ready")?["status"] == "True" && s["candidate"] == nil
    }

    static func selectedColor(_ h: OperatorHarness, _ service: String) async throws -> String? {
        try await h.get(.services, "default", service)?[path: "spec", "selector", GantryLabels.color]?.stringValue
    }

    static func readyAddresses(_ h: OperatorHarness, _ service: String) async throws -> Int {
        let subsets = try await h.get(.endpoints, "default", service)?["subsets"]?.arrayValue ?? []
        return subsets.reduce(0) { $0 + ($1["addresses"]?.arrayValue?.count ?? 0) }
    }

    static func pods(_ h: OperatorHarness, _ name: String) async throws -> [JSONValue] {
        try await h.client.list(.pods, namespace: "default", options: ListOptions(labelSelector: "\(GantryLabels.instance)=\(name)")).items
    }

    /// Operator writes to the alias Service (PATCH or PUT of services/<name>).
    static func aliasUpdates(_ h: OperatorHarness, _ name: String) -> Int {
        h.cluster.cluster.requests().count { r in
            ["PATCH", "PUT"].contains(r.method) && r.path == "/api/v1/namespaces/default/services/\(name)"
        }
    }

    static func podCreates(_ h: OperatorHarness) -> Int {
        h.cluster.cluster.requests().count { $0.method == "POST" && $0.path == "/api/v1/namespaces/default/pods" }
    }

    @Test func theDocumentedExampleServesFromBlueBehindItsAliasWithABudget() async throws {
        try await withOperator { h in
            _ = try await h.kubectl("apply", "-f", Self.example)
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.ready(h, "sentiment") })
            let status = try await Self.status(h, "sentiment")
            #expect(status["url"] == "http://sentiment.default.svc.cluster.local")
            #expect(status["activeColor"] == "blue")
            #expect(status[path: "activeRevision", "modelVersion"] == "7")
            #expect(status["readyReplicas"] == 2)
            #expect(Self.condition(status, "Ready")?["observedGeneration"] == 1)
            #expect(try await Self.selectedColor(h, "sentiment") == "blue")
            #expect(try await Self.selectedColor(h, "sentiment-preview") == "blue")
            let budget = try #require(try await h.get(.podDisruptionBudgets, "default", "sentiment"))
            #expect(budget[path: "spec", "selector", "matchLabels", GantryLabels.color] == "blue")
            let pods = try await Self.pods(h, "sentiment")
            #expect(pods.count == 2)
            let pod = try #require(pods.first)
            #expect(pod[path: "spec", "initContainers"]?.arrayValue?.first?["name"] == "model-fetch")
            let env = pod[path: "spec", "containers"]?.arrayValue?.first?["env"]?.arrayValue ?? []
            #expect(env.contains { $0["name"] == "MODEL_DIR" && $0["value"] == "/models" })
            // The alias has ready endpoints (the endpoints controller follows within its tick): a client could call it.
            #expect(try await eventually(timeout: .seconds(10)) { try await Self.readyAddresses(h, "sentiment") == 2 })
            // kubectl shows the printer columns.
            let table = try await h.kubectl("get", "gis", "sentiment")
            #expect(table.contains("ACTIVE") && table.contains("blue") && table.contains("sentiment.default.svc.cluster.local"))
        }
    }

    @Test func blueToGreenMovesTheAliasInOneUpdateWithEndpointsThroughoutThenRollsBackWithoutAPod() async throws {
        try await withOperator { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("api", image: "acme/llm-serving:1"))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.ready(h, "api") })
            let blue = try await Self.status(h, "api")[path: "activeRevision", "hash"]?.stringValue
            #expect(try await eventually(timeout: .seconds(10)) { try await Self.readyAddresses(h, "api") == 2 })
            let updatesBefore = Self.aliasUpdates(h, "api")

            // Sample the alias's Endpoints through the whole rollout: never an instant without a ready address.
            let sampler = Task { () -> (samples: Int, empty: Int) in
                var samples = 0, empty = 0
                while !Task.isCancelled {
                    if let ready = try? await Self.readyAddresses(h, "api") {
                        samples += 1
                        if ready == 0 { empty += 1 }
                    }
                    try? await Task.sleep(for: .milliseconds(20))
                }
                return (samples, empty)
            }
            // And requests through the alias (the API server's service proxy), as a client would send them.
            let caller = Task { () -> (sent: Int, failed: [Int]) in
                var sent = 0, failed: [Int] = []
                while !Task.isCancelled {
                    if let answer = try? await h.client.proxy(.services, namespace: "default", name: "api", port: "http", path: "/v2/health/ready") {
                        sent += 1
                        if answer.status != 200 { failed.append(answer.status) }
                    }
                    try? await Task.sleep(for: .milliseconds(20))
                }
                return (sent, failed)
            }
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("api", image: "acme/llm-serving:2"))
            #expect(try await eventually(timeout: .seconds(60)) {
                let s = try await Self.status(h, "api")
                return s["activeColor"] == "green" && s["candidate"] == nil
            })
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.ready(h, "api") })
            sampler.cancel()
            caller.cancel()
            let sampled = await sampler.value
            let called = await caller.value
            #expect(called.sent > 20 && called.failed.isEmpty, "requests through the alias that failed: \(called.failed) of \(called.sent)")
            #expect(sampled.samples > 20 && sampled.empty == 0, "alias without a ready endpoint in \(sampled.empty) of \(sampled.samples) samples")
            #expect(try await Self.selectedColor(h, "api") == "green")
            #expect(Self.aliasUpdates(h, "api") == updatesBefore + 1, "the swap is one update of the alias")
            let status = try await Self.status(h, "api")
            #expect(status[path: "lastSwap", "from"]?.stringValue == blue)
            #expect(status[path: "previousRevision", "color"] == "blue")  // warm for 30 s
            #expect(try await h.get(.podDisruptionBudgets, "default", "api")?[path: "spec", "selector", "matchLabels", GantryLabels.color] == "green")
            #expect(try await Self.pods(h, "api").count == 4)  // both colours up inside the window

            // Revert inside the window: the alias moves back, no pod is created.
            let createsBefore = Self.podCreates(h)
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("api", image: "acme/llm-serving:1"))
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.selectedColor(h, "api") == "blue" })
            let back = try await Self.status(h, "api")
            #expect(back[path: "lastSwap", "reason"] == "RolledBack")
            #expect(back[path: "activeRevision", "hash"]?.stringValue == blue)
            #expect(Self.podCreates(h) == createsBefore, "a rollback inside the window starts no pod")
            let events = try await h.kubectl("get", "events", "--field-selector", "involvedObject.name=api", "-o", "jsonpath={.items[*].reason}")
            #expect(events.contains("Swapped") && events.contains("RolledBack"))
        }
    }

    @Test func aCandidateThatNeverBecomesReadyFailsWithThePodsReasonAndBlueKeepsServing() async throws {
        try await withOperator { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("svc", image: "acme/llm-serving:1", replicas: 1,
                                                                             rollout: "{progressDeadlineSeconds: 4}"))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.ready(h, "svc") })
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("svc", image: "acme/llm-serving:missing", replicas: 1,
                                                                             rollout: "{progressDeadlineSeconds: 4}"))
            #expect(try await eventually(timeout: .seconds(30)) {
                try await Self.status(h, "svc")[path: "candidate", "phase"] == "Failed"
            })
            let status = try await Self.status(h, "svc")
            let message = status[path: "candidate", "message"]?.stringValue ?? ""
            #expect(message.contains("ImagePull") || message.contains("ErrImagePull"), "the pod's own reason: \(message)")
            #expect(Self.condition(status, "Stalled")?["status"] == "True")
            #expect(status["activeColor"] == "blue")
            #expect(try await Self.selectedColor(h, "svc") == "blue")
            // The failed candidate's pods are gone; blue's stay.
            #expect(try await eventually(timeout: .seconds(30)) {
                let pods = try await Self.pods(h, "svc")
                return pods.count == 1 && pods.allSatisfy { $0.labels[GantryLabels.color] == "blue" }
            })

            // Asked to keep it for debugging: the next failed candidate's pod stays, behind the preview only.
            let keep = "{progressDeadlineSeconds: 4, keepFailedCandidate: true}"
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("svc", image: "acme/does-not-exist:2", replicas: 1, rollout: keep))
            #expect(try await eventually(timeout: .seconds(30)) {
                let s = try await Self.status(h, "svc")
                return s[path: "candidate", "phase"] == "Failed" && s[path: "candidate", "revision", "image"] == "acme/does-not-exist:2"
            })
            #expect(try await eventually(timeout: .seconds(10)) { try await Self.selectedColor(h, "svc-preview") == "green" })
            let kept = try await Self.pods(h, "svc").filter { $0.labels[GantryLabels.color] == "green" && $0.deletionTimestamp == nil }
            #expect(kept.count == 1, "the failed candidate's pod is kept: \(kept.compactMap(\.name))")
            #expect(try await Self.selectedColor(h, "svc") == "blue")
            #expect(try await Self.status(h, "svc")["activeColor"] == "blue")
        }
    }

    @Test func withoutAutoPromoteACandidateWaitsUntilTheAnnotationNamesIt() async throws {
        try await withOperator { h in
            let rollout = "{autoPromote: false, scaleDownDelaySeconds: 0}"
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("p", image: "acme/llm-serving:1", replicas: 1, rollout: rollout))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.ready(h, "p") })
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("p", image: "acme/llm-serving:2", replicas: 1, rollout: rollout))
            #expect(try await eventually(timeout: .seconds(60)) {
                try await Self.status(h, "p")[path: "candidate", "phase"] == "AwaitingPromotion"
            })
            #expect(try await Self.selectedColor(h, "p") == "blue")
            #expect(try await Self.selectedColor(h, "p-preview") == "green")
            let hash = try #require(try await Self.status(h, "p")[path: "candidate", "revision", "hash"]?.stringValue)
            let promoted = await Self.gantry(h, "promote", "p")
            #expect(promoted.ok && promoted.stdout.contains(hash), "\(promoted.stderr)")
            #expect(try await h.get(.inferenceServices, "default", "p")?.annotations[InferenceServicePlanner.promoteAnnotation] == hash)
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.selectedColor(h, "p") == "green" })
            // scaleDownDelaySeconds 0: blue goes at once, and there is nothing warm to roll back to.
            #expect(try await eventually(timeout: .seconds(30)) {
                try await Self.pods(h, "p").allSatisfy { $0.labels[GantryLabels.color] == "green" }
            })
            let nothing = await Self.gantry(h, "rollback", "p")
            #expect(!nothing.ok && nothing.stderr.contains("revert the spec"), "\(nothing.stderr)")
        }
    }

    @Test func consecutiveRolloutsLeaveNoPodServiceOrBudgetBehind() async throws {
        try await withOperator { h in
            let rollout = "{scaleDownDelaySeconds: 0}"
            for version in 1...5 {
                _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("many", image: "acme/llm-serving:\(version)", replicas: 1, rollout: rollout))
                if version == 3 { continue }  // superseded before it is ready: the next one replaces it
                #expect(try await eventually(timeout: .seconds(60)) {
                    let s = try await Self.status(h, "many")
                    return s[path: "activeRevision", "image"]?.stringValue == "acme/llm-serving:\(version)" && s["candidate"] == nil
                })
            }
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.pods(h, "many").count == 1 })
            let services = try await h.client.list(.services, namespace: "default").items.compactMap(\.name).filter { $0.hasPrefix("many") }
            #expect(Set(services) == ["many", "many-preview"])
            let budgets = try await h.client.list(.podDisruptionBudgets, namespace: "default").items.compactMap(\.name)
            #expect(budgets == ["many"])
        }
    }

    /// A server answering `/v1/models/m:predict` with `label` (the simulation answers by path).
    static func predicting(_ name: String, image: String, label: String) -> String {
        """
        apiVersion: gantry.dev/v1alpha1
        kind: InferenceService
        metadata: {name: \(name), namespace: default}
        spec:
          image: \(image)
          replicas: 1
          podMetadata:
            annotations:
              sim.gantry.dev/script: '{readyAfter: 1s, http: {"/v1/models/m:predict": {body: {predictions: [{label: \(label), score: 0.93}]}}}}'
          rollout:
            scaleDownDelaySeconds: 0
            validation:
              requests:
              - method: POST
                path: /v1/models/m:predict
                body: '{"instances": ["a fine film"]}'
                expect:
                  status: 200
                  json: [{path: predictions.0.label, equals: positive}, {path: predictions.0.score, value: 0.9, tolerance: 0.05}]
        """
    }

    @Test func aCandidateThatAnswersWronglyNeverGetsTrafficAndOneThatAnswersRightIsSwappedIn() async throws {
        try await withOperator { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.predicting("v", image: "acme/llm-serving:1", label: "positive"))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.ready(h, "v") })
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.predicting("v", image: "acme/llm-serving:2", label: "negative"))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.status(h, "v")[path: "candidate", "phase"] == "Failed" })
            var status = try await Self.status(h, "v")
            #expect(status[path: "candidate", "validation", "passed"] == false)
            let message = status[path: "candidate", "message"]?.stringValue ?? ""
            #expect(message.contains("predictions.0.label is negative, expected positive"), "\(message)")
            #expect(Self.condition(status, "Progressing")?["reason"] == "ValidationFailed")
            #expect(try await Self.selectedColor(h, "v") == "blue")

            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.predicting("v", image: "acme/llm-serving:3", label: "positive"))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.selectedColor(h, "v") == "green" })
            status = try await Self.status(h, "v")
            #expect(status[path: "activeRevision", "image"] == "acme/llm-serving:3")
            let events = try await h.kubectl("get", "events", "--field-selector", "involvedObject.name=v", "-o", "jsonpath={.items[*].reason}")
            #expect(events.contains("ValidationFailed") && events.contains("ValidationPassed"))
        }
    }

    @Test func gantryRollbackSwapsBackWithoutTouchingSpecAndHoldsUntilTheSpecIsReverted() async throws {
        try await withOperator { h in
            let rollout = "{scaleDownDelaySeconds: 120}"
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("rb", image: "acme/llm-serving:1", replicas: 1, rollout: rollout))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.ready(h, "rb") })
            let good = try await Self.status(h, "rb")[path: "activeRevision", "hash"]?.stringValue
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("rb", image: "acme/llm-serving:2", replicas: 1, rollout: rollout))
            #expect(try await eventually(timeout: .seconds(60)) {
                let color = try await Self.selectedColor(h, "rb")
                let candidate = try await Self.status(h, "rb")["candidate"]
                return color == "green" && candidate == nil
            })
            let generation = try await h.get(.inferenceServices, "default", "rb")?.generation
            let creates = Self.podCreates(h)

            let rolledBack = await Self.gantry(h, "rollback", "rb")
            #expect(rolledBack.ok, "\(rolledBack.stderr)")
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.selectedColor(h, "rb") == "blue" })
            let object = try #require(try await h.get(.inferenceServices, "default", "rb"))
            #expect(object.generation == generation && object[path: "spec", "image"] == "acme/llm-serving:2", "spec untouched")
            #expect(try await eventually(timeout: .seconds(10)) {
                let s = try await Self.status(h, "rb")
                return Self.condition(s, "Stalled")?["reason"] == "RolledBack" && s[path: "activeRevision", "hash"]?.stringValue == good
            })
            #expect(Self.podCreates(h) == creates, "the rollback started no pod")
            // Held there: no new candidate while the spec still names the bad revision.
            #expect(try await Self.status(h, "rb")["candidate"] == nil)

            // Reverting the spec (as in Git) settles it: Ready again, no longer Stalled.
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("rb", image: "acme/llm-serving:1", replicas: 1, rollout: rollout))
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.ready(h, "rb") })
            #expect(Self.condition(try await Self.status(h, "rb"), "Stalled") == nil)

        }
    }

    @Test func anOperatorStoppedBetweenTheSwapOnRecordAndTheAliasUpdateFinishesItWithoutANewPod() async throws {
        try await withOperator { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("k", image: "acme/llm-serving:1", replicas: 1))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.ready(h, "k") })
            // Every update of the alias fails from now on: the swap is on record (status first), the alias not.
            h.cluster.cluster.failNextRequests(10_000, code: 409, target: FaultTarget(method: "PATCH", path: "/services/k"))
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("k", image: "acme/llm-serving:2", replicas: 1))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.status(h, "k")["activeColor"] == "green" })
            #expect(try await Self.selectedColor(h, "k") == "blue")
            h.operatorTask.cancel()
            await h.operatorTask.value
            h.cluster.cluster.clearQueuedFailures()
            let creates = Self.podCreates(h)

            let second = try OperatorManager(client: h.client)
            let task = Task { await second.run() }
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.selectedColor(h, "k") == "green" })
            #expect(Self.podCreates(h) == creates, "the restarted operator created no pod")
            let pods = try await Self.pods(h, "k")
            #expect(pods.count == 2, "blue (warm) and green, one each: \(pods.compactMap(\.name))")
            task.cancel()
            await task.value
        }
    }

    @Test func kubectlScaleChangesTheServingReplicasWithoutARollout() async throws {
        try await withOperator { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("s", image: "acme/llm-serving:1", replicas: 1))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.ready(h, "s") })
            let revision = try await Self.status(h, "s")[path: "activeRevision", "hash"]
            _ = try await h.kubectl("scale", "inferenceservice", "s", "--replicas=3")
            #expect(try await eventually(timeout: .seconds(60)) {
                let status = try await Self.status(h, "s")
                return status["readyReplicas"] == 3 && status["candidate"] == nil
            })
            #expect(try await Self.status(h, "s")[path: "activeRevision", "hash"] == revision)  // not a new revision
            let scale = try await h.kubectl("get", "--raw", "/apis/gantry.dev/v1alpha1/namespaces/default/inferenceservices/s/scale")
            let parsed = try JSONValue.parse(scale)
            #expect(parsed[path: "status", "replicas"] == 3)
            #expect(parsed[path: "status", "selector"]?.stringValue?.contains("gantry.dev/color=blue") == true)
        }
    }

    @Test func recreateStopsTheServingPodsBeforeTheNewOnesStart() async throws {
        try await withOperator { h in
            let rollout = "{strategy: Recreate}"
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("r", image: "acme/llm-serving:1", replicas: 2, rollout: rollout))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.ready(h, "r") })
            let old = try await Self.status(h, "r")[path: "activeRevision", "hash"]?.stringValue
            // Sample the pods through the rollout: never a new pod while an old one (even terminating) exists.
            let sampler = Task { () -> (samples: Int, overlaps: Int) in
                var samples = 0, overlaps = 0
                while !Task.isCancelled {
                    if let pods = try? await Self.pods(h, "r") {
                        samples += 1
                        let revisions = Set(pods.compactMap { $0.labels[GantryLabels.revision] })
                        if revisions.count > 1 { overlaps += 1 }
                    }
                    try? await Task.sleep(for: .milliseconds(20))
                }
                return (samples, overlaps)
            }
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("r", image: "acme/llm-serving:2", replicas: 2, rollout: rollout))
            #expect(try await eventually(timeout: .seconds(60)) {
                let image = try await Self.status(h, "r")[path: "activeRevision", "image"]
                let ready = try await Self.ready(h, "r")
                return image == "acme/llm-serving:2" && ready
            })
            sampler.cancel()
            let sampled = await sampler.value
            #expect(sampled.samples > 10 && sampled.overlaps == 0, "old and new pods at once in \(sampled.overlaps) of \(sampled.samples) samples")
            let pods = try await Self.pods(h, "r")
            #expect(pods.count == 2 && pods.allSatisfy { $0.labels[GantryLabels.revision] != old })
            #expect(try await Self.status(h, "r")[path: "lastSwap", "reason"] == "Recreated")
        }
    }

    // MARK: InsufficientGPUForSurge

    static func events(_ h: OperatorHarness, _ name: String) async throws -> String {
        try await h.kubectl("get", "events", "--field-selector", "involvedObject.name=\(name)", "-o", "jsonpath={.items[*].reason}")
    }

    @Test func aCandidateThatCannotSurgeSaysInsufficientGPUForSurgeAtOnceAndRecreateIsTheWayOut() async throws {
        // One node with 2 GPUs; blue takes both (2 replicas × 1 GPU): green cannot come up beside it.
        try await withOperator(nodes: "1x{gpu: 2}") { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("g", image: "acme/llm-serving:1", replicas: 2))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.ready(h, "g") })
            let blue = Set(try await Self.pods(h, "g").compactMap(\.name))
            let applied = ContinuousClock.now
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("g", image: "acme/llm-serving:2", replicas: 2))
            #expect(try await eventually(timeout: .seconds(60)) {
                try await Self.status(h, "g")[path: "candidate", "reason"] == "InsufficientGPUForSurge"
            })
            // At once: long before the progress deadline (600 s by default) that would otherwise end it.
            #expect(ContinuousClock.now - applied < .seconds(600))
            let status = try await Self.status(h, "g")
            #expect(status[path: "candidate", "phase"] == "Progressing")
            let message = status[path: "candidate", "message"]?.stringValue ?? ""
            #expect(message.contains("needs 2 nvidia.com/gpu for its 2 replicas not yet placed (1 each)"), "\(message)")
            #expect(message.contains("the 1 node it may run on has 0 free of 2"), "\(message)")
            #expect(message.contains("blue, serving, holds 2"), "\(message)")
            #expect(message.contains("spec.rollout.strategy: Recreate"), "\(message)")
            #expect(Self.condition(status, "Stalled")?["reason"] == "InsufficientGPUForSurge")
            #expect(Self.condition(status, "Progressing")?["reason"] == "InsufficientGPUForSurge")
            #expect(try await Self.events(h, "g").contains("InsufficientGPUForSurge"))
            // Never at the serving colour's expense: the alias, blue's pods and their GPUs stay; green waits Pending.
            #expect(status["activeColor"] == "blue")
            #expect(try await Self.selectedColor(h, "g") == "blue")
            let pods = try await Self.pods(h, "g")
            #expect(Set(pods.filter { $0.labels[GantryLabels.color] == "blue" }.compactMap(\.name)) == blue)
            #expect(pods.filter { $0.labels[GantryLabels.color] == "blue" }.allSatisfy { $0[path: "status", "phase"] == "Running" })
            let green = pods.filter { $0.labels[GantryLabels.color] == "green" }
            #expect(green.count == 2 && green.allSatisfy { $0[path: "spec", "nodeName"] == nil })
            #expect(try await Self.readyAddresses(h, "g") == 2)

            // The documented way out: Recreate (the serving pods stop first).
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("g", image: "acme/llm-serving:2", replicas: 2, rollout: "{strategy: Recreate}"))
            #expect(try await eventually(timeout: .seconds(60)) {
                let image = try await Self.status(h, "g")[path: "activeRevision", "image"]
                let ready = try await Self.ready(h, "g")
                return image == "acme/llm-serving:2" && ready
            })
            let after = try await Self.status(h, "g")
            #expect(Self.condition(after, "Stalled") == nil)
            #expect(try await eventually(timeout: .seconds(30)) {
                let pods = try await Self.pods(h, "g")
                return pods.count == 2 && pods.allSatisfy { $0[path: "status", "phase"] == "Running" && !blue.contains($0.name ?? "") }
            })
        }
    }

    // MARK: model.fromTrainingJob

    static let fromTrainingJobExample = OperatorHarness.repoRoot + "/examples/inferenceservice-from-trainingjob.yaml"

    static func trainingPhase(_ h: OperatorHarness, _ name: String) async throws -> String? {
        try await h.get(.trainingJobs, "default", name)?[path: "status", "phase"]?.stringValue
    }

    @Test func theDocumentedExampleServesTheModelOfARunThatSucceededWithItsRecordInStatus() async throws {
        try await withOperator { h in
            _ = try await h.kubectl("apply", "-f", OperatorHarness.repoRoot + "/examples/trainingjob-single-gpu.yaml")
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.trainingPhase(h, "mnist-baseline") == "Running" })
            // Applied while the run trains: refused as a source until it has finished, then served.
            _ = try await h.kubectl("apply", "-f", Self.fromTrainingJobExample)
            #expect(try await eventually(timeout: .seconds(30)) {
                Self.condition(try await Self.status(h, "mnist"), "Reconciling")?["reason"] == "SourceNotFinished"
            })
            #expect(try await Self.pods(h, "mnist").isEmpty, "nothing is created from a run that has not finished")
            #expect(try await eventually(timeout: .seconds(120)) { try await Self.ready(h, "mnist") })
            #expect(try await Self.trainingPhase(h, "mnist-baseline") == "Succeeded")

            let record = try #require(try await h.get(.configMaps, "default", "mnist-baseline-record"))
            let document = try JSONValue.parse(record[path: "data", "record.json"]?.stringValue ?? "")
            let source = try #require(try await Self.status(h, "mnist")[path: "activeRevision", "source"])
            #expect(source["trainingJob"] == "mnist-baseline" && source["record"] == "mnist-baseline-record" && source["phase"] == "Succeeded")
            #expect(source["uid"] == document["uid"] && source["uid"] != nil)
            #expect(source["imageID"] == document["imageID"] && source["imageID"]?.stringValue?.contains("@sha256:") == true)
            #expect(source["gitCommit"] == "9c1e2f7" && source["dataset"] == "s3://datasets/mnist/v3")
            #expect(source["hyperparameters"] == ["learning_rate": "0.001", "batch_size": "128"])
            #expect(source[path: "bestMetric", "name"] == "loss" && source[path: "bestMetric", "value"] == document[path: "metrics", "best", "value"])
            #expect(source["completionTime"] == document["completionTime"] && source["completionTime"] != nil)
            // The pods name the run too, so a server can say which run answered.
            let pod = try #require(try await Self.pods(h, "mnist").first)
            let env = pod[path: "spec", "containers"]?.arrayValue?.first?["env"]?.arrayValue ?? []
            #expect(env.contains { $0["name"] == "MODEL_TRAINING_JOB" && $0["value"] == "mnist-baseline" })
            #expect(env.contains { $0["name"] == "MODEL_RECORD" && $0["value"] == "mnist-baseline-record" })
            #expect(env.contains { $0["name"] == "MODEL_URI" && $0["value"] == "s3://checkpoints/mnist-baseline/final" })
            let wide = try await h.kubectl("get", "gis", "mnist", "-o", "wide")
            #expect(wide.contains("SOURCE") && wide.contains("mnist-baseline"), "\(wide)")
            #expect(try await Self.events(h, "mnist").contains("SourceNotFinished"))
        }
    }

    @Test func aFailedRunIsRefusedAsASourceCreatingNothingAndLeavingTheServingColourAlone() async throws {
        try await withOperator { h in
            let job = """
                apiVersion: gantry.dev/v1alpha1
                kind: TrainingJob
                metadata: {name: broken, namespace: default}
                spec:
                  image: trainer:1
                  gpu: {count: 1}
                  backoffLimit: 0
                  podMetadata:
                    annotations:
                      sim.gantry.dev/script: '{logs: ["step=1 loss=9.1"], exit: {code: 3, after: 1s}}'
                """
            _ = try await h.kubectl("apply", "-f", "-", stdin: job)
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("serving", image: "acme/llm-serving:1", replicas: 1))
            #expect(try await eventually(timeout: .seconds(60)) {
                let phase = try await Self.trainingPhase(h, "broken")
                let record = try await h.get(.configMaps, "default", "broken-record")
                return phase == "Failed" && record != nil
            })
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.ready(h, "serving") })
            let fromBroken = { (name: String, image: String) in
                Self.manifest(name, image: image, replicas: 1) + "\n  model: {uri: 's3://models/broken/final', fromTrainingJob: broken}\n"
            }

            // A new service from the failed run: Stalled, the condition names the field and the reason; nothing made.
            _ = try await h.kubectl("apply", "-f", "-", stdin: fromBroken("fresh", "acme/llm-serving:1"))
            #expect(try await eventually(timeout: .seconds(30)) {
                Self.condition(try await Self.status(h, "fresh"), "Stalled")?["reason"] == "SourceNotSucceeded"
            })
            let fresh = try await Self.status(h, "fresh")
            let message = Self.condition(fresh, "Stalled")?["message"]?.stringValue ?? ""
            #expect(message.hasPrefix("spec.model.fromTrainingJob: TrainingJob \"broken\" failed (BackoffLimitExceeded"), "\(message)")
            #expect(message.hasSuffix("nothing was created"), "\(message)")
            #expect(fresh["activeRevision"] == nil && Self.condition(fresh, "Ready")?["status"] == "False")
            #expect(try await Self.pods(h, "fresh").isEmpty)
            #expect(try await h.get(.services, "default", "fresh") == nil)
            #expect(try await h.get(.podDisruptionBudgets, "default", "fresh") == nil)
            #expect(try await Self.events(h, "fresh").contains("SourceNotSucceeded"))

            // A serving service updated to take its model from the failed run: refused, and blue is not touched.
            let creates = Self.podCreates(h)
            let pods = Set(try await Self.pods(h, "serving").compactMap(\.uid))
            let updates = Self.aliasUpdates(h, "serving")
            _ = try await h.kubectl("apply", "-f", "-", stdin: fromBroken("serving", "acme/llm-serving:2"))
            #expect(try await eventually(timeout: .seconds(30)) {
                let status = try await Self.status(h, "serving")
                return Self.condition(status, "Stalled")?["reason"] == "SourceNotSucceeded" && status["observedGeneration"] == 2
            })
            let serving = try await Self.status(h, "serving")
            #expect(serving["candidate"] == nil && serving[path: "activeRevision", "image"] == "acme/llm-serving:1")
            #expect(Self.condition(serving, "Stalled")?["message"]?.stringValue?.hasSuffix("keeps serving in blue") == true)
            #expect(Set(try await Self.pods(h, "serving").compactMap(\.uid)) == pods)
            #expect(Self.podCreates(h) == creates && Self.aliasUpdates(h, "serving") == updates)
            #expect(try await Self.readyAddresses(h, "serving") == 1)
        }
    }

    /// A served revision with analysis: `script` plays the server (readiness and its /metrics over time).
    static func analysed(_ name: String, image: String, script: String, window: Int, delay: Int) -> String {
        manifest(name, image: image, replicas: 1,
                 rollout: "{scaleDownDelaySeconds: \(delay), analysis: {windowSeconds: \(window), intervalSeconds: 1, requestsMetric: http_requests_total, errorsMetric: http_errors_total, maxErrorRatio: 0.1, minRequests: 10}}",
                 gpus: 0)
            + "\n  podMetadata:\n    annotations:\n      sim.gantry.dev/script: '\(script)'"
    }

    static let healthyServer = #"{readyAfter: 1s, http: {"/v2/health/ready": {body: ok}}, metrics: [{after: 0s, text: "http_requests_total 0\nhttp_errors_total 0\n"}, {after: 3s, text: "http_requests_total 200\nhttp_errors_total 1\n"}]}"#
    /// Ready at once, then 30 % of its requests fail once it has traffic (8 s after start: after the swap).
    static let failingServer = #"{readyAfter: 1s, http: {"/v2/health/ready": {body: ok}}, metrics: [{after: 0s, text: "http_requests_total 0\nhttp_errors_total 0\n"}, {after: 8s, text: "http_requests_total 100\nhttp_errors_total 30\n"}]}"#

    /// After the swap the new colour's error ratio is read from its pods' /metrics; a breach swaps back to the warm
    /// colour at once, marks the service Degraded with the figures, and the revision is not rolled out again until
    /// the spec changes. Reverting the spec makes it healthy.
    @Test func aBreachAfterTheSwapSwapsBackAndHoldsTheRevision() async throws {
        try await withOperator { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.analysed("guarded", image: "acme/llm-serving:1", script: Self.healthyServer, window: 12, delay: 15))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.ready(h, "guarded") })
            let first = try #require(try await Self.status(h, "guarded")[path: "activeRevision", "hash"]?.stringValue)
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.analysed("guarded", image: "acme/llm-serving:2", script: Self.failingServer, window: 12, delay: 15))
            #expect(try await eventually(timeout: .seconds(60)) {
                try await Self.status(h, "guarded")[path: "lastSwap", "reason"] == "AnalysisFailed"
            })
            let status = try await Self.status(h, "guarded")
            #expect(status[path: "activeRevision", "hash"]?.stringValue == first, "swapped back to the first revision")
            #expect(status[path: "analysis", "phase"] == "Failed")
            #expect(status[path: "analysis", "errorRatio"]?.doubleValue == 0.3)
            let degraded = try #require(Self.condition(status, "Degraded"))
            #expect(degraded["status"] == "True" && degraded["reason"] == "AnalysisFailed")
            #expect(degraded["message"]?.stringValue?.contains("error ratio 0.300 (30 of 100 requests) above maxErrorRatio 0.1") == true, "\(degraded)")
            #expect(Self.condition(status, "Stalled")?["reason"] == "AnalysisFailed")
            #expect(try await Self.selectedColor(h, "guarded") == status[path: "activeColor"]?.stringValue)
            // Held: once the breached colour's warm window ends its pod goes, and no candidate is made again.
            #expect(try await eventually(timeout: .seconds(60)) {
                let pods = try await Self.pods(h, "guarded").filter { $0.deletionTimestamp == nil }
                let s = try await Self.status(h, "guarded")
                return pods.count == 1 && pods[0].labels[GantryLabels.revision] == first && s["candidate"] == nil && s["previousRevision"] == nil
            })
            #expect(try await Self.status(h, "guarded")["candidate"] == nil)
            let events = try await h.kubectl("get", "events", "--field-selector", "involvedObject.name=guarded", "-o", "jsonpath={.items[*].reason}")
            #expect(events.contains("AnalysisFailed"), "\(events)")
            // The spec reverted (as Git would be): healthy again.
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.analysed("guarded", image: "acme/llm-serving:1", script: Self.healthyServer, window: 12, delay: 15))
            #expect(try await eventually(timeout: .seconds(30)) {
                let s = try await Self.status(h, "guarded")
                return Self.condition(s, "Ready")?["status"] == "True" && Self.condition(s, "Degraded")?["status"] == "False"
            })
        }
    }

    @Test func aHealthyWindowPassesTheAnalysis() async throws {
        try await withOperator { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.analysed("calm", image: "acme/llm-serving:1", script: Self.healthyServer, window: 4, delay: 10))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.ready(h, "calm") })
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.analysed("calm", image: "acme/llm-serving:2", script: Self.healthyServer, window: 4, delay: 10))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.status(h, "calm")[path: "analysis", "phase"] == "Passed" })
            let status = try await Self.status(h, "calm")
            #expect(status[path: "activeRevision", "image"] == "acme/llm-serving:2" && status[path: "lastSwap", "reason"] == "Swapped")
            #expect(Self.condition(status, "Degraded")?["status"] == "False")
            // The analysis' window must fit in the warm window, or there is nothing to swap back to.
            let refused = await h.cluster.kubectl(args: ["apply", "-f", "-"], stdin: Self.analysed("calm", image: "acme/llm-serving:3", script: Self.healthyServer, window: 20, delay: 10))
            #expect(!refused.ok && refused.stderr.contains("windowSeconds must not exceed rollout.scaleDownDelaySeconds"), "\(refused.stderr)")
        }
    }
}
