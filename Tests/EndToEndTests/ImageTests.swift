import EmbeddedCluster
import Foundation
import GantryTestSupport
import KubeCore
import KubeYAML
import Testing

/// The image and the Deployment that runs it (issue #13, "Install"): one image name from the Makefile to deploy/,
/// the runtime stage installing exactly what the binary links, the numeric non-root user, and the controller
/// running as deploy/ runs it: that user, every filesystem read-only, in the restricted Pod Security profile.
@Suite(.serialized)
struct ImageTests {
    init() throws {
        _ = try Prerequisite.gantryBinary(repoRoot: OperatorHarness.repoRoot)
        try Prerequisite.kubectl()
    }

    static let root = OperatorHarness.repoRoot

    static func file(_ path: String) throws -> String { try String(contentsOfFile: root + "/" + path, encoding: .utf8) }

    /// The first document of deploy/deployment.yaml, as JSON.
    static func deployment() throws -> JSONValue {
        guard let first = try YAML.parseDocuments(file("deploy/deployment.yaml")).first else { throw TestFailure("deploy/deployment.yaml is empty") }
        return first
    }

    @Test func oneImageNameFromTheMakefileToDeployAndTheRelease() async throws {
        let made = await runProcess("/usr/bin/make", ["-s", "-n", "-C", Self.root, "image"])
        #expect(made.ok, "\(made.stderr)")
        let built = try #require(made.stdout.split(separator: "\n").first.map(String.init))
        let deployment = try Self.deployment()
        let container = try #require(deployment[path: "spec", "template", "spec", "containers"]?.arrayValue?.first)
        let image = try #require(container["image"]?.stringValue)
        #expect(built == "docker build -t \(image) .", "make image builds what deploy/ runs: \(built) vs \(image)")
        let version = await runProcess(GantryBinary.path, ["version"])
        #expect(version.stdout == "gantry \(image.split(separator: ":").last ?? "")\n", "the tag is the release: \(version.stdout)")

        // The image's user is numeric and the one the pod runs as.
        let dockerfile = try Self.file("Dockerfile")
        let user = try #require(dockerfile.split(separator: "\n").last(where: { $0.hasPrefix("USER ") }).map { String($0.dropFirst(5)) })
        let pod = try #require(deployment[path: "spec", "template", "spec", "securityContext"])
        #expect(user == "\(pod["runAsUser"]?.intValue ?? -1):\(pod["runAsGroup"]?.intValue ?? -1)", "USER \(user) vs \(pod)")
        #expect((pod["runAsUser"]?.intValue ?? 0) > 0)
        #expect(dockerfile.contains("--static-swift-stdlib"))
    }

    /// The runtime stage's packages, against the binary's NEEDED entries: each library from a Debian package is
    /// installed there (or is part of every Debian image: the C and C++ runtimes), each one that is not (the
    /// Swift runtime, Foundation, Dispatch) is linked in by --static-swift-stdlib, and nothing else is installed
    /// but CA certificates.
    @Test func theRuntimeStageInstallsWhatTheBinaryLinks() async throws {
        _ = try Prerequisite.executable("/usr/bin/readelf", "readelf (`make test` installs the Debian package binutils)")
        let dockerfile = try Self.file("Dockerfile")
        let runtime = try #require(dockerfile.components(separatedBy: "\nFROM ").last)
        let install = try #require(runtime.range(of: "--no-install-recommends")).upperBound
        let listed = Set(runtime[install...].prefix(while: { $0 != "&" }).split(whereSeparator: { $0 == " " || $0 == "\\" || $0 == "\n" }).map(String.init))
        let dynamic = await runProcess("/usr/bin/readelf", ["-d", GantryBinary.path])
        #expect(dynamic.ok, "\(dynamic.stderr)")
        let needed = dynamic.stdout.split(separator: "\n").filter { $0.contains("(NEEDED)") }.compactMap { line -> String? in
            guard let open = line.firstIndex(of: "["), let close = line.lastIndex(of: "]") else { return nil }
            return String(line[line.index(after: open)..<close])
        }
        #expect(needed.contains("libcurl.so.4"), "\(needed)")
        let everywhere: Set<String> = ["libc6", "libstdc++6", "libgcc-s1"]  // essential in every Debian image
        var used: Set<String> = []
        for library in needed {
            let owner = await runProcess("/usr/bin/dpkg", ["-S", "*/" + library])
            if !owner.ok {
                #expect(library.hasPrefix("libswift") || library.hasPrefix("libFoundation") || library.hasPrefix("lib_Foundation")
                        || library.hasPrefix("libdispatch") || library.hasPrefix("libBlocksRuntime"),
                        "\(library) comes from no Debian package and is not the Swift runtime --static-swift-stdlib links in")
                continue
            }
            let package = String(owner.stdout.prefix(while: { $0 != ":" }))
            used.insert(package)
            #expect(everywhere.contains(package) || listed.contains(package), "\(library) needs the package \(package) in the runtime stage: \(listed)")
        }
        #expect(listed.subtracting(used).subtracting(["ca-certificates"]).isEmpty, "installed but not linked: \(listed.subtracting(used))")
    }

    /// deploy/namespace.yaml enforces the restricted profile, and the controller's pods created from the
    /// Deployment meet each of its checks (pod-security-admission's policy list for `restricted`, latest).
    @Test func theInstallNamespaceIsRestrictedAndItsPodsMeetTheProfile() async throws {
        try await withInstall(rbac: false) { t, _ async throws in
            let namespace = try await t.json("/api/v1/namespaces/gantry-system")
            #expect(namespace[path: "metadata", "labels", "pod-security.kubernetes.io/enforce"] == "restricted")
            let pods = try await InstallPathTests.controllerPods(t)
            #expect(pods.count == 2)
            for pod in pods { #expect(Self.restrictedViolations(pod).isEmpty, "\(pod.name ?? ""): \(Self.restrictedViolations(pod))") }
            // The checks can fail: a pod as most charts write one breaks several.
            let loose: JSONValue = ["spec": ["containers": [["name": "c", "image": "x", "securityContext": ["capabilities": ["add": ["NET_ADMIN"]]]]],
                                             "volumes": [["name": "h", "hostPath": ["path": "/"]]]]]
            #expect(Set(Self.restrictedViolations(loose)) == ["allowPrivilegeEscalation != false", "unrestricted capabilities",
                                                              "restricted volume types", "runAsNonRoot != true", "seccompProfile"])
        }
    }

    /// The controller as deploy/ runs it, with what the container runtime enforces done by the test: the pod's
    /// numeric user and group (setpriv), every mount read-only (readOnlyRootFilesystem; a mount namespace of its
    /// own, so the test's machine is untouched), the ServiceAccount files and variables the kubelet gives it, and
    /// RBAC enforced. It runs the README's example job to Succeeded and exits cleanly.
    @Test func theControllerRunsAsItsNonRootUserOnAReadOnlyRoot() async throws {
        for tool in ["/usr/bin/unshare", "/usr/bin/setpriv"] { _ = try Prerequisite.executable(tool, "\(tool) (Debian's util-linux)") }
        // A mount namespace and another user need root (CI and `make test` run as root, as on these machines).
        guard getuid() == 0 else { throw TestFailure("missing prerequisite: root, to run the controller in a read-only mount namespace as user 65532") }
        try await withInstall { t, _ async throws in
            let pod = try #require(try await InstallPathTests.controllerPods(t).first)
            let user = try #require(pod[path: "spec", "securityContext", "runAsUser"]?.intValue)
            let group = try #require(pod[path: "spec", "securityContext", "runAsGroup"]?.intValue)
            let container = try #require(pod[path: "spec", "containers"]?.arrayValue?.first)
            #expect(container[path: "securityContext", "readOnlyRootFilesystem"] == .bool(true))
            let folder = t.dir + "/serviceaccount"
            try await InstallPathTests.layOutServiceAccount(t, pod: pod, in: folder)
            let port = try #require(URL(string: t.cluster.url)?.port)
            var args = (container["args"]?.arrayValue ?? []).compactMap(\.stringValue).filter { !$0.hasPrefix("--health-port") }
            args += ["--health-port=0", "--health-host=127.0.0.1", "--service-account-dir=\(folder)"]
            // Every mount read-only, then proof that the root, /tmp and the test's own folder refuse a write, then
            // the pod's user runs gantry (exec: the process the test signals is gantry's).
            let script = """
                for m in $(awk '{print $5}' /proc/self/mountinfo | sort -u); do mount -o remount,bind,ro "$m" 2>/dev/null; done
                for d in / /tmp "$1"; do if (: > "$d/.gantry-rw-probe") 2>/dev/null; then echo "$d is writable" >&2; exit 97; fi; done
                shift
                exec /usr/bin/setpriv --reuid=\(user) --regid=\(group) --clear-groups "$@"
                """
            // A copy in the test's folder: the checkout may sit where user 65532 cannot reach (e.g. under /root).
            let binary = t.dir + "/gantry"
            try FileManager.default.copyItem(atPath: GantryBinary.path, toPath: binary)
            let controller = try ControllerProcess(executable: "/usr/bin/unshare",
                                                   arguments: ["--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh", t.dir, binary] + args,
                                                   environment: ["KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": String(port),
                                                                 "HOME": t.dir, "PATH": "/usr/bin:/bin"],
                                                   logPath: t.dir + "/controller.log")
            defer { controller.killIfRunning() }
            let r = await t.kubectl("apply", "-f", Self.root + "/examples/trainingjob-single-gpu.yaml")
            #expect(r.ok, "\(r.stderr)")
            let succeeded = try await eventually(timeout: .seconds(90)) {
                await t.kubectl("get", "trainingjob", "mnist-baseline", "-o", "jsonpath={.status.phase}").stdout == "Succeeded"
            }
            #expect(succeeded, "\(controller.output.suffix(3000))")
            // /proc/PID/status: "Uid:  real effective saved filesystem".
            let status = try String(contentsOfFile: "/proc/\(controller.process.processIdentifier)/status", encoding: .utf8)
            let uids = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }?.split(whereSeparator: \.isWhitespace).dropFirst().compactMap { Int64($0) }
            #expect(uids == [user, user, user, user], "runs as \(user): \(uids ?? [])")
            controller.signal(SIGTERM)
            #expect(await controller.waitForExit(timeout: 60) == 0, "\(controller.output.suffix(2000))")
            #expect(controller.errorLines.isEmpty, "\(controller.errorLines)")
            #expect(!FileManager.default.fileExists(atPath: t.dir + "/.gantry-rw-probe"))
        }
    }

    /// `--metrics-port` with the default `--metrics-host`: /metrics on 127.0.0.1 only (for a proxy in the pod such
    /// as kube-rbac-proxy), no longer on the health port, which keeps the probes.
    @Test func metricsCanListenOnLocalhostAlone() async throws {
        try await withCluster(TestCluster(DevClusterOptions(tls: true))) { t async throws in
            let applied = await t.kubectl("apply", "-k", Self.root + "/crds")
            #expect(applied.ok, "\(applied.stderr)")
            let controller = try ControllerProcess(arguments: ["controller", "--kubeconfig", t.kubeconfig, "--health-port=0", "--log-format=json",
                                                               "--lease-namespace=default", "--metrics-port=0"],
                                                   environment: nil, logPath: t.dir + "/controller.log")
            defer { controller.killIfRunning() }
            #expect(try await eventually(timeout: .seconds(30)) { controller.metricsPort != nil && controller.healthPort != nil },
                    "\(controller.output.suffix(2000))")
            let metrics = try #require(controller.metricsPort), health = try #require(controller.healthPort)
            func get(_ host: String, _ port: Int, _ path: String) async -> (code: String, body: String) {
                let r = await runProcess("/usr/bin/curl", ["-s", "-w", "\n%{http_code}", "--max-time", "5", "http://\(host):\(port)\(path)"])
                let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
                return (String(lines.last ?? ""), lines.dropLast().joined(separator: "\n"))
            }
            let scraped = await get("127.0.0.1", metrics, "/metrics")
            #expect(scraped.code == "200" && scraped.body.contains("gantry_build_info"), "\(scraped.code) \(scraped.body.prefix(300))")
            #expect(await get("127.0.0.1", health, "/metrics").code == "404")
            #expect(await get("127.0.0.1", health, "/healthz").code == "200")
            #expect(await get("127.0.0.1", metrics, "/healthz").code == "404")
            // Not on the machine's other addresses (curl answers 000: connection refused).
            let addresses = await runProcess("/usr/bin/hostname", ["-I"])
            let other = try #require(addresses.stdout.split(separator: " ").map(String.init).first { !$0.hasPrefix("127.") && !$0.contains(":") },
                                     "the machine has no non-loopback IPv4 address: \(addresses.stdout)")
            #expect(await get(other, metrics, "/metrics").code == "000")
            #expect(await get(other, health, "/healthz").code == "200", "the probes' listener binds every address (the kubelet probes the pod's IP)")
            controller.signal(SIGTERM)
            #expect(await controller.waitForExit(timeout: 60) == 0, "\(controller.output.suffix(2000))")
        }
    }

    /// examples/metrics-proxy: the install with kube-rbac-proxy in the controller's pod. It rolls out in the restricted
    /// namespace (both containers meet the profile), the controller's args are deploy/'s plus --metrics-port, the
    /// proxy's upstream is that port on 127.0.0.1 (the default --metrics-host), and the ServiceAccount may make the
    /// reviews the proxy makes. (The proxy itself is not run: the simulated kubelet runs no image.)
    @Test func theMetricsProxyOverlayInstallsInTheRestrictedNamespace() async throws {
        try await withInstall("examples/metrics-proxy") { t, _ async throws in
            let pods = try await InstallPathTests.controllerPods(t)
            #expect(pods.count == 2)
            let base = try Self.deployment()[path: "spec", "template", "spec", "containers"]?.arrayValue?.first?["args"]?.arrayValue ?? []
            for pod in pods {
                #expect(Self.restrictedViolations(pod).isEmpty, "\(pod.name ?? ""): \(Self.restrictedViolations(pod))")
                let containers = pod[path: "spec", "containers"]?.arrayValue ?? []
                #expect(containers.compactMap { $0["name"]?.stringValue } == ["controller", "kube-rbac-proxy"])
                let args = containers.first?["args"]?.arrayValue ?? []
                #expect(args == base + ["--metrics-port=8080"], "\(args) vs deploy/'s \(base)")
                let proxy = containers.last?["args"]?.arrayValue ?? []
                #expect(proxy.contains("--upstream=http://127.0.0.1:8080/"), "\(proxy)")
            }
            let r = await t.kubectl("create", "token", "gantry-controller", "-n", "gantry-system")
            let token = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            // Asked as a SelfSubjectAccessReview with the group set (kubectl auth can-i cannot: the embedded cluster
            // serves neither review, so kubectl's discovery cannot map their names to groups).
            for (group, resource) in [("authentication.k8s.io", "tokenreviews"), ("authorization.k8s.io", "subjectaccessreviews")] {
                let review = #"{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"group":"\#(group)","resource":"\#(resource)","verb":"create"}}}"#
                let asked = await runProcess("/usr/bin/curl", ["-s", "--cacert", t.caFile, "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json",
                                                               "-d", review, t.cluster.url + "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"])
                #expect((try? JSONValue.parse(asked.stdout))?[path: "status", "allowed"] == .bool(true), "\(resource): \(asked.stdout)")
            }
        }
    }

    /// The restricted profile's checks a pod fails, named as `kubectl` warnings name them.
    static func restrictedViolations(_ pod: JSONValue) -> [String] {
        let spec = pod["spec"] ?? [:]
        let containers = (spec["containers"]?.arrayValue ?? []) + (spec["initContainers"]?.arrayValue ?? [])
        func each(_ test: (JSONValue) -> Bool) -> Bool { containers.allSatisfy(test) }
        var failed: [String] = []
        if spec["hostNetwork"] == .bool(true) || spec["hostPID"] == .bool(true) || spec["hostIPC"] == .bool(true) { failed.append("host namespaces") }
        if !each({ $0[path: "securityContext", "privileged"] != .bool(true) }) { failed.append("privileged") }
        if !each({ ($0["ports"]?.arrayValue ?? []).allSatisfy { ($0["hostPort"]?.intValue ?? 0) == 0 } }) { failed.append("hostPort") }
        let allowedVolumes: Set<String> = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret", "name"]
        if !(spec["volumes"]?.arrayValue ?? []).allSatisfy({ Set($0.objectValue?.keys.map { $0 } ?? []).isSubset(of: allowedVolumes) }) {
            failed.append("restricted volume types")
        }
        if !each({ $0[path: "securityContext", "allowPrivilegeEscalation"] == .bool(false) }) { failed.append("allowPrivilegeEscalation != false") }
        if !each({ c in
            let caps = c[path: "securityContext", "capabilities"]
            let drops = (caps?["drop"]?.arrayValue ?? []).contains("ALL")
            let adds = (caps?["add"]?.arrayValue ?? []).allSatisfy { $0 == "NET_BIND_SERVICE" }
            return drops && adds
        }) { failed.append("unrestricted capabilities") }
        let podNonRoot = spec[path: "securityContext", "runAsNonRoot"] == .bool(true)
        if !each({ c in c[path: "securityContext", "runAsNonRoot"] == .bool(true) || (podNonRoot && c[path: "securityContext", "runAsNonRoot"] == nil) }) {
            failed.append("runAsNonRoot != true")
        }
        if spec[path: "securityContext", "runAsUser"]?.intValue == 0 || !each({ $0[path: "securityContext", "runAsUser"]?.intValue != 0 }) {
            failed.append("runAsUser=0")
        }
        let allowedSeccomp: Set<JSONValue> = ["RuntimeDefault", "Localhost"]
        let podSeccomp = spec[path: "securityContext", "seccompProfile", "type"]
        if !each({ c in
            let own = c[path: "securityContext", "seccompProfile", "type"]
            return own.map(allowedSeccomp.contains) ?? podSeccomp.map(allowedSeccomp.contains) ?? false
        }) { failed.append("seccompProfile") }
        return failed
    }
}
