import GantryTestSupport
import Foundation
import KubeCore
import Testing
@testable import EmbeddedCluster

/// The embedded cluster as real kubectl sees it.
@Suite(.serialized)
struct KubectlTests {
    init() throws { try Prerequisite.kubectl() }

    @Test func getNamespacesPrintsColumns() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let r = await t.kubectl("get", "namespaces")
            #expect(r.ok, "\(r.stderr)")
            #expect(r.stdout.contains("NAME"))
            #expect(r.stdout.contains("STATUS"))
            #expect(r.stdout.contains("AGE"))
            #expect(r.stdout.contains("kube-system"))
            #expect(r.stdout.contains("Active"))
            let sa = await t.kubectl("get", "serviceaccounts", "-n", "default", "-o", "name")
            #expect(sa.stdout.contains("serviceaccount/default"))
            let svc = await t.kubectl("get", "svc", "kubernetes")
            #expect(svc.stdout.contains("10.96.0.1"))
            #expect(svc.stdout.contains("443/TCP"))
            let resources = await t.kubectl("api-resources")
            #expect(resources.stdout.contains("customresourcedefinitions"))
            #expect(resources.stdout.contains("daemonsets"))
        }
    }

    /// Annotations as kube-apiserver's ValidateAnnotations: qualified-name keys, at most 256 KiB in all; the 422
    /// as the installed kubectl, 1.27 and 1.33 show it.
    @Test func annotationsAreLimitedTo256KiBWithQualifiedKeys() async throws {
        let kubectls = [TestCluster.kubectlPath] + (try Prerequisite.kubectl127And133())
        try await withCluster(TestCluster.bare()) { t async throws in
            func configMap(_ name: String, _ annotations: String) -> String {
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \(name)\n  annotations:\n\(annotations)\n"
            }
            let fits = String(repeating: "a", count: 262_144 - 4)  // key "note" + value: exactly the limit
            for (i, kubectl) in kubectls.enumerated() {
                var r = await t.kubectl(release: kubectl, "create", "-f", "-", stdin: configMap("at-limit-\(i)", "    note: \(fits)"))
                #expect(r.ok, "\(kubectl): \(r.stderr)")
                r = await t.kubectl(release: kubectl, "create", "-f", "-", stdin: configMap("over-limit-\(i)", "    note: \(fits)b"))
                #expect(!r.ok && r.stderr.contains(#"The ConfigMap "over-limit-\#(i)" is invalid: metadata.annotations: Too long: may not be more than 262144 bytes"#),
                        "\(kubectl): \(r.stderr)")
                r = await t.kubectl(release: kubectl, "create", "-f", "-", stdin: configMap("bad-key-\(i)", "    \"bad key!\": x"))
                #expect(!r.ok && r.stderr.contains("metadata.annotations: Invalid value: \"bad key!\""), "\(kubectl): \(r.stderr)")
                // An update over the limit is refused as a create is.
                r = await t.kubectl(release: kubectl, "annotate", "configmap", "at-limit-\(i)", "more=x")
                #expect(!r.ok && r.stderr.contains("metadata.annotations: Too long: may not be more than 262144 bytes"), "\(kubectl): \(r.stderr)")
                #expect(await t.curl("GET", "/api/v1/namespaces/default/configmaps/over-limit-\(i)").0 == 404)
            }
        }
    }

    /// Pod env names as kube-apiserver 1.32 validates them (relaxed: printable ASCII but '='); the 422 as the
    /// installed kubectl, 1.27 and 1.33 show it.
    @Test func podEnvironmentVariableNamesAreValidated() async throws {
        let kubectls = [TestCluster.kubectlPath] + (try Prerequisite.kubectl127And133())
        try await withCluster(TestCluster.bare()) { t async throws in
            func pod(_ name: String, env: String) -> String {
                "apiVersion: v1\nkind: Pod\nmetadata: {name: \(name)}\nspec:\n  containers:\n  - name: main\n    image: busybox\n    env:\n\(env)\n"
            }
            for (i, kubectl) in kubectls.enumerated() {
                // (`value: y` would be YAML 1.1's true for kubectl, refused before validation: a bool is no string.)
                var r = await t.kubectl(release: kubectl, "create", "-f", "-", stdin: pod("bad-\(i)", env: "    - {name: OK, value: x}\n    - {name: 'bad name=', value: z}"))
                #expect(!r.ok && r.stderr.contains(#"The Pod "bad-\#(i)" is invalid: spec.containers[0].env[1].name: Invalid value: "bad name=": a valid environment variable name must consist only of printable ASCII characters other than '='"#),
                        "\(kubectl): \(r.stderr)")
                r = await t.kubectl(release: kubectl, "create", "-f", "-", stdin: pod("relaxed-\(i)", env: "    - {name: 'my.env-name 1', value: x}"))
                #expect(r.ok, "\(kubectl): \(r.stderr)")
                #expect(await t.curl("GET", "/api/v1/namespaces/default/pods/bad-\(i)").0 == 404)
            }
        }
    }

    /// Path segments are percent-decoded, as Go's net/http decodes them for kube-apiserver.
    @Test func percentEncodedNamesAreDecoded() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let r = await t.kubectl("create", "configmap", "yamlcm", "--from-literal=a=b")
            #expect(r.ok, "\(r.stderr)")
            let (code, body) = await t.curl("GET", "/api/v1/namespaces/default/configmaps/yaml%63m")
            #expect(code == 200 && (try? JSONValue.parse(body))?.name == "yamlcm", "\(code) \(body)")
        }
    }

    /// A ConfigMap holds at most 1 MiB of data, as kube-apiserver's ValidateConfigMap; updates are held to it too.
    @Test func configMapsHoldAtMostOneMiB() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let fits = String(repeating: "x", count: 1_048_576 - 1)  // key "a" + value: exactly the limit
            var (code, body) = await t.curl("POST", "/api/v1/namespaces/default/configmaps",
                                            body: #"{"metadata":{"name":"big"},"data":{"a":"\#(fits)"}}"#)
            #expect(code == 201, "\(body.prefix(300))")
            (code, body) = await t.curl("POST", "/api/v1/namespaces/default/configmaps",
                                        body: #"{"metadata":{"name":"too-big"},"data":{"a":"\#(fits)y"}}"#)
            #expect(code == 422 && body.contains("Too long: may not be more than 1048576 bytes"), "\(code) \(body.prefix(300))")
            (code, body) = await t.curl("PATCH", "/api/v1/namespaces/default/configmaps/big", body: #"{"data":{"b":"1"}}"#,
                                        contentType: "application/merge-patch+json")
            #expect(code == 422, "\(code) \(body.prefix(300))")
            // What a user sees: `kubectl create configmap --from-file` of a file one byte over, with the installed
            // kubectl, 1.27 and 1.33; nothing refused is stored.
            let file = t.dir + "/too-big.txt"
            try Data((fits + "y").utf8).write(to: URL(fileURLWithPath: file))
            for (i, kubectl) in ([TestCluster.kubectlPath] + (try Prerequisite.kubectl127And133())).enumerated() {
                let r = await t.kubectl(release: kubectl, "create", "configmap", "over-\(i)", "--from-file=a=\(file)")
                #expect(!r.ok && r.stderr.contains("Too long: may not be more than 1048576 bytes"), "\(kubectl): \(r.stderr.prefix(400))")
                #expect(await t.curl("GET", "/api/v1/namespaces/default/configmaps/over-\(i)").0 == 404)
            }
        }
    }

    /// A create in a media type kube-apiserver does not decode is answered 415, naming the ones it does.
    @Test func unknownBodyMediaTypesAre415() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let (code, body) = await t.curl("POST", "/api/v1/namespaces/default/configmaps",
                                            body: #"{"metadata":{"name":"plain"}}"#, contentType: "text/plain")
            #expect(code == 415 && body.contains("accepted media types include: application/json, application/yaml"), "\(code) \(body)")
            #expect(await t.curl("GET", "/api/v1/namespaces/default/configmaps/plain").0 == 404)
        }
    }

    /// With TLS the kubeconfig carries the CA and kubectl sends the token; requests without it are refused.
    @Test func httpsWithTokenAuth() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(tls: true))) { t async throws in
            #expect(t.cluster.url.hasPrefix("https://127.0.0.1:"))
            var r = await t.kubectl("get", "namespaces")
            #expect(r.ok, "\(r.stderr)")
            #expect(r.stdout.contains("kube-system"))
            r = await t.kubectl("apply", "-f", "-", stdin: trainingJobCRD)
            #expect(r.ok, "\(r.stderr)")
            // The watch ends when the server ends it, after the change (not when a short timeout runs out); the
            // request timeout is only the outer bound.
            let watch = Task { await t.kubectl("get", "configmaps", "--watch", "--output-watch-events", "--request-timeout=120s") }
            let open = try await eventually { await t.cluster.store.openWatchCount > 0 }
            #expect(open)
            _ = await t.kubectl("apply", "-f", "-", stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tls}\n")
            await t.cluster.dropWatches()  // every event committed before is written first
            #expect(await watch.value.stdout.contains("ADDED"))
            var (code, _) = await t.curl("GET", "/api/v1/namespaces")
            #expect(code == 200)
            let anonymous = await runProcess("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", t.dir + "/ca.crt",
                                                               t.cluster.url + "/api/v1/namespaces"])
            #expect(anonymous.stdout == "401")
            (code, _) = await t.curl("GET", "/api/v1/namespaces", token: "wrong")
            #expect(code == 401)
            try await t.cluster.restart()
            r = await t.kubectl("get", "configmap", "tls")
            #expect(r.ok, "\(r.stderr)")
        }
    }

    /// kubectl 1.27–1.33 (1.27/1.28 read OpenAPI v2 protobuf, later ones v3) apply, validate and print alike.
    @Test func olderKubectlVersions() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let versions = try Prerequisite.kubectlReleases(["1.27", "1.28", "1.29", "1.30", "1.31", "1.33"])
            for (i, kubectl) in versions.enumerated() {
                func run(_ args: String..., stdin: String? = nil) async -> CommandResult {
                    await runProcess(kubectl, ["--kubeconfig", t.kubeconfig, "--cache-dir", t.dir + "/cache-\(i)"] + args, stdin: stdin,
                                     environment: ["HOME": t.dir, "PATH": "/usr/bin:/bin"])
                }
                var r = await run("apply", "-f", "-", stdin: trainingJobCRD)
                #expect(r.ok, "\(kubectl): \(r.stderr)")
                r = await run("apply", "-f", "-", stdin: "apiVersion: gantry.dev/v1\nkind: TrainingJob\nmetadata: {name: v\(i)}\nspec: {replicas: 1}\n")
                #expect(r.ok, "\(kubectl): \(r.stderr)")
                r = await run("apply", "-f", "-", stdin: "apiVersion: gantry.dev/v1\nkind: TrainingJob\nmetadata: {name: v\(i)}\nspec: {replicas: 1, bogus: 1}\n")
                #expect(r.stderr.contains(#"unknown field "spec.bogus""#), "\(kubectl): \(r.stderr)")
                r = await run("get", "tj", "v\(i)")
                #expect(r.stdout.contains("REPLICAS"), "\(kubectl): \(r.stdout)")
            }
        }
    }

    @Test func clientSideApplyThenServerSideApply() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let cm = """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: settings, labels: {app: demo}}
                data: {mode: fast}
                """
            var r = await t.kubectl("apply", "-f", "-", stdin: cm)
            #expect(r.ok, "\(r.stderr)")
            #expect(r.stdout.contains("configmap/settings created"))
            r = await t.kubectl("apply", "-f", "-", stdin: cm.replacingOccurrences(of: "fast", with: "slow"))
            #expect(r.stdout.contains("configmap/settings configured"), "\(r.stdout) \(r.stderr)")
            r = await t.kubectl("get", "configmap", "settings", "-o", "json")
            let obj = try JSONValue.parse(r.stdout)
            #expect(obj[path: "data", "mode"] == "slow")
            #expect(obj.annotations["kubectl.kubernetes.io/last-applied-configuration"] != nil)
            r = await t.kubectl("apply", "--server-side", "-f", "-", stdin: cm.replacingOccurrences(of: "fast", with: "eager"))
            #expect(r.ok, "\(r.stderr)")
            #expect(r.stdout.contains("serverside-applied"))
            r = await t.kubectl("get", "configmap", "settings", "-o", "jsonpath={.data.mode}")
            #expect(r.stdout == "eager")
            // Another manager changing a field the first one owns conflicts without --force-conflicts.
            r = await t.kubectl("apply", "--server-side", "--field-manager", "other", "-f", "-", stdin: cm.replacingOccurrences(of: "fast", with: "lazy"))
            #expect(!r.ok)
            #expect(r.stderr.contains("conflict"), "\(r.stderr)")
            r = await t.kubectl("apply", "--server-side", "--field-manager", "other", "--force-conflicts", "-f", "-",
                                stdin: cm.replacingOccurrences(of: "fast", with: "lazy"))
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("get", "configmap", "settings", "-o", "yaml")
            #expect(r.stdout.contains("mode: lazy"))
        }
    }

    @Test func customResourceDefinitionRoundTrip() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var r = await t.kubectl("apply", "-f", "-", stdin: trainingJobCRD)
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("wait", "--for=condition=Established", "crd/trainingjobs.gantry.dev", "--timeout=10s")
            #expect(r.ok, "\(r.stderr)")
            let job = """
                apiVersion: gantry.dev/v1
                kind: TrainingJob
                metadata: {name: resnet}
                spec: {replicas: 2, image: "pytorch:2.4"}
                """
            r = await t.kubectl("apply", "-f", "-", stdin: job)
            #expect(r.ok, "\(r.stderr)")
            #expect(r.stdout.contains("trainingjob.gantry.dev/resnet created"))
            r = await t.kubectl("get", "tj")
            #expect(r.stdout.contains("REPLICAS"), "\(r.stdout)")
            #expect(r.stdout.contains("resnet"))
            r = await t.kubectl("get", "gantry")  // category
            #expect(r.stdout.contains("resnet"), "\(r.stdout) \(r.stderr)")
            // Status subresource: main-resource writes ignore status, /status writes change only status.
            r = await t.kubectl("patch", "tj", "resnet", "--subresource=status", "--type=merge",
                                "-p", #"{"status":{"conditions":[{"type":"Ready","status":"True"}]}}"#)
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("get", "tj", "resnet")
            #expect(r.stdout.contains("True"), "\(r.stdout)")
            r = await t.kubectl("scale", "tj", "resnet", "--replicas=4")
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("get", "tj", "resnet", "-o", "json")
            let obj = try JSONValue.parse(r.stdout)
            #expect(obj[path: "spec", "replicas"] == 4)
            #expect(obj.generation == 2)
            r = await t.kubectl("describe", "tj", "resnet")
            #expect(r.ok, "\(r.stderr)")
            // The spec as describe prints it: "Replicas:  4" (the padding depends on the longest key beside it).
            #expect(r.stdout.range(of: #"(?m)^\s*Replicas:\s+4\s*$"#, options: .regularExpression) != nil, "\(r.stdout)")
            r = await t.kubectl("delete", "tj", "resnet")
            #expect(r.ok, "\(r.stderr)")
            // Strategic merge is not defined for custom resources.
            let (code, body) = await t.curl("PATCH", "/apis/gantry.dev/v1/namespaces/default/trainingjobs/x", body: "{}",
                                            contentType: "application/strategic-merge-patch+json")
            #expect(code == 415, "\(body)")
            // Deleting the CRD stops serving its kinds.
            r = await t.kubectl("delete", "crd", "trainingjobs.gantry.dev")
            #expect(r.ok, "\(r.stderr)")
            let gone = await t.curl("GET", "/apis/gantry.dev/v1/namespaces/default/trainingjobs")
            #expect(gone.0 == 404)
        }
    }

    @Test func customResourceValidationAndStrictFields() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var r = await t.kubectl("apply", "-f", "-", stdin: trainingJobCRD)
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("apply", "-f", "-", stdin: "apiVersion: gantry.dev/v1\nkind: TrainingJob\nmetadata: {name: bad}\nspec: {replicas: 0}\n")
            #expect(!r.ok)
            #expect(r.stderr.contains("spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1"), "\(r.stderr)")
            // kubectl validates on the server (fieldValidation=Strict): unknown fields are refused...
            r = await t.kubectl("apply", "-f", "-", stdin: "apiVersion: gantry.dev/v1\nkind: TrainingJob\nmetadata: {name: extra}\nspec: {replicas: 1, colour: red}\n")
            #expect(!r.ok)
            #expect(r.stderr.contains(#"unknown field "spec.colour""#), "\(r.stderr)")
            // ...and pruned with a warning under --validate=warn.
            r = await t.kubectl("apply", "--validate=warn", "-f", "-", stdin: "apiVersion: gantry.dev/v1\nkind: TrainingJob\nmetadata: {name: extra}\nspec: {replicas: 1, colour: red}\n")
            #expect(r.ok, "\(r.stderr)")
            #expect(r.stderr.contains("unknown field"), "\(r.stderr)")
            let stored = await t.cluster.store.get("trainingjobs.gantry.dev", namespace: "default", name: "extra")
            #expect(stored?[path: "spec", "colour"] == nil)
            #expect(stored?[path: "spec", "replicas"] == 1)
            // Server-side apply validates the merged object.
            r = await t.kubectl("apply", "--server-side", "-f", "-", stdin: "apiVersion: gantry.dev/v1\nkind: TrainingJob\nmetadata: {name: extra}\nspec: {replicas: -1}\n")
            #expect(!r.ok)
            #expect(r.stderr.contains("greater than or equal to 1"), "\(r.stderr)")
        }
    }

    @Test func finalizerKeepsObjectUntilRemoved() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let cm = """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: guarded, finalizers: [gantry.dev/cleanup]}
                """
            var r = await t.kubectl("apply", "-f", "-", stdin: cm)
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("delete", "configmap", "guarded", "--wait=false")
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("get", "configmap", "guarded", "-o", "jsonpath={.metadata.deletionTimestamp}")
            #expect(!r.stdout.isEmpty, "object should stay with a deletionTimestamp")
            // No new finalizer once deleting.
            r = await t.kubectl("patch", "configmap", "guarded", "--type=json",
                                "-p", #"[{"op":"add","path":"/metadata/finalizers/-","value":"other/f"}]"#)
            #expect(!r.ok)
            #expect(r.stderr.contains("no new finalizers can be added if the object is being deleted"), "\(r.stderr)")
            // A guarded JSON patch removes ours; then the object is gone.
            r = await t.kubectl("patch", "configmap", "guarded", "--type=json",
                                "-p", #"[{"op":"test","path":"/metadata/finalizers/0","value":"gantry.dev/cleanup"},{"op":"remove","path":"/metadata/finalizers/0"}]"#)
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("get", "configmap", "guarded")
            #expect(!r.ok)
            #expect(r.stderr.contains(#"configmaps "guarded" not found"#), "\(r.stderr)")
        }
    }

    /// kubectl's typed create commands send protobuf bodies.
    @Test func imperativeCreateCommands() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            for args in [["create", "configmap", "c1", "--from-literal=a=b"], ["create", "secret", "generic", "s1", "--from-literal=p=q"],
                         ["create", "namespace", "team"], ["create", "serviceaccount", "robot"],
                         ["create", "service", "clusterip", "web", "--tcp=80:8080"],
                         ["run", "nginx", "--image=nginx", "--env=A=B", "--port=80"]] {
                let r = await t.kubectl(args: args)
                #expect(r.ok, "\(args): \(r.stderr)")
            }
            var r = await t.kubectl("get", "configmap", "c1", "-o", "jsonpath={.data.a}")
            #expect(r.stdout == "b")
            r = await t.kubectl("get", "secret", "s1", "-o", "jsonpath={.data.p}")
            #expect(r.stdout == "cQ==")
            r = await t.kubectl("get", "service", "web")
            #expect(r.stdout.contains("80/TCP"), "\(r.stdout)")
            r = await t.kubectl("get", "pod", "nginx", "-o", "jsonpath={.spec.containers[0].image} {.spec.containers[0].env[0].value}")
            #expect(r.stdout == "nginx B")
            #expect(await t.cluster.store.get("serviceaccounts", namespace: "team", name: "default") != nil)
        }
    }

    @Test func serverDryRunWritesNothing() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var r = await t.kubectl("apply", "--dry-run=server", "-f", "-", stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry}\n")
            #expect(r.ok, "\(r.stderr)")
            #expect(r.stdout.contains("server dry run"), "\(r.stdout)")
            r = await t.kubectl("get", "configmap", "dry")
            #expect(!r.ok)
        }
    }

    @Test func invalidObjectAnswers422() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let bad = """
                apiVersion: apiextensions.k8s.io/v1
                kind: CustomResourceDefinition
                metadata: {name: things.example.com}
                spec:
                  group: example.com
                  scope: Sideways
                  names: {plural: things, kind: Thing}
                  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
                """
            let r = await t.kubectl("apply", "-f", "-", stdin: bad)
            #expect(!r.ok)
            #expect(r.stderr.contains(#"is invalid: spec.scope: Unsupported value: "Sideways""#), "\(r.stderr)")
            // The raw Status carries kube-apiserver's message and one cause per field.
            let (code, body) = await t.curl("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                                            body: #"{"metadata":{"name":"things.example.com"},"spec":{"group":"example.com","scope":"Sideways","names":{"plural":"things","kind":"Thing"},"versions":[{"name":"v1","served":true,"storage":true}]}}"#)
            #expect(code == 422)
            let status = try JSONValue.parse(body)
            #expect(status["message"] == #"CustomResourceDefinition.apiextensions.k8s.io "things.example.com" is invalid: spec.scope: Unsupported value: "Sideways": supported values: "Cluster", "Namespaced""#)
            #expect(status[path: "details", "causes"]?.arrayValue?.first?["field"] == "spec.scope")
        }
    }

    @Test func podsTableLogsAndStrategicMerge() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let pod = """
                apiVersion: v1
                kind: Pod
                metadata: {name: web, labels: {app: web}}
                spec:
                  containers:
                  - {name: main, image: nginx, env: [{name: A, value: "1"}]}
                  - {name: side, image: busybox}
                """
            var r = await t.kubectl("apply", "-f", "-", stdin: pod)
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("get", "pods")
            #expect(r.stdout.contains("READY"))
            #expect(r.stdout.contains("0/2"))
            #expect(r.stdout.contains("Pending"))
            // Strategic merge: containers merge by name (an image is what a pod's spec lets change after creation).
            r = await t.kubectl("patch", "pod", "web", "-p", #"{"spec":{"containers":[{"name":"side","image":"busybox:1.37"}]}}"#)
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("get", "pod", "web", "-o", "json")
            let obj = try JSONValue.parse(r.stdout)
            let containers = obj[path: "spec", "containers"]?.arrayValue ?? []
            #expect(containers.count == 2)
            #expect(containers.first?["env"]?.arrayValue?.count == 1 && containers.first?["image"] == "nginx")
            #expect(containers.last?["image"] == "busybox:1.37")
            // Logs fed by the simulation hook.
            await t.cluster.logs.append(namespace: "default", pod: "web", container: "main", line: "hello")
            await t.cluster.logs.append(namespace: "default", pod: "web", container: "main", line: "world")
            r = await t.kubectl("logs", "web", "-c", "main")
            #expect(r.stdout == "hello\nworld\n", "\(r.stdout) \(r.stderr)")
            let (code, body) = await t.curl("GET", "/api/v1/namespaces/default/pods/web/log")
            #expect(code == 400)
            #expect(body.contains("a container name must be specified for pod web, choose one of: [main side]"), "\(body)")
            // `--since` is sinceSeconds; with sinceTime as well the request is refused.
            r = await t.kubectl("logs", "web", "-c", "main", "--since=1h")
            #expect(r.stdout == "hello\nworld\n", "\(r.stdout) \(r.stderr)")
            let (both, bothBody) = await t.curl("GET", "/api/v1/namespaces/default/pods/web/log?container=main&sinceSeconds=60&sinceTime=2026-01-01T00:00:00Z")
            #expect(both == 400 && bothBody.contains("at most one of sinceTime or sinceSeconds"), "\(both) \(bothBody)")
            // Follow streams until the container's log ends.
            let follow = Task { await t.kubectl("logs", "-f", "web", "-c", "main") }
            let following = try await eventually { await t.cluster.logs.followerCount(namespace: "default", pod: "web", container: "main") == 1 }
            #expect(following)
            await t.cluster.logs.append(namespace: "default", pod: "web", container: "main", line: "later")
            await t.cluster.logs.end(namespace: "default", pod: "web", container: "main")
            let followed = await follow.value
            #expect(followed.stdout.hasSuffix("later\n"), "\(followed.stdout) \(followed.stderr)")
            // A follower asked for timestamps gets them on lines written after it attached too.
            let stamped = Task { await t.kubectl("logs", "-f", "--timestamps", "web", "-c", "side") }
            #expect(try await eventually { await t.cluster.logs.followerCount(namespace: "default", pod: "web", container: "side") == 1 })
            await t.cluster.logs.append(namespace: "default", pod: "web", container: "side", line: "fresh")
            await t.cluster.logs.end(namespace: "default", pod: "web", container: "side")
            let stampedOut = await stamped.value.stdout
            #expect(stampedOut.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z fresh\n$"#, options: .regularExpression) != nil, "\(stampedOut)")
            r = await t.kubectl("describe", "pod", "web")
            #expect(r.ok, "\(r.stderr)")
            #expect(r.stdout.contains("Name:"))
        }
    }

    @Test func garbageCollectionOfOwnedObjects() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var r = await t.kubectl("apply", "-f", "-", stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: owner}\n")
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("get", "configmap", "owner", "-o", "jsonpath={.metadata.uid}")
            let uid = r.stdout
            let child = """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: child
                  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: owner, uid: \(uid), controller: true, blockOwnerDeletion: true}]
                """
            r = await t.kubectl("apply", "-f", "-", stdin: child)
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("delete", "configmap", "owner")
            #expect(r.ok, "\(r.stderr)")
            let collected = try await eventually {
                await t.cluster.store.get("configmaps", namespace: "default", name: "child") == nil
            }
            #expect(collected)
        }
    }

    @Test func watchStreamsEvents() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let watch = Task { await t.kubectl("get", "configmaps", "--watch", "--output-watch-events", "--request-timeout=120s") }
            // Wait until the watch is open, then change things; then the server ends the watch (every event
            // committed before is written first), so kubectl exits after the changes, not at a timeout.
            let open = try await eventually { await t.cluster.store.openWatchCount > 0 }
            #expect(open)
            _ = await t.kubectl("apply", "-f", "-", stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: watched}\n")
            _ = await t.kubectl("delete", "configmap", "watched")
            await t.cluster.dropWatches()
            let r = await watch.value
            #expect(r.stdout.contains("ADDED"), "\(r.stdout) \(r.stderr)")
            #expect(r.stdout.contains("DELETED"), "\(r.stdout)")
        }
    }
}
