import Foundation
import Testing
import GantryAPI
import GantryTestSupport
import KubeCore

/// The user guide's examples, applied as they are to the embedded cluster's simulated GPU nodes: scripted
/// containers print loss curves, the operator reads them from the pod log API and stops the weak runs.
@Suite(.serialized) struct ExamplesOnSimulatedClusterTests {
    static func phase(_ h: OperatorHarness, _ name: String) async throws -> String? {
        try await h.get(.trainingJobs, "default", name)?[path: "status", "phase"]?.stringValue
    }

    @Test func sweepStopsWeakRunsAndTheBaselineLearnsToTheEnd() async throws {
        try await withOperator { h async throws in
            let examples = OperatorHarness.repoRoot + "/examples/"
            _ = try await h.kubectl("apply", "-f", examples + "platformconfig.yaml")
            _ = try await h.kubectl("apply", "-f", examples + "trainingjob-single-gpu.yaml", "-f", examples + "trainingjob-sweep.yaml")
            let names = ["mnist-baseline", "sweep-lr-0-001", "sweep-lr-0-003", "sweep-lr-0-0001", "sweep-lr-0-1"]
            let finished = try await eventually(timeout: .seconds(90)) {
                for name in names {
                    guard let phase = try await Self.phase(h, name), ["Succeeded", "Failed", "EarlyStopped"].contains(phase) else { return false }
                }
                return true
            }
            var summary: [String: String] = [:]
            for name in names { summary[name] = try await Self.phase(h, name) ?? "?" }
            #expect(finished, "phases: \(summary)")

            #expect(summary["mnist-baseline"] == "Succeeded")
            #expect(summary["sweep-lr-0-001"] == "Succeeded")
            #expect(summary["sweep-lr-0-0001"] == "EarlyStopped")
            #expect(summary["sweep-lr-0-1"] == "EarlyStopped")
            let diverged = try await h.get(.trainingJobs, "default", "sweep-lr-0-1")
            #expect(diverged?[path: "status", "earlyStop", "rule"] == "divergence")
            let slow = try await h.get(.trainingJobs, "default", "sweep-lr-0-0001")
            #expect(slow?[path: "status", "earlyStop", "rule"] == "median")
            #expect(slow?[path: "status", "conditions"]?.arrayValue?.contains { $0["type"] == "EarlyStopped" && $0["status"] == "True" } == true)

            // Metrics came from the pod log: best loss and history in status, and in the record.
            let baseline = try #require(try await h.get(.trainingJobs, "default", "mnist-baseline"))
            let best = try #require(baseline[path: "status", "metrics", "best", "value"]?.doubleValue)
            #expect(best < 0.2)
            #expect((baseline[path: "status", "metrics", "history"]?.arrayValue?.count ?? 0) > 10)
            let record = try #require(try await h.get(.configMaps, "default", "mnist-baseline-record"))
            let doc = try JSONValue.parse(record[path: "data", "record.json"]?.stringValue ?? "")
            #expect(doc[path: "metrics", "best", "value"]?.doubleValue == best)
            #expect(doc["imageID"]?.stringValue?.contains("@sha256:") == true)
            #expect(doc["nodes"]?.arrayValue?.isEmpty == false)

            // Stopped runs released their GPUs: no pod of a finished job is left.
            let podsLeft = try await eventually(timeout: .seconds(30)) {
                let pods = try await h.client.list(.pods, namespace: "default", options: ListOptions(labelSelector: "app.kubernetes.io/managed-by=gantry"))
                return pods.items.isEmpty
            }
            #expect(podsLeft)

            // `gantry records` lists them as a table.
            let binary = try Prerequisite.gantryBinary(repoRoot: OperatorHarness.repoRoot)
            let out = await runProcess(binary, ["records", "--kubeconfig", h.cluster.kubeconfig, "--experiment", "lr-sweep"])
            #expect(out.ok, "\(out.stderr)")
            #expect(out.stdout.contains("sweep-lr-0-0001") && out.stdout.contains("EarlyStopped"), "\(out.stdout)")
            // The controller's records carry the objective: one best run, a finished one, listed first, goal stated.
            let rows = RecordsCommandTests.table(out.stdout)
            #expect(rows.filter { $0[""] == "*" }.count == 1 && rows.first?[""] == "*" && rows.first?["PHASE"] == "Succeeded", "\(out.stdout)")
            let wide = await runProcess(binary, ["records", "--kubeconfig", h.cluster.kubeconfig, "--experiment", "lr-sweep", "-o", "wide"])
            #expect(RecordsCommandTests.table(wide.stdout).allSatisfy { $0["GOAL"] == "minimize" }, "\(wide.stdout)")
        }
    }

    @Test func theDistributedPyTorchExampleGivesEveryRankItsEnvironment() async throws {
        try await withOperator { h async throws in
            _ = try await h.kubectl("apply", "-f", OperatorHarness.repoRoot + "/examples/trainingjob-pytorch-distributed.yaml")
            #expect(try await eventually(timeout: .seconds(30)) {
                for rank in 0..<4 where try await h.get(.pods, "default", "llama-finetune-\(rank)") == nil { return false }
                return true
            })
            for rank in 0..<4 {
                let pod = try #require(try await h.get(.pods, "default", "llama-finetune-\(rank)"))
                let env = (pod[path: "spec", "containers"]?.arrayValue?.first?["env"]?.arrayValue ?? [])
                    .reduce(into: [String: String]()) { $0[$1["name"]?.stringValue ?? ""] = $1["value"]?.stringValue }
                #expect(env["MASTER_ADDR"] == "llama-finetune-0.llama-finetune")
                #expect(env["MASTER_PORT"] == "29500")
                #expect(env["WORLD_SIZE"] == "4")
                #expect(env["RANK"] == String(rank))
                #expect(env["LOCAL_WORLD_SIZE"] == "2")
                #expect(env["PET_NPROC_PER_NODE"] == "2")
                #expect(env["HP_LORA_RANK"] == "16")
                #expect(pod[path: "spec", "hostname"] == .string("llama-finetune-\(rank)"))
                #expect(pod[path: "spec", "subdomain"] == "llama-finetune")
                #expect(pod.labels["team"] == "nlp")
            }
            #expect(try await eventually(timeout: .seconds(60)) {
                try await h.get(.trainingJobs, "default", "llama-finetune")?[path: "status", "phase"] == "Succeeded"
            })
            let best = try await h.get(.trainingJobs, "default", "llama-finetune")?[path: "status", "metrics", "best", "value"]?.doubleValue
            #expect(best.map { $0 < 1.0 } == true)  // JSON metrics with stepKey "iter" were read from rank 0's log
        }
    }
}
