import Foundation
import Testing
import GantryAPI
import GantryTestSupport
import KubeCore

/// The model-and-pods fields of the spec (issue #10 "The kind") reach the serving pods as the Pod API has them,
/// through kubectl, the API server and the operator.
extension InferenceServiceTests {
    @Test func everyPodFieldOfTheSpecReachesTheServingPods() async throws {
        try await withOperator(nodes: "2x{gpu: 2, labels: {pool: serve}}") { h in
            _ = try await h.kubectl("create", "serviceaccount", "model-server")
            _ = try await h.kubectl("apply", "-f", "-", stdin: """
                apiVersion: gantry.dev/v1alpha1
                kind: InferenceService
                metadata: {name: fields, namespace: default}
                spec:
                  image: acme/serve:1
                  command: [python, -m, serve]
                  args: [--workers, "2"]
                  env: [{name: LOG_LEVEL, value: debug}]
                  port: 9000
                  readinessPath: /ready
                  resources: {cpu: 500m, memory: 1Gi}
                  gpu: {count: 1}
                  volumes: [{name: cache, emptyDir: {}}]
                  volumeMounts: [{name: cache, mountPath: /cache}]
                  podMetadata: {labels: {team: nlp}, annotations: {owner: nlp@acme.dev}}
                  nodeSelector: {pool: serve}
                  tolerations: [{key: dedicated, operator: Equal, value: serve, effect: NoSchedule}]
                  serviceAccountName: model-server
                  imagePullSecrets: [{name: registry-acme}]
                  model: {uri: "s3://models/sentiment", version: "3"}
                  replicas: 1
                """)
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.pods(h, "fields").count == 1 })
            let pod = try #require(try await Self.pods(h, "fields").first)
            let spec = pod["spec"] ?? .null
            let server = try #require(spec["containers"]?.arrayValue?.first)
            #expect(server["image"] == "acme/serve:1" && server["command"] == ["python", "-m", "serve"] && server["args"] == ["--workers", "2"])
            #expect(server["ports"] == [["name": "http", "containerPort": 9000, "protocol": "TCP"]], "\(server["ports"] ?? .null)")
            #expect(server[path: "readinessProbe", "httpGet", "path"] == "/ready" && server[path: "readinessProbe", "httpGet", "port"] == "http")
            #expect(server[path: "resources", "requests"] == ["cpu": "500m", "memory": "1Gi", "nvidia.com/gpu": "1"], "\(server["resources"] ?? .null)")
            let env = server["env"]?.arrayValue ?? []
            for (name, value) in [("LOG_LEVEL", "debug"), ("MODEL_DIR", "/models"), ("MODEL_URI", "s3://models/sentiment"), ("MODEL_VERSION", "3")] {
                #expect(env.contains { $0["name"] == .string(name) && $0["value"] == .string(value) }, "\(name) in \(env)")
            }
            #expect(server["volumeMounts"]?.arrayValue?.contains { $0["name"] == "cache" && $0["mountPath"] == "/cache" } == true)
            #expect(server["volumeMounts"]?.arrayValue?.contains { $0["name"] == "model" && $0["mountPath"] == "/models" } == true)
            #expect(spec["initContainers"]?.arrayValue?.first?["args"] == ["--source", "s3://models/sentiment", "--dest", "/models"])
            #expect(spec["volumes"]?.arrayValue?.contains { $0["name"] == "cache" && $0["emptyDir"] != nil } == true)
            #expect(pod.labels["team"] == "nlp" && pod.annotations["owner"] == "nlp@acme.dev")
            #expect(spec[path: "nodeSelector", "pool"] == "serve")
            #expect(spec["tolerations"]?.arrayValue?.contains { $0["key"] == "dedicated" && $0["value"] == "serve" } == true)
            #expect(spec["serviceAccountName"] == "model-server")
            #expect(spec["imagePullSecrets"] == [["name": "registry-acme"]])
            // The alias Service serves the container's port on 80.
            let alias = try #require(try await h.get(.services, "default", "fields"))
            #expect(alias[path: "spec", "ports"]?.arrayValue?.first?["port"] == 80 && alias[path: "spec", "ports"]?.arrayValue?.first?["targetPort"] == "http")
        }
    }
}
