import Foundation
import Testing
import GantryAPI
import GantryTestSupport
import KubeCore

/// TrainingJob through the real path: kubectl → embedded API server → watch over libcurl → controller → writes.
@Suite(.serialized) struct TrainingJobLifecycleTests {
    @Test func distributedJobRunsToSuccessWithRecordAndFreedGPUs() async throws {
        try await withOperator(nodes: "off") { h async throws in  // the test plays the kubelet
            try await h.addGPUNode("e2e-gpu-a", gpus: 8, product: "E2E-GPU")
            // `kubectl create namespace` sends protobuf, which the embedded server does not decode yet: apply JSON.
            _ = try await h.kubectl("apply", "-f", "-", stdin: "apiVersion: v1\nkind: Namespace\nmetadata: {name: ml}\n")
            _ = try await h.kubectl("apply", "-f", "-", stdin: """
                apiVersion: gantry.dev/v1alpha1
                kind: TrainingJob
                metadata:
                  name: resnet
                  namespace: ml
                  annotations: {gantry.dev/git-commit: 3f2c1ab}
                spec:
                  image: registry.example.com/resnet:1.4
                  replicas: 2
                  gpu: {count: 4, product: E2E-GPU}
                  distributed: {framework: pytorch}
                  hyperparameters: {lr: "0.01", batch_size: "256"}
                """)

            // Admitted: the whole gang (2 × 4 GPUs) fits the node; pods and the headless Service appear.
            #expect(try await eventually(timeout: .seconds(20)) { try await h.get(.pods, "ml", "resnet-1") != nil })
            let pod = try #require(try await h.get(.pods, "ml", "resnet-1"))
            let env = (pod[path: "spec", "containers"]?.arrayValue?.first?["env"]?.arrayValue ?? [])
                .reduce(into: [String: String]()) { $0[$1["name"]?.stringValue ?? ""] = $1["value"]?.stringValue }
            #expect(env["RANK"] == "1")
            #expect(env["WORLD_SIZE"] == "2")
            #expect(env["MASTER_ADDR"] == "resnet-0.resnet")
            #expect(env["HP_BATCH_SIZE"] == "256")
            #expect(pod.ownerReferences.first?.kind == "TrainingJob")
            #expect(try await h.get(.services, "ml", "resnet")?[path: "spec", "clusterIP"] == "None")

            // The kubelet's part, played by the test: both replicas run, then finish.
            for i in 0..<2 { try await h.setPodPhase("ml", "resnet-\(i)", "Running") }
            #expect(try await eventually(timeout: .seconds(20)) {
                try await h.get(.trainingJobs, "ml", "resnet")?[path: "status", "phase"] == "Running"
            })
            let table = try await h.kubectl("get", "trainingjobs", "-n", "ml")
            #expect(table.contains("Running") && table.contains("2/2"), "printer columns: \(table)")

            for i in 0..<2 { try await h.setPodPhase("ml", "resnet-\(i)", "Succeeded", exitCode: 0) }
            let succeeded = try await eventually(timeout: .seconds(30)) {
                try await h.get(.trainingJobs, "ml", "resnet")?[path: "status", "phase"] == "Succeeded"
            }
            let finalStatus = try await h.get(.trainingJobs, "ml", "resnet")?["status"] ?? .null
            #expect(succeeded, "job status: \(finalStatus)")
            _ = try await h.kubectl("wait", "--for=condition=Succeeded", "--timeout=30s", "trainingjob/resnet", "-n", "ml")
            let job = try #require(try await h.get(.trainingJobs, "ml", "resnet"))
            #expect(job[path: "status", "observedGeneration"] == job[path: "metadata", "generation"])
            #expect(job[path: "status", "replicaStatuses"]?.arrayValue?.count == 2)

            // GPUs freed: finished pods deleted; the record outlives them.
            #expect(try await eventually(timeout: .seconds(20)) {
                let first = try await h.get(.pods, "ml", "resnet-0")
                let second = try await h.get(.pods, "ml", "resnet-1")
                return first == nil && second == nil
            })
            let record = try #require(try await h.get(.configMaps, "ml", "resnet-record"))
            let doc = try JSONValue.parse(record[path: "data", "record.json"]?.stringValue ?? "")
            #expect(doc["gitCommit"] == "3f2c1ab")
            #expect(doc["hyperparameters"]?["lr"] == "0.01")
            #expect(doc["imageID"] == "docker-pullable://trainer@sha256:abc")
            #expect(record["immutable"] == true)
        }
    }

    @Test func aRequestNoNodeCanEverHoldIsInvalidWithoutChildren() async throws {
        try await withOperator(nodes: "off") { h async throws in
            try await h.addGPUNode("e2e-gpu-small", gpus: 4, product: "E2E-SMALL")
            _ = try await h.kubectl("apply", "-f", "-", stdin: """
                apiVersion: gantry.dev/v1alpha1
                kind: TrainingJob
                metadata: {name: too-big, namespace: default}
                spec:
                  image: trainer:1
                  gpu: {count: 8, product: E2E-SMALL}
                """)
            _ = try await h.kubectl("wait", "--for=condition=Invalid", "--timeout=30s", "trainingjob/too-big")
            let job = try #require(try await h.get(.trainingJobs, "default", "too-big"))
            let invalid = job[path: "status", "conditions"]?.arrayValue?.first { $0["type"] == "Invalid" }
            #expect(invalid?["reason"] == "NoMatchingGPUNodes")
            #expect(invalid?["message"]?.stringValue?.contains("largest matching node has 4") == true)
            #expect(try await h.get(.pods, "default", "too-big-0") == nil)
            #expect(try await h.get(.services, "default", "too-big") == nil)
        }
    }
}
