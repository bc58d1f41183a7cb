import Foundation
import Testing
import GantryAPI
import GantryControllers
import GantryTestSupport
import KubeClient
import KubeCore

/// Notebook through the real path: kubectl → embedded cluster (a simulated Jupyter answering /api/status through
/// the service proxy) → the operator over libcurl (issue #11).
@Suite(.serialized) struct NotebookTests {
    static let example = OperatorHarness.repoRoot + "/examples/notebook.yaml"

    /// A notebook culled after `idle` seconds, asked every second; `script` plays the Jupyter server.
    static func manifest(_ name: String, idle: Int = 10, warn: Int = 0, deletePolicy: String = "Retain", script: String? = nil) -> String {
        let annotations = script.map { "\n  podMetadata:\n    annotations:\n      sim.gantry.dev/script: '\($0)'" } ?? ""
        return """
        apiVersion: gantry.dev/v1alpha1
        kind: Notebook
        metadata: {name: \(name), namespace: default}
        spec:
          image: jupyter/base-notebook:latest
          gpu: {count: 1}
          workspace: {size: 1Gi, deletePolicy: \(deletePolicy)}
          culling: {idleTimeoutSeconds: \(idle), checkPeriodSeconds: 1, warnBeforeSeconds: \(warn)}\(annotations)
        """
    }

    static func gantry(_ h: OperatorHarness, _ args: String...) async -> CommandResult {
        await runProcess(GantryBinary.path, args + ["--kubeconfig", h.cluster.kubeconfig, "-n", "default"])
    }

    static func status(_ h: OperatorHarness, _ name: String) async throws -> JSONValue {
        try await h.get(.notebooks, "default", name)?["status"] ?? .null
    }

    static func condition(_ status: JSONValue, _ type: String) -> JSONValue? {
        status["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == type }
    }

    static func phase(_ h: OperatorHarness, _ name: String) async throws -> String? {
        try await status(h, name)["phase"]?.stringValue
    }

    /// The culler has looked at the server after the idle timeout had passed (so a cull would have happened).
    static func checkedPastTimeout(_ h: OperatorHarness, _ name: String, idle: Int) async throws -> Bool {
        let s = try await status(h, name)
        guard let started = s["startedAt"]?.stringValue.flatMap(Timestamp.parse),
              let checked = s[path: "culling", "lastCheck"]?.stringValue.flatMap(Timestamp.parse) else { return false }
        return checked.timeIntervalSince(started) > Double(idle + 1)
    }

    @Test func theExampleStartsWithAGPUAWorkspaceAndATokenThatAppearsNowhereElse() async throws {
        try await withOperator { h in
            _ = try await h.kubectl("apply", "-f", Self.example)
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.phase(h, "alice") == "Running" })
            let status = try await Self.status(h, "alice")
            #expect(status["url"] == "http://alice.default.svc.cluster.local")
            #expect(status["gpus"] == 1 && status["workspaceClaim"] == "alice-workspace")
            #expect(Self.condition(status, "Ready")?["status"] == "True")
            let claim = try #require(try await h.get(.persistentVolumeClaims, "default", "alice-workspace"))
            #expect(claim[path: "spec", "resources", "requests", "storage"] == "50Gi")
            #expect(claim.ownerReferences.isEmpty, "Retain: the workspace outlives the Notebook")
            let secret = try #require(try await h.get(.secrets, "default", "alice-token"))
            let token = try #require(Secret(json: secret).value("token").map { String(decoding: $0, as: UTF8.self) })
            #expect(token.count == 64)
            let pod = try #require(try await h.get(.pods, "default", "alice"))
            #expect(pod[path: "spec", "containers"]?.arrayValue?.first?[path: "resources", "limits", "nvidia.com/gpu"] == "1")
            #expect(!pod.serialized().contains(token), "the pod spec references the Secret, never the token")
            #expect(!(try await h.get(.notebooks, "default", "alice"))!.serialized().contains(token))
            let events = try await h.kubectl("get", "events", "-o", "json")
            #expect(!events.contains(token))
            let table = try await h.kubectl("get", "gnb", "alice")
            #expect(table.contains("Running") && table.contains("LAST-ACTIVITY"))
            // `gantry notebook open` reads the token with the user's own credentials.
            let open = await Self.gantry(h, "notebook", "open", "alice")
            #expect(open.ok && open.stdout.contains("kubectl port-forward -n default service/alice 8888:80") && open.stdout.contains("?token=\(token)"), "\(open.stderr)")
        }
    }

    @Test func anIdleNotebookIsCulledKeepingItsWorkspaceAndStartsAgainWithoutBeingCulledAtOnce() async throws {
        try await withOperator { h in
            // The simulated Jupyter reports its start as its last activity: idle from the start.
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("idle", warn: 5))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.phase(h, "idle") == "Running" })
            let claimUID = try await h.get(.persistentVolumeClaims, "default", "idle-workspace")?.uid
            #expect(try await eventually(timeout: .seconds(40)) { try await Self.phase(h, "idle") == "Culled" })
            #expect(try await eventually(timeout: .seconds(30)) { try await h.get(.pods, "default", "idle") == nil })
            let culled = try await Self.status(h, "idle")
            #expect(Self.condition(culled, "Culled")?["status"] == "True")
            #expect(Self.condition(culled, "Culled")?["message"]?.stringValue?.contains("idle for") == true)
            #expect(culled["gpus"] == 0)
            #expect(try await h.get(.persistentVolumeClaims, "default", "idle-workspace")?.uid == claimUID)
            #expect(try await h.get(.secrets, "default", "idle-token") != nil)
            let reasons = try await h.kubectl("get", "events", "--field-selector", "involvedObject.name=idle", "-o", "jsonpath={.items[*].reason}")
            #expect(reasons.contains("IdleCullingSoon") && reasons.contains("Culled"))

            // `gantry notebook open` on a culled notebook says how to start it.
            let closed = await Self.gantry(h, "notebook", "open", "idle")
            #expect(!closed.ok && closed.stderr.contains("gantry notebook start idle"), "\(closed.stderr)")
            // Started again: same workspace, the activity clock reset, so the next checks do not cull it.
            let started = await Self.gantry(h, "notebook", "start", "idle")
            #expect(started.ok, "\(started.stderr)")
            let running = try await eventually(timeout: .seconds(60)) { try await Self.phase(h, "idle") == "Running" }
            let seen = try await h.get(.notebooks, "default", "idle")?.serialized() ?? ""
            #expect(running, "\(started.stdout) \(seen)")
            let pod = try #require(try await h.get(.pods, "default", "idle"))
            #expect(pod[path: "spec", "volumes"]?.arrayValue?.first?[path: "persistentVolumeClaim", "claimName"] == "idle-workspace")
            #expect(try await h.get(.persistentVolumeClaims, "default", "idle-workspace")?.uid == claimUID)
            #expect(try await eventually(timeout: .seconds(10)) {
                try await Self.status(h, "idle")[path: "culling", "lastCheck"] != nil
            })
            #expect(try await Self.phase(h, "idle") == "Running", "not culled again at once")
        }
    }

    @Test func activityKeepsANotebookAndAFailingProbeIsSurfacedNotCulled() async throws {
        try await withOperator { h in
            // A connected browser is activity now (last_activity alone has whole seconds here, too coarse for a 1 s check).
            let active = #"{http: {"/api/status": {body: {last_activity: "{now}", connections: 1, kernels: 1}}, "/api/kernels": {body: []}}}"#
            let forbidden = #"{http: {"/api/status": {status: 403, body: "Forbidden"}}}"#
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("busy", script: active) + "\n---\n" + Self.manifest("broken", script: forbidden))
            for name in ["busy", "broken"] {
                #expect(try await eventually(timeout: .seconds(60)) { try await Self.checkedPastTimeout(h, name, idle: 10) }, "\(name)")
                #expect(try await Self.phase(h, name) == "Running", "\(name) was not culled")
            }
            let broken = try await Self.status(h, "broken")
            #expect(broken[path: "culling", "probeErrors"]?.arrayValue?.contains { $0.stringValue?.contains("/api/status answered 403") == true } == true, "\(broken)")
            #expect(Self.condition(broken, "Idle")?["status"] == "Unknown")
            let busy = try await Self.status(h, "busy")
            #expect(busy[path: "culling", "probeErrors"] == nil)
            #expect(Self.condition(busy, "Idle")?["status"] == "False")
        }
    }

    /// A busy kernel, an open terminal, a busy GPU and a non-Jupyter server's own activity endpoint each keep a
    /// notebook whose Jupyter status says it has been idle since it started; an idle GPU does not.
    @Test func kernelsTerminalsGPUsAndHTTPProbesAreActivity() async throws {
        let idleStatus = #""/api/status": {body: {last_activity: "{startTime}", connections: 0}}"#
        let scripts: [(String, String, String)] = [
            ("kernel", #"{http: {\#(idleStatus), "/api/kernels": {body: [{id: k1, execution_state: busy, last_activity: "{startTime}"}]}, "/api/terminals": {body: []}}}"#, ""),
            ("terminal", #"{http: {\#(idleStatus), "/api/kernels": {body: []}, "/api/terminals": {body: [{name: "1", last_activity: "{now}"}]}}}"#, ""),
            ("gpu", #"{http: {\#(idleStatus), "/api/kernels": {body: []}}, metrics: "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\"} 3\nDCGM_FI_DEV_GPU_UTIL{gpu=\"1\"} 87\n"}"#,
             "probes: [{gpuUtilization: {threshold: 50}}]"),
            ("vscode", #"{http: {"/healthz": {body: {status: alive, last_activity: "{now}"}}}}"#, "jupyterAPI: false, probes: [{http: {path: /healthz, port: 8080}}]"),
            ("coldgpu", #"{http: {\#(idleStatus), "/api/kernels": {body: []}}, metrics: "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\"} 3\n"}"#,
             "probes: [{gpuUtilization: {threshold: 50}}]"),
            // A kernel busy for its first 8 s, then idle: culled about idle timeout after it went idle, not before.
            ("wasbusy", #"{http: {\#(idleStatus), "/api/kernels": [{body: [{id: k1, execution_state: busy}]}, {after: 8s, body: [{id: k1, execution_state: idle}]}]}}"#, ""),
        ]
        try await withOperator { h in
            let manifests = scripts.map { name, script, culling in
                var m = Self.manifest(name, script: script)
                if !culling.isEmpty { m = m.replacingOccurrences(of: "warnBeforeSeconds: 0}", with: "warnBeforeSeconds: 0, \(culling)}") }
                return m
            }
            _ = try await h.kubectl("apply", "-f", "-", stdin: manifests.joined(separator: "\n---\n"))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.phase(h, "coldgpu") == "Culled" }, "an idle GPU is no activity")
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.phase(h, "wasbusy") == "Culled" }, "a kernel that went idle")
            let wasBusy = try await Self.status(h, "wasbusy")
            let started = try #require(wasBusy["startedAt"]?.stringValue.flatMap(Timestamp.parse))
            let culled = try #require(wasBusy["culledAt"]?.stringValue.flatMap(Timestamp.parse))
            #expect(culled.timeIntervalSince(started) >= 16, "busy for ~8 s (from the pod's start), then 10 s idle: culled \(culled.timeIntervalSince(started)) s after the start")
            for name in ["kernel", "terminal", "gpu", "vscode"] {
                #expect(try await eventually(timeout: .seconds(60)) { try await Self.checkedPastTimeout(h, name, idle: 10) }, "\(name)")
                let status = try await Self.status(h, name)
                #expect(status["phase"] == "Running", "\(name) was not culled: \(status)")
                #expect(status[path: "culling", "probeErrors"] == nil, "\(name): \(status)")
            }
            // Without Jupyter's API a notebook needs another probe, or nothing could say it is active.
            let refused = await h.cluster.kubectl(args: ["apply", "-f", "-"], stdin: Self.manifest("blind", script: nil)
                .replacingOccurrences(of: "warnBeforeSeconds: 0}", with: "warnBeforeSeconds: 0, jupyterAPI: false}"))
            #expect(!refused.ok && refused.stderr.contains("with jupyterAPI false, list at least one probe"), "\(refused.stderr)")
        }
    }

    /// The idle warning and the cull reach the platform's webhook (a local receiver that refuses the first post:
    /// the notifier retries), with the notebook, its namespace, GPUs and owner; the URL is read from a Secret.
    @Test func theWarningAndTheCullAreSentToTheWebhook() async throws {
        try await withWebhookReceiver(refuseFirst: 1) { url, receiver in
            try await withOperator { h in
                _ = try await h.kubectl("create", "secret", "generic", "chat-hook", "-n", "default", "--from-literal=url=\(url)")
                _ = try await h.kubectl("apply", "-f", "-", stdin: """
                    apiVersion: gantry.dev/v1alpha1
                    kind: PlatformConfig
                    metadata: {name: default}
                    spec: {notifications: {webhookSecretRef: {namespace: default, name: chat-hook}}}
                    """)
                let manifest = Self.manifest("warned", idle: 10, warn: 5)
                    .replacingOccurrences(of: "metadata: {name: warned, namespace: default}", with: "metadata: {name: warned, namespace: default, annotations: {gantry.dev/owner: alice}}")
                _ = try await h.kubectl("apply", "-f", "-", stdin: manifest)
                let received = try await eventually(timeout: .seconds(60)) { await receiver.bodies.count >= 2 }
                let bodies = await receiver.bodies
                #expect(received, "\(bodies)")
                let refused = await receiver.refused
                #expect(refused == 1)
                let warning = try #require(bodies.first.flatMap { try? JSONValue.parse($0) })
                let text = try #require(warning["text"]?.stringValue)
                #expect(text.contains("Notebook default/warned: IdleCullingSoon") && text.contains("GPUs: 1") && text.contains("owner: alice"), "\(text)")
                #expect(bodies.dropFirst().first?.contains("Notebook default/warned: Culled") == true, "\(bodies)")
                #expect(!bodies.joined().contains(url), "the webhook URL is a credential")
            }
        }
    }

    /// A server that cannot start (its image cannot be pulled) is Failed with the pod's own reason, and, since it
    /// still holds its GPU, is culled after the idle timeout like an idle one.
    @Test func aServerThatCannotStartIsFailedThenCulled() async throws {
        try await withOperator { h in
            let manifest = Self.manifest("broken-image", idle: 10).replacingOccurrences(of: "image: jupyter/base-notebook:latest", with: "image: jupyter/base-notebook:missing")
            _ = try await h.kubectl("apply", "-f", "-", stdin: manifest)
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.phase(h, "broken-image") == "Failed" })
            let failed = try await Self.status(h, "broken-image")
            let stalled = try #require(Self.condition(failed, "Stalled"))
            #expect(["ErrImagePull", "ImagePullBackOff"].contains(stalled["reason"]?.stringValue ?? ""), "\(stalled)")
            #expect(stalled["message"]?.stringValue?.contains("pod broken-image") == true, "\(stalled)")
            #expect(failed["gpus"] == 1)
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.phase(h, "broken-image") == "Culled" })
            // The phase is written before the pod is deleted (a failed delete must not lose the transition): wait for it.
            #expect(try await eventually(timeout: .seconds(10)) {
                let pod = try await h.get(.pods, "default", "broken-image")
                return pod == nil || pod?.deletionTimestamp != nil
            }, "the GPU is given back")
            let events = try await h.kubectl("get", "events", "--field-selector", "involvedObject.name=broken-image", "-o", "jsonpath={.items[*].reason}")
            #expect(events.contains("ServerFailing") && events.contains("Culled"), "\(events)")
        }
    }

    @Test func aNotebookWhoseNodeIsLostGetsANewPodOnTheSameWorkspace() async throws {
        try await withOperator { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("spot", idle: 3600))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.phase(h, "spot") == "Running" })
            let first = try #require(try await h.get(.pods, "default", "spot"))
            let node = try #require(first[path: "spec", "nodeName"]?.stringValue)
            _ = try await h.kubectl("annotate", "node", node, "sim.gantry.dev/disrupt=preempt")
            #expect(try await eventually(timeout: .seconds(60)) {
                let pod = try await h.get(.pods, "default", "spot")
                return pod != nil && pod?.uid != first.uid
            }, "a new pod")
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.phase(h, "spot") == "Running" })
            let second = try #require(try await h.get(.pods, "default", "spot"))
            #expect(second[path: "spec", "nodeName"]?.stringValue != node)
            #expect(second[path: "spec", "volumes"]?.arrayValue?.first?[path: "persistentVolumeClaim", "claimName"] == "spot-workspace")
            // The workspace is a bound claim (the default class's volume), which the new pod mounts on another node.
            let claim = try await h.kubectl("get", "pvc", "spot-workspace", "-o", "jsonpath={.status.phase} {.spec.volumeName}")
            #expect(claim.hasPrefix("Bound pvc-"), "\(claim)")
        }
    }

    @Test func thePlatformsMaximumIdleTimeoutLimitsALongerOneAndSaysSo() async throws {
        try await withOperator { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: """
                apiVersion: gantry.dev/v1alpha1
                kind: PlatformConfig
                metadata: {name: default}
                spec: {notebooks: {maxIdleTimeoutSeconds: 10}}
                """)
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("lazy", idle: 3600))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.phase(h, "lazy") == "Culled" })
            let status = try await Self.status(h, "lazy")
            let limited = Self.condition(status, "CullingLimited")
            #expect(limited?["status"] == "True")
            #expect(limited?["message"]?.stringValue?.contains("spec.culling.idleTimeoutSeconds 3600") == true)
            #expect(status[path: "culling", "idleTimeoutSeconds"] == 10)
            #expect(try await h.get(.notebooks, "default", "lazy")?[path: "spec", "culling", "idleTimeoutSeconds"] == 3600, "spec untouched")
        }
    }

    @Test func stopAndStartThroughSpecAndBothDeletionPolicies() async throws {
        try await withOperator { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("keep", idle: 3600)
                + "\n---\n" + Self.manifest("drop", idle: 3600, deletePolicy: "Delete"))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.phase(h, "keep") == "Running" })
            _ = try await h.kubectl("patch", "notebook", "keep", "--type=merge", "-p", #"{"spec":{"stopped":true}}"#)
            #expect(try await eventually(timeout: .seconds(30)) {
                let pod = try await h.get(.pods, "default", "keep")
                return try await Self.phase(h, "keep") == "Stopped" && pod == nil
            })
            _ = try await h.kubectl("patch", "notebook", "keep", "--type=merge", "-p", #"{"spec":{"stopped":false}}"#)
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.phase(h, "keep") == "Running" })

            #expect(try await eventually(timeout: .seconds(60)) { try await Self.phase(h, "drop") == "Running" })
            _ = try await h.kubectl("delete", "notebook", "keep", "drop")
            #expect(try await eventually(timeout: .seconds(30)) {
                try await h.get(.persistentVolumeClaims, "default", "drop-workspace") == nil
            }, "deletePolicy Delete: the workspace goes with the Notebook")
            let kept = try #require(try await h.get(.persistentVolumeClaims, "default", "keep-workspace"), "Retain: the workspace stays")

            // Applied again under the same name, the notebook runs on the workspace it left (no name conflict).
            #expect(try await eventually(timeout: .seconds(30)) { try await h.get(.notebooks, "default", "keep") == nil })
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("keep", idle: 3600))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.phase(h, "keep") == "Running" })
            #expect(try await h.get(.persistentVolumeClaims, "default", "keep-workspace")?.uid == kept.uid)
            let conflicts = try await h.client.list(.events, namespace: "default").items.filter { $0["reason"] == "ChildNameConflict" }
            #expect(conflicts.isEmpty, "\(conflicts)")
        }
    }

    /// Kubernetes' pvc-protection: a workspace claim deleted while the server runs stays Terminating and mounted;
    /// once the notebook stops it is gone, and Gantry makes a new (empty) workspace for the next start.
    @Test func aWorkspaceDeletedUnderARunningServerStaysUntilTheServerStops() async throws {
        try await withOperator { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.manifest("ws", idle: 3600))
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.phase(h, "ws") == "Running" })
            let claim = try #require(try await h.get(.persistentVolumeClaims, "default", "ws-workspace"))
            #expect(claim.finalizers == ["kubernetes.io/pvc-protection"])
            _ = try await h.kubectl("delete", "pvc", "ws-workspace", "--wait=false")
            let deleting = try #require(try await h.get(.persistentVolumeClaims, "default", "ws-workspace"))
            #expect(deleting.deletionTimestamp != nil && deleting.uid == claim.uid, "kept while the server mounts it")
            #expect(try await h.kubectl("get", "pvc", "ws-workspace").contains("Terminating"))
            let server = try await h.get(.pods, "default", "ws")
            #expect(try await Self.phase(h, "ws") == "Running" && server != nil, "the server keeps running")

            _ = try await h.kubectl("patch", "notebook", "ws", "--type=merge", "-p", #"{"spec":{"stopped":true}}"#)
            #expect(try await eventually(timeout: .seconds(30)) {
                guard try await Self.phase(h, "ws") == "Stopped", let now = try await h.get(.persistentVolumeClaims, "default", "ws-workspace") else { return false }
                return now.uid != claim.uid && now.deletionTimestamp == nil
            }, "the old claim went with the pod; a new, empty workspace is made")
        }
    }
}
