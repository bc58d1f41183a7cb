import EmbeddedCluster
import Foundation
import GantryAPI
import GantryTestSupport
import KubeClient
import KubeCore
import Testing

/// deploy/rbac.yaml is exactly what the operator calls (issue #8, item 13): `gantry controller` runs a
/// representative workload as its ServiceAccount, with the embedded cluster enforcing deploy/rbac.yaml, and the
/// request log shows every request it made. Each must be granted (and none refused), and each verb granted must
/// have been used or be listed below with the reason this test cannot exercise it.
@Suite(.serialized)
struct RBACTests {
    init() throws {
        _ = try Prerequisite.gantryBinary(repoRoot: OperatorHarness.repoRoot)
        try Prerequisite.kubectl()
    }

    static let serviceAccount = "gantry-controller"
    static let namespace = "gantry-system"
    static let user = "system:serviceaccount:\(namespace):\(serviceAccount)"

    /// Granted but not exercised here, each with why (none: every grant is used, and needed alone, by the scenario).
    static let unexercised: [RBACRules.Grant: String] = [:]

    static func job(_ name: String, _ spec: String, script: String) -> String {
        """
        apiVersion: gantry.dev/v1alpha1
        kind: TrainingJob
        metadata: {name: \(name), namespace: default}
        spec:
          image: trainer:1
          gpu: {count: 1}
        \(spec)  podMetadata:
            annotations:
              sim.gantry.dev/script: '\(script)'
        """
    }

    @Test func theOperatorUsesExactlyWhatDeployRBACGrants() async throws {
        let rbac = try RBACRules(yaml: String(contentsOfFile: OperatorHarness.repoRoot + "/deploy/rbac.yaml", encoding: .utf8),
                                 serviceAccount: Self.serviceAccount, namespace: Self.namespace)
        // Enforced by the server too: a request deploy/rbac.yaml does not allow is refused (403), as on a real cluster.
        var options = DevClusterOptions(tls: true)
        options.authorization = .rbac
        try await withCluster(TestCluster(options)) { cluster async throws in
            let admin = try KubeClient(config: KubeConfig.load(path: cluster.kubeconfig, environment: [:]))
            for args in [["apply", "-k", OperatorHarness.repoRoot + "/crds"], ["create", "namespace", Self.namespace],
                         ["wait", "--for=condition=Established", "--timeout=20s", "crd/trainingjobs.gantry.dev", "crd/platformconfigs.gantry.dev",
                          "crd/inferenceservices.gantry.dev", "crd/notebooks.gantry.dev", "crd/experiments.gantry.dev"],
                         ["apply", "-f", OperatorHarness.repoRoot + "/examples/platformconfig.yaml"],
                         ["apply", "-f", OperatorHarness.repoRoot + "/deploy/rbac.yaml"]] {
                let r = await cluster.kubectl(args: args)
                #expect(r.ok, "kubectl \(args): \(r.stderr)")
            }

            // The operator authenticates as its ServiceAccount, so the request log tells its requests apart.
            let token = "rbac-" + UUID().uuidString
            cluster.cluster.addToken(token, user: Self.user)
            let kubeconfig = cluster.dir + "/operator.kubeconfig"
            try cluster.cluster.kubeconfigYAML().replacingOccurrences(of: cluster.cluster.token, with: token)
                .write(toFile: kubeconfig, atomically: true, encoding: .utf8)
            let controller = try ControllerProcess(kubeconfig: kubeconfig, logPath: cluster.dir + "/controller.log",
                                                   ["--identity", "rbac-check", "--lease-namespace", Self.namespace])
            defer { controller.killIfRunning() }

            // A child the API server refuses (422) makes its job Invalid, read fresh from the server.
            cluster.cluster.failNextRequests(1, code: 422, target: FaultTarget(method: "POST", path: "/pods"))
            let refused = await cluster.kubectl(args: ["apply", "-f", "-"], stdin: Self.job("refused", "", script: "{logs: [\"training\"]}"))
            #expect(refused.ok, "\(refused.stderr)")
            #expect(try await eventually(timeout: .seconds(30)) {
                (try? await admin.get(.trainingJobs, namespace: "default", name: "refused"))?[path: "status", "phase"] == "Invalid"
            })

            // Then one job with TensorBoard, a node-cached dataset, metrics and a TTL (records, log reads, finalizer,
            // dataset sweep, TTL deletion); an MPI gang (hostfile, headless Service deleted when it finishes); a job
            // suspended and resumed (pods deleted, and a repeated event folded into a series).
            let metrics = "{logs: [{series: {every: 0.2s, count: 10, start: 1, step: 1, template: \"step={step} loss={loss}\", loss: {from: 1.0, to: 0.5, curve: linear}}}], exit: {code: 0}}"
            let manifests = [
                Self.job("solo", "  tensorboard: {logDir: /runs/solo}\n  dataset: {uri: s3://data/mnist, cache: node}\n  ttlSecondsAfterFinished: 2\n  metrics: {format: KeyValue, stepKey: step}\n", script: metrics),
                Self.job("ring", "  replicas: 2\n  distributed: {framework: mpi}\n", script: "{logs: [\"ring\"], exit: {code: 0, after: 4s}}"),
                Self.job("pausable", "", script: "{logs: [\"training\"]}"),
            ]
            for manifest in manifests {
                let r = await cluster.kubectl(args: ["apply", "-f", "-"], stdin: manifest)
                #expect(r.ok, "\(r.stderr)")
            }
            @Sendable func phase(_ name: String) async -> String? {
                (try? await admin.get(.trainingJobs, namespace: "default", name: name))?[path: "status", "phase"]?.stringValue
            }
            #expect(try await eventually(timeout: .seconds(60)) { try await admin.getOrNil(.pods, "default", "ring-1") != nil })
            // Children block their owner's deletion: the server's OwnerReferencesPermissionEnforcement asked for
            // update on trainingjobs/finalizers when the pod was created (API-SEMANTICS rule 33).
            let ringPod = try await admin.getOrNil(.pods, "default", "ring-1")
            #expect(ringPod?[path: "metadata", "ownerReferences"]?.arrayValue?.contains { $0["blockOwnerDeletion"] == true } == true)
            let ringCreate = cluster.cluster.requests().first { $0.user == Self.user && $0.method == "POST" && $0.path.hasSuffix("/namespaces/default/pods") && $0.code == 201 }
            #expect(ringCreate?.authorizations.contains { $0.resource == "trainingjobs" && $0.subresource == "finalizers" && $0.verb == "update" && $0.allowed } == true,
                    "\(ringCreate?.authorizations.map(\.description) ?? [])")
            #expect(try await admin.getOrNil(.configMaps, "default", "ring-hostfile") != nil, "the MPI hostfile")

            #expect(try await eventually(timeout: .seconds(30)) { await phase("pausable") == "Running" })
            _ = await cluster.kubectl("patch", "trainingjob", "pausable", "--type=merge", "-p", #"{"spec":{"suspend":true}}"#)
            #expect(try await eventually(timeout: .seconds(30)) {
                let pod = try await admin.getOrNil(.pods, "default", "pausable-0")
                return await phase("pausable") == "Suspended" && pod == nil
            })
            _ = await cluster.kubectl("patch", "trainingjob", "pausable", "--type=merge", "-p", #"{"spec":{"suspend":false}}"#)
            #expect(try await eventually(timeout: .seconds(30)) { await phase("pausable") == "Running" })

            #expect(try await eventually(timeout: .seconds(90)) {
                let soloGone = try await admin.getOrNil(.trainingJobs, "default", "solo") == nil
                let record = try await admin.getOrNil(.configMaps, "default", "solo-record")
                let datasetGone = ((try? await admin.list(.daemonSets, namespace: "default"))?.items.isEmpty) ?? false
                return soloGone && record != nil && datasetGone
            }, "solo finished, was deleted by its TTL, kept its record; its dataset cache was swept")
            #expect(try await eventually(timeout: .seconds(60)) {
                let service = try await admin.getOrNil(.services, "default", "ring")
                return await phase("ring") == "Succeeded" && service == nil
            }, "the MPI gang finished and its headless Service was deleted")

            // An InferenceService deployed, then swapped blue → green (alias and budget patched, pods created and
            // the previous colour's deleted after the window); its validation requests are a POST and a PUT
            // (services/proxy create and update).
            let serving = { (tag: String) in
                "apiVersion: gantry.dev/v1alpha1\nkind: InferenceService\nmetadata: {name: api, namespace: default}\nspec: {image: 'acme/llm-serving:\(tag)', rollout: {scaleDownDelaySeconds: 0, validation: {requests: [{method: POST, path: /v1/models, body: '{}'}, {method: PUT, path: /v1/models, body: '{}'}]}}}\n"
            }
            for tag in ["1", "2"] {
                let r = await cluster.kubectl(args: ["apply", "-f", "-"], stdin: serving(tag))
                #expect(r.ok, "\(r.stderr)")
                #expect(try await eventually(timeout: .seconds(60)) {
                    let s = try await admin.getOrNil(.inferenceServices, "default", "api")?["status"]
                    return s?[path: "activeRevision", "image"]?.stringValue == "acme/llm-serving:\(tag)" && s?["candidate"] == nil
                })
            }
            #expect(try await eventually(timeout: .seconds(30)) {
                let pods = try await admin.list(.pods, namespace: "default", options: ListOptions(labelSelector: "app.kubernetes.io/instance=api")).items
                return pods.count == 1 && pods.allSatisfy { $0.labels["gantry.dev/color"] == "green" }
            }, "the swap moved the alias and the previous colour's pod went")

            // A notebook: token Secret and workspace claim created, its activity probed through the service proxy
            // (the token read by GET), culled after 10 s idle.
            // Its GPU-utilisation probe (idle GPU) goes through the pod proxy.
            let notebook = """
            apiVersion: gantry.dev/v1alpha1
            kind: Notebook
            metadata: {name: nb, namespace: default}
            spec:
              image: jupyter/base-notebook:latest
              culling: {idleTimeoutSeconds: 10, checkPeriodSeconds: 1, probes: [{gpuUtilization: {}}]}
              podMetadata:
                annotations:
                  sim.gantry.dev/script: '{readyAfter: 1s, http: {"/api/status": {body: {last_activity: "{startTime}", connections: 0}}, "/api/kernels": {body: []}}, metrics: "DCGM_FI_DEV_GPU_UTIL{gpu=\\"0\\"} 0\\n"}'
            """
            let applied = await cluster.kubectl(args: ["apply", "-f", "-"], stdin: notebook)
            #expect(applied.ok, "\(applied.stderr)")
            #expect(try await eventually(timeout: .seconds(60)) {
                try await admin.getOrNil(.notebooks, "default", "nb")?[path: "status", "phase"] == "Culled"
            }, "the notebook ran and was culled")

            // An InferenceService whose model comes from solo's run: its record (solo itself is gone) read with a GET.
            let traced = "apiVersion: gantry.dev/v1alpha1\nkind: InferenceService\nmetadata: {name: traced, namespace: default}\nspec: {image: 'acme/llm-serving:1', model: {uri: 's3://models/solo', fromTrainingJob: solo}}\n"
            let tracedApplied = await cluster.kubectl(args: ["apply", "-f", "-"], stdin: traced)
            #expect(tracedApplied.ok, "\(tracedApplied.stderr)")
            #expect(try await eventually(timeout: .seconds(60)) {
                try await admin.getOrNil(.inferenceServices, "default", "traced")?[path: "status", "activeRevision", "source", "trainingJob"] == "solo"
            }, "the record of a finished, deleted run is a model source")

            // An Experiment: two trials created (TrainingJobs), suspended and resumed with a merge patch.
            let experiment = """
            apiVersion: gantry.dev/v1alpha1
            kind: Experiment
            metadata: {name: sweep, namespace: default}
            spec:
              algorithm: grid
              objective: {metric: loss}
              parameters: [{name: lr, type: categorical, values: ["0.1", "0.01"]}]
              template: {image: trainer:1, podMetadata: {annotations: {sim.gantry.dev/script: '\(metrics)'}}}
            """
            let sweep = await cluster.kubectl(args: ["apply", "-f", "-"], stdin: experiment)
            #expect(sweep.ok, "\(sweep.stderr)")
            #expect(try await eventually(timeout: .seconds(30)) { await phase("sweep-1") == "Running" })
            _ = await cluster.kubectl("patch", "experiment", "sweep", "--type=merge", "-p", #"{"spec":{"suspend":true}}"#)
            #expect(try await eventually(timeout: .seconds(30)) { await phase("sweep-1") == "Suspended" })
            _ = await cluster.kubectl("patch", "experiment", "sweep", "--type=merge", "-p", #"{"spec":{"suspend":false}}"#)
            #expect(try await eventually(timeout: .seconds(60)) {
                try await admin.getOrNil(.experiments, "default", "sweep")?[path: "status", "phase"] == "Succeeded"
            }, "the experiment ran both trials")

            // A child refused (422) of a Notebook, an InferenceService and an Experiment: each is marked Stalled from
            // a fresh read (get) of its owner. One namespace each, so each fault hits only its kind's first create.
            let refusals: [(namespace: String, child: String, type: ResourceType, manifest: String)] = [
                ("refused-notebook", "/secrets", .notebooks,
                 "apiVersion: gantry.dev/v1alpha1\nkind: Notebook\nmetadata: {name: nb, namespace: refused-notebook}\nspec: {image: 'jupyter/base-notebook:latest'}\n"),
                ("refused-serving", "/pods", .inferenceServices,
                 "apiVersion: gantry.dev/v1alpha1\nkind: InferenceService\nmetadata: {name: api, namespace: refused-serving}\nspec: {image: 'acme/llm-serving:1'}\n"),
                ("refused-sweep", "/trainingjobs", .experiments,
                 "apiVersion: gantry.dev/v1alpha1\nkind: Experiment\nmetadata: {name: sweep, namespace: refused-sweep}\nspec: {algorithm: grid, objective: {metric: loss}, parameters: [{name: lr, type: categorical, values: ['0.1']}], template: {image: 'trainer:1'}}\n"),
            ]
            for refusal in refusals {
                let created = await cluster.kubectl("create", "namespace", refusal.namespace)
                #expect(created.ok, "\(created.stderr)")
                cluster.cluster.failNextRequests(1, code: 422, target: FaultTarget(method: "POST", path: "/namespaces/\(refusal.namespace)\(refusal.child)"))
                let r = await cluster.kubectl(args: ["apply", "-f", "-"], stdin: refusal.manifest)
                #expect(r.ok, "\(r.stderr)")
            }
            for refusal in refusals {
                let name = refusal.type == .notebooks ? "nb" : refusal.type == .experiments ? "sweep" : "api"
                #expect(try await eventually(timeout: .seconds(30)) {
                    let conditions = try await admin.getOrNil(refusal.type, refusal.namespace, name)?[path: "status", "conditions"]?.arrayValue ?? []
                    return conditions.contains { $0["type"] == "Stalled" && $0["reason"] == "ChildRejected" }
                }, "\(refusal.type.kind) stalled by the refused child")
            }

            controller.signal(SIGTERM)  // releases the Lease: get and update
            #expect(await controller.waitForExit(timeout: 60) == 0)

            let requests = cluster.cluster.requests()
            #expect(requests.count < 5_000, "the request log is bounded at 5,000: none of the operator's requests may have been dropped")
            let operatorRequests = requests.filter { $0.user == Self.user }
            let nonResource = operatorRequests.filter { APIAccess($0) == nil }.map { "\($0.method) \($0.path)" }
            #expect(nonResource.isEmpty, "non-resource requests need nonResourceURLs rules: \(Set(nonResource))")
            // What each request asks (from its URL), and what admission asked the authorizer on its behalf.
            let accesses = Set(operatorRequests.compactMap(APIAccess.init) + operatorRequests.flatMap(\.authorizations).map { APIAccess($0) })
            let forbidden = operatorRequests.filter { $0.code == 403 }.map { "\($0.method) \($0.path)" }
            #expect(forbidden.isEmpty, "refused by the server's RBAC: \(Set(forbidden))")
            let denied = accesses.filter { rbac.granting($0).isEmpty }.map(\.description).sorted()
            #expect(denied.isEmpty, "requests deploy/rbac.yaml does not grant:\n\(denied.joined(separator: "\n"))")

            let used = Set(accesses.map { RBACRules.Grant(group: $0.group, resource: $0.resource, verb: $0.verb) })
            let unused = rbac.grants.subtracting(used).subtracting(Self.unexercised.keys).sorted()
            let usedList = used.sorted().map(\.description).joined(separator: ", ")
            #expect(unused.isEmpty, "granted but never used (remove them, or list why this test cannot exercise them):\n\(unused.map(\.description).joined(separator: "\n"))\nused: \(usedList)")
            let reasonedButMissing = Self.unexercised.keys.filter { !rbac.grants.contains($0) }
            #expect(reasonedButMissing.isEmpty, "listed as needed but not granted: \(reasonedButMissing)")
            // Sufficient and least per rule: each grant of each rule is the only one allowing some request, so
            // removing it would refuse that request (RBACAblationTests shows what the operator then does).
            let notNeeded = rbac.notSolelyNeeded(by: accesses).filter { entry in !Self.unexercised.keys.contains { entry.hasPrefix($0.description + " ") } }
            #expect(notNeeded.isEmpty, "grants no request needs alone:\n\(notNeeded.joined(separator: "\n"))")
        }
    }
}

extension KubeClient {
    /// The object, or nil when it is not there (or cannot be read).
    /// Nil only when the object is not found; any other failure is thrown.
    fileprivate func getOrNil(_ type: ResourceType, _ namespace: String?, _ name: String) async throws -> JSONValue? {
        try await getIfFound(type, namespace, name)
    }
}
