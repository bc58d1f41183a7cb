import Foundation
import KubeCore
import Testing

@testable import EmbeddedCluster

@Suite struct SimulationKubeletTests {
    let t0 = SimFixtures.now
    let runtime = PodRuntime(acceptedAt: SimFixtures.now, podIP: "10.244.0.5", hostIP: "10.0.0.2")

    func pod(script: String? = nil, restartPolicy: String = "Always", image: String = "busybox", initContainers: [JSONValue] = []) -> JSONValue {
        var p = SimFixtures.pod("train", image: image, annotations: script.map { [PodScript.annotation: $0] } ?? [:])
        p[path: "spec", "nodeName"] = "gpu-a100-0"
        p[path: "spec", "restartPolicy"] = .string(restartPolicy)
        if !initContainers.isEmpty { p[path: "spec", "initContainers"] = .array(initContainers) }
        p[path: "status", "conditions"] = [["type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"]]
        return p
    }

    func decide(_ pod: JSONValue, at seconds: TimeInterval, runtime r: PodRuntime? = nil) -> KubeletDecision {
        KubeletSimulator.decide(pod: pod, script: PodScript.from(pod: pod), runtime: r ?? runtime, now: t0.addingTimeInterval(seconds))
    }

    func conditionStatus(_ status: JSONValue, _ type: String) -> String? {
        status["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == type }?["status"]?.stringValue
    }

    @Test func pendingThenRunningThenReady() {
        let p = pod()
        let creating = decide(p, at: 0.5).status
        #expect(creating["phase"] == "Pending")
        #expect(creating[path: "containerStatuses"]?.arrayValue?.first?[path: "state", "waiting", "reason"] == "ContainerCreating")
        #expect(creating["podIP"] == "10.244.0.5" && creating["hostIP"] == "10.0.0.2")
        let running = decide(p, at: 1.5).status
        #expect(running["phase"] == "Running")
        let cs = running["containerStatuses"]?.arrayValue?.first ?? [:]
        #expect(cs["started"] == true && cs["ready"] == false)
        #expect(cs["imageID"]?.stringValue?.hasPrefix("docker-pullable://busybox@sha256:") == true)
        #expect(cs["imageID"]?.stringValue?.count == "docker-pullable://busybox@sha256:".count + 64)
        #expect(conditionStatus(running, "Ready") == "False")
        let ready = decide(p, at: 2.5).status
        #expect(conditionStatus(ready, "Ready") == "True" && conditionStatus(ready, "ContainersReady") == "True")
        #expect(conditionStatus(ready, "Initialized") == "True" && conditionStatus(ready, "PodScheduled") == "True")
        #expect(ready["startTime"] == .string(Timestamp.format(t0)))
        #expect(ready["qosClass"] == "BestEffort")
    }

    @Test func scriptedExitSucceeds() {
        let p = pod(script: "{exit: {code: 0, after: 10s}}", restartPolicy: "Never")
        #expect(decide(p, at: 5).status["phase"] == "Running")
        let done = decide(p, at: 11.5).status
        #expect(done["phase"] == "Succeeded")
        let term = done[path: "containerStatuses"]?.arrayValue?.first?[path: "state", "terminated"]
        #expect(term?["exitCode"] == 0 && term?["reason"] == "Completed")
        #expect(term?["finishedAt"] == .string(Timestamp.format(t0.addingTimeInterval(11))))
        #expect(conditionStatus(done, "Ready") == "False")
    }

    @Test func oomKilledFailsWithNever() {
        let p = pod(script: #"{"exit": {"oom": true, "after": "3s"}}"#, restartPolicy: "Never")
        let s = decide(p, at: 10).status
        #expect(s["phase"] == "Failed")
        let term = s[path: "containerStatuses"]?.arrayValue?.first?[path: "state", "terminated"]
        #expect(term?["exitCode"] == 137 && term?["reason"] == "OOMKilled")
    }

    @Test func crashLoopBackOffWithGrowingDelays() {
        // Exits 1 after 2 s; starts at 1 s. Runs: [1,3), at once [3,5), back-off 10 → [15,17), back-off 20 → [37,39) …
        let p = pod(script: "{exit: {code: 1, after: 2s}}", restartPolicy: "OnFailure")
        let restarted = decide(p, at: 4).status["containerStatuses"]?.arrayValue?.first ?? [:]
        #expect(restarted["restartCount"] == 1 && restarted[path: "state", "running"] != nil)
        #expect(restarted[path: "lastState", "terminated", "exitCode"] == 1)
        let backoff = decide(p, at: 6).status
        #expect(backoff["phase"] == "Running")
        let cs = backoff["containerStatuses"]?.arrayValue?.first ?? [:]
        #expect(cs[path: "state", "waiting", "reason"] == "CrashLoopBackOff")
        #expect(cs[path: "state", "waiting", "message"] == "back-off 10s restarting failed container=main pod=train_default(uid-train)")
        #expect(cs["restartCount"] == 1)
        let second = decide(p, at: 16).status["containerStatuses"]?.arrayValue?.first ?? [:]
        #expect(second["restartCount"] == 2 && second[path: "state", "running"] != nil)
        let third = decide(p, at: 20).status["containerStatuses"]?.arrayValue?.first ?? [:]
        #expect(third[path: "state", "waiting", "message"]?.stringValue?.hasPrefix("back-off 20s") == true)
        // Far in the future the back-off is capped at 5 minutes and counting stays consistent.
        let late = decide(p, at: 100_000).status["containerStatuses"]?.arrayValue?.first ?? [:]
        #expect((late["restartCount"]?.intValue ?? 0) > 300)
    }

    @Test func eventsFollowStatusChanges() {
        let p = pod(script: "{exit: {code: 1, after: 2s}}", restartPolicy: "OnFailure")
        func reasons(_ a: TimeInterval, _ b: TimeInterval) -> [String] {
            PodEvents.kubelet(pod: p, old: decide(p, at: a).status, new: decide(p, at: b).status, terminating: false, wasTerminating: false).map(\.reason)
        }
        #expect(reasons(0.5, 1.5) == ["Pulling", "Pulled", "Created", "Started"])
        #expect(reasons(1.5, 4) == ["Pulled", "Created", "Started"])
        #expect(reasons(4, 6) == ["BackOff"])
        #expect(reasons(6, 16) == ["Pulled", "Created", "Started"])
        let pull = pod(image: "x/does-not-exist:1")
        let failed = PodEvents.kubelet(pod: pull, old: decide(pull, at: 0).status, new: decide(pull, at: 2).status, terminating: false, wasTerminating: false)
        #expect(failed.map(\.reason) == ["Pulling", "Failed", "Failed"] && failed.last?.message == "Error: ErrImagePull")
    }

    /// A container starts once its image is on the node; one already present starts without a pull, and the
    /// kubelet's Event says so.
    @Test func anImagePullDelaysTheStartAndAPresentImageDoesNot() {
        let p = pod(image: "acme/server:1")
        var pulling = runtime
        pulling.imagesReadyAt["acme/server:1"] = t0.addingTimeInterval(3)
        pulling.pulledImages = ["acme/server:1"]
        #expect(decide(p, at: 2, runtime: pulling).status[path: "containerStatuses"]?.arrayValue?.first?[path: "state", "waiting", "reason"] == "ContainerCreating")
        #expect(decide(p, at: 4.5, runtime: pulling).status["phase"] == "Running")
        let pulled = PodEvents.kubelet(pod: p, old: decide(p, at: 2, runtime: pulling).status, new: decide(p, at: 4.5, runtime: pulling).status,
                                       pulled: pulling.pulledImages, terminating: false, wasTerminating: false)
        #expect(pulled.map(\.reason) == ["Pulling", "Pulled", "Created", "Started"])
        var present = runtime
        present.imagesReadyAt["acme/server:1"] = t0.addingTimeInterval(-60)
        let events = PodEvents.kubelet(pod: p, old: decide(p, at: 0.5, runtime: present).status, new: decide(p, at: 1.5, runtime: present).status,
                                       pulled: [], terminating: false, wasTerminating: false)
        #expect(events.map(\.message).first == "Container image \"acme/server:1\" already present on machine")
        #expect(!events.contains { $0.reason == "Pulling" })
    }

    @Test func activeDeadlineFailsThePod() {
        var p = pod()
        p[path: "spec", "activeDeadlineSeconds"] = 5
        #expect(decide(p, at: 4).status["phase"] == "Running")
        let d = decide(p, at: 6)
        #expect(!d.remove)
        #expect(d.status["phase"] == "Failed" && d.status["reason"] == "DeadlineExceeded")
        #expect(d.status["containerStatuses"]?.arrayValue?.first?[path: "state", "terminated"] != nil)
    }

    @Test func successfulExitUnderOnFailureDoesNotRestart() {
        let p = pod(script: "{exit: {code: 0, after: 1s}}", restartPolicy: "OnFailure")
        #expect(decide(p, at: 50).status["phase"] == "Succeeded")
    }

    @Test func imagePullFailureWaitsForever() {
        let p = pod(image: "registry.example.com/model:missing")
        let early = decide(p, at: 2).status
        #expect(early["phase"] == "Pending")
        #expect(early[path: "containerStatuses"]?.arrayValue?.first?[path: "state", "waiting", "reason"] == "ErrImagePull")
        let later = decide(p, at: 3600).status
        #expect(later[path: "containerStatuses"]?.arrayValue?.first?[path: "state", "waiting", "reason"] == "ImagePullBackOff")
        #expect(ImageRules.pullFails("does-not-exist/x:1") && !ImageRules.pullFails("busybox:1.36"))
    }

    @Test func invalidScriptIsCreateContainerConfigError() {
        let p = pod(script: "{exit: {code: 1, after: soon}}")
        let s = decide(p, at: 5).status
        #expect(s["phase"] == "Pending")
        let waiting = s[path: "containerStatuses"]?.arrayValue?.first?[path: "state", "waiting"]
        #expect(waiting?["reason"] == "CreateContainerConfigError")
        #expect(waiting?["message"]?.stringValue?.contains("sim.gantry.dev/script annotation at exit.after") == true)
    }

    @Test func gracefulDeletionHonoursTerminateDelayAndGrace() {
        var p = pod(script: "{terminate: {after: 5s, code: 0}}")
        p[path: "metadata", "deletionGracePeriodSeconds"] = 30
        p[path: "metadata", "deletionTimestamp"] = "2026-01-01T00:00:30Z"
        var r = runtime
        r.terminationStartedAt = t0.addingTimeInterval(10)
        let stopping = decide(p, at: 12, runtime: r)
        #expect(!stopping.remove)
        #expect(stopping.status[path: "containerStatuses"]?.arrayValue?.first?[path: "state", "running"] != nil)
        #expect(conditionStatus(stopping.status, "Ready") == "False")
        let stopped = decide(p, at: 15.5, runtime: r)
        #expect(stopped.remove)
        #expect(stopped.status[path: "containerStatuses"]?.arrayValue?.first?[path: "state", "terminated", "exitCode"] == 0)
        // A grace period shorter than the checkpoint: killed with 137 when it runs out.
        p[path: "metadata", "deletionGracePeriodSeconds"] = 2
        let killed = decide(p, at: 12.5, runtime: r)
        #expect(killed.remove)
        #expect(killed.status[path: "containerStatuses"]?.arrayValue?.first?[path: "state", "terminated", "exitCode"] == 137)
    }

    @Test func initContainersRunFirst() {
        let p = pod(initContainers: [["name": "fetch", "image": "busybox"]])
        let initializing = decide(p, at: 1.5).status
        #expect(initializing["phase"] == "Pending")
        #expect(conditionStatus(initializing, "Initialized") == "False")
        #expect(initializing["containerStatuses"]?.arrayValue?.first?[path: "state", "waiting", "reason"] == "PodInitializing")
        // init: created 0–1 s, runs 1–2 s; main: created 2–3 s, running from 3 s.
        let running = decide(p, at: 3.5).status
        #expect(running["phase"] == "Running")
        #expect(conditionStatus(running, "Initialized") == "True")
        #expect(running["initContainerStatuses"]?.arrayValue?.first?[path: "state", "terminated", "reason"] == "Completed")
    }

    @Test func lastTransitionTimeChangesOnlyOnFlip() {
        var p = pod()
        let first = decide(p, at: 2.5).status
        p["status"] = first
        let again = decide(p, at: 100).status
        func ltt(_ s: JSONValue) -> JSONValue? { s["conditions"]?.arrayValue?.first { $0["type"] == "Ready" }?["lastTransitionTime"] }
        #expect(ltt(first) == ltt(again))
        #expect(first == again)
    }
}
