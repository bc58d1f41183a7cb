import Foundation
import KubeCore

/// What the driver remembers about a pod its kubelet has accepted (everything else is derived).
struct PodRuntime: Sendable, Hashable {
    /// When the kubelet first saw the bound pod (`status.startTime`).
    var acceptedAt: Date
    /// When the kubelet saw `deletionTimestamp` and sent SIGTERM.
    var terminationStartedAt: Date?
    var podIP: String
    var hostIP: String
    /// When each of its images is on the node (a pull, or an earlier pod's, may still be under way).
    var imagesReadyAt: [String: Date] = [:]
    /// Images this pod pulled itself; the others were already present on the machine.
    var pulledImages: Set<String> = []
}

/// The kubelet's decision for one pod at one instant.
struct KubeletDecision: Sendable, Hashable {
    var status: JSONValue
    /// All containers have stopped after deletion: remove the object (grace period 0).
    var remove: Bool
    /// The current (or last) run of every container that has started, for writing its logs.
    var runs: [ContainerRun] = []
}

/// One run of a container: logs are written relative to `startedAt`, up to `stoppedAt` when it has ended.
struct ContainerRun: Sendable, Hashable {
    var container: String
    var isInit: Bool
    var run: Int
    var startedAt: Date
    var stoppedAt: Date?
    /// True when the container will not run again (its log can be closed).
    var final: Bool
}

/// The simulated kubelet: a pure function from (pod, script, runtime, now) to the pod's status.
///
/// Follows the kubelet's status manager (pkg/kubelet/kubelet_pods.go `getPhase`, `generateAPIPodStatus`;
/// pkg/kubelet/status/generate.go for the condition reasons): Pending while an init container is unfinished or a
/// container has never started; Succeeded/Failed once every container is terminated for good; Running otherwise.
/// Container timelines come from `ContainerTimeline` so restarts and `CrashLoopBackOff` need no stored state.
enum KubeletSimulator {
    static func decide(pod: JSONValue, script scriptResult: Result<PodScript, ScriptError>, runtime: PodRuntime, now: Date) -> KubeletDecision {
        let spec = pod["spec"] ?? [:]
        let policy = spec["restartPolicy"]?.stringValue ?? "Always"
        let initContainers = spec["initContainers"]?.arrayValue ?? []
        let containers = spec["containers"]?.arrayValue ?? []
        let existingStatus = pod["status"] ?? [:]
        let stamp = Timestamp.format(now)
        // `activeDeadlineSeconds` (counted from startTime): the kubelet kills the containers and fails the pod
        // with reason DeadlineExceeded (pkg/kubelet/active_deadline.go), without deleting it.
        let deadline = spec["activeDeadlineSeconds"]?.intValue.map { runtime.acceptedAt.addingTimeInterval(Double(max(0, $0))) }
        let deadlineExceeded = runtime.terminationStartedAt == nil && deadline.map { now >= $0 } == true
        let termination = runtime.terminationStartedAt.map { (at: $0, grace: gracePeriod(pod)) }
            ?? (deadlineExceeded ? deadline.map { (at: $0, grace: 0) } : nil)

        var initStatuses: [JSONValue] = []
        var statuses: [JSONValue] = []
        var initDone = true
        var initFailed = false
        var incompleteInits: [String] = []
        var cursor = runtime.acceptedAt
        var allStopped = true

        var runs: [ContainerRun] = []
        // A container starts once its image is on the node (the kubelet pulls it first when it is not).
        func pulled(_ c: JSONValue, _ from: Date) -> Date {
            max(from, runtime.imagesReadyAt[c["image"]?.stringValue ?? ""] ?? from)
        }
        func record(_ c: JSONValue, _ t: ContainerTimeline, isInit: Bool, ready: Bool, pullOrConfigFailure: Bool) -> JSONValue {
            let name = c["name"]?.stringValue ?? ""
            switch t.state {
            case .running(let since):
                runs.append(ContainerRun(container: name, isInit: isInit, run: t.run, startedAt: since, stoppedAt: nil, final: false))
            case .terminated(let exit):
                runs.append(ContainerRun(container: name, isInit: isInit, run: t.run, startedAt: exit.startedAt, stoppedAt: exit.finishedAt, final: true))
            case .backOff:
                if let last = t.lastTermination {
                    runs.append(ContainerRun(container: name, isInit: isInit, run: t.run, startedAt: last.startedAt, stoppedAt: last.finishedAt, final: false))
                }
            case .waiting:
                break
            }
            return containerStatus(pod: pod, container: c, timeline: t, ready: ready)
        }

        // Init containers run one after the other; an unfinished one blocks the rest.
        for c in initContainers {
            let name = c["name"]?.stringValue ?? ""
            guard initDone else {
                initStatuses.append(waitingStatus(c, reason: "PodInitializing", message: nil))
                incompleteInits.append(name)
                continue
            }
            let (timeline, blocked) = timelineFor(c, isInit: true, pod: pod, scriptResult: scriptResult, from: pulled(c, cursor), now: now, policy: policy == "Never" ? "Never" : "OnFailure", termination: termination)
            initStatuses.append(record(c, timeline, isInit: true, ready: false, pullOrConfigFailure: blocked))
            if case .terminated(let exit) = timeline.state, exit.code == 0, termination == nil || exit.finishedAt <= (termination?.at ?? now) {
                cursor = exit.finishedAt
            } else {
                initDone = false
                incompleteInits.append(name)
                if case .terminated = timeline.state { initFailed = true }
                if case .running = timeline.state { allStopped = false }
            }
        }

        var anyNeverStarted = false
        var allFinal = true
        var allSucceeded = true
        var unready: [String] = []
        for c in containers {
            let name = c["name"]?.stringValue ?? ""
            guard initDone else {
                statuses.append(waitingStatus(c, reason: "PodInitializing", message: nil))
                unready.append(name)
                anyNeverStarted = true
                allFinal = false
                continue
            }
            let (timeline, blocked) = timelineFor(c, isInit: false, pod: pod, scriptResult: scriptResult, from: pulled(c, cursor), now: now, policy: policy, termination: termination)
            var ready = false
            if case .running(let since) = timeline.state {
                allStopped = false
                let delay = (try? scriptResult.get())?.script(for: c).readyDelay(container: c) ?? 0
                ready = now.timeIntervalSince(since) >= delay && termination == nil
            }
            if !ready { unready.append(name) }
            if !timeline.hasStarted { anyNeverStarted = true }
            if timeline.isFinal {
                if case .terminated(let exit) = timeline.state, exit.code != 0 { allSucceeded = false }
            } else {
                allFinal = false
            }
            statuses.append(record(c, timeline, isInit: false, ready: ready, pullOrConfigFailure: blocked))
        }

        let phase: String
        if deadlineExceeded {
            phase = "Failed"
        } else if initFailed && policy == "Never" {
            phase = "Failed"
        } else if !initDone || anyNeverStarted && !(termination != nil && allFinal) {
            phase = "Pending"
        } else if allFinal && !containers.isEmpty {
            phase = allSucceeded ? "Succeeded" : "Failed"
        } else {
            phase = "Running"
        }

        var status: JSONValue = existingStatus
        status["phase"] = .string(phase)
        if deadlineExceeded {
            status["reason"] = "DeadlineExceeded"
            status["message"] = "Pod was active on the node longer than the specified deadline"
        }
        status["hostIP"] = .string(runtime.hostIP)
        status["hostIPs"] = [["ip": .string(runtime.hostIP)]]
        let podIP = spec["hostNetwork"]?.boolValue == true ? runtime.hostIP : runtime.podIP
        status["podIP"] = .string(podIP)
        status["podIPs"] = [["ip": .string(podIP)]]
        status["startTime"] = .string(Timestamp.format(runtime.acceptedAt))
        status["qosClass"] = .string(qosClass(pod))
        status["initContainerStatuses"] = initStatuses.isEmpty ? nil : .array(initStatuses)
        status["containerStatuses"] = .array(statuses)

        let terminal = phase == "Succeeded" || phase == "Failed"
        var conditions = (existingStatus["conditions"]?.arrayValue ?? []).compactMap(Self.condition)
        conditions.set(Condition(type: "PodReadyToStartContainers", status: terminal ? .false : .true, reason: "", message: ""), now: stamp)
        if incompleteInits.isEmpty {
            conditions.set(Condition(type: "Initialized", status: .true, reason: terminal && !initContainers.isEmpty ? "PodCompleted" : "", message: ""), now: stamp)
        } else {
            conditions.set(Condition(type: "Initialized", status: .false, reason: "ContainersNotInitialized",
                                     message: "containers with incomplete status: [\(incompleteInits.joined(separator: " "))]"), now: stamp)
        }
        let readinessGatesOK = (spec["readinessGates"]?.arrayValue ?? []).allSatisfy { gate in
            conditions.isTrue(gate["conditionType"]?.stringValue ?? "")
        }
        for type in ["ContainersReady", "Ready"] {
            if terminal {
                conditions.set(Condition(type: type, status: .false, reason: "PodCompleted", message: ""), now: stamp)
            } else if !unready.isEmpty {
                conditions.set(Condition(type: type, status: .false, reason: "ContainersNotReady",
                                         message: "containers with unready status: [\(unready.joined(separator: " "))]"), now: stamp)
            } else if type == "Ready" && !readinessGatesOK {
                conditions.set(Condition(type: type, status: .false, reason: "ReadinessGatesNotReady", message: "corresponding condition of pod readiness gate is not true"), now: stamp)
            } else {
                conditions.set(Condition(type: type, status: .true, reason: "", message: ""), now: stamp)
            }
        }
        if conditions[type: "PodScheduled"] == nil {
            conditions.set(Condition(type: "PodScheduled", status: .true, reason: "", message: ""), now: stamp)
        }
        status["conditions"] = .array(conditions.map(Self.json))

        let remove = runtime.terminationStartedAt != nil && (allStopped || terminal)
        return KubeletDecision(status: status, remove: remove, runs: runs)
    }

    /// `metadata.deletionGracePeriodSeconds`, else `spec.terminationGracePeriodSeconds`, else 30 s.
    /// A recorded 0 counts as "not given": a real force deletion (the only real source of 0) removes the pod
    /// before any kubelet could act, and a store without graceful pod deletion records 0 for "none given".
    static func gracePeriod(_ pod: JSONValue) -> TimeInterval {
        let recorded = pod[path: "metadata", "deletionGracePeriodSeconds"]?.intValue.flatMap { $0 > 0 ? $0 : nil }
        return Double(recorded ?? pod[path: "spec", "terminationGracePeriodSeconds"]?.intValue ?? 30)
    }

    /// A container's timeline, with SIGTERM applied: a running container stops after min(grace, terminate.after)
    /// with the script's code, or 137 when the grace period ran out first. The Bool is true when the container
    /// can never start (image pull or config error).
    static func timelineFor(_ c: JSONValue, isInit: Bool, pod: JSONValue, scriptResult: Result<PodScript, ScriptError>,
                            from: Date, now: Date, policy: String, termination: (at: Date, grace: TimeInterval)?) -> (ContainerTimeline, Bool) {
        let image = c["image"]?.stringValue ?? ""
        let podScript: PodScript
        switch scriptResult {
        case .failure(let error):
            return (ContainerTimeline(state: .waiting(reason: "CreateContainerConfigError", message: error.description), restartCount: 0, lastTermination: nil, run: 0), true)
        case .success(let s): podScript = s
        }
        let script = podScript.script(for: c, isInit: isInit)
        let firstStart = from.addingTimeInterval(script.startDelay)
        if ImageRules.pullFails(image), now >= firstStart {
            let elapsed = now.timeIntervalSince(firstStart)
            // The kubelet alternates; we report ErrImagePull for the first pull, then back-off for good.
            let reason = elapsed < 5 ? "ErrImagePull" : "ImagePullBackOff"
            let message = reason == "ErrImagePull"
                ? "failed to pull and unpack image \"\(ImageRules.fullName(image))\": not found (simulated: image names containing does-not-exist or tagged :missing never pull)"
                : "Back-off pulling image \"\(image)\""
            return (ContainerTimeline(state: .waiting(reason: reason, message: message), restartCount: 0, lastTermination: nil, run: 0), true)
        }
        guard let term = termination, term.at < now else {
            return (ContainerTimeline.at(now, script: script, firstStart: firstStart, restartPolicy: policy), false)
        }
        let atTerm = ContainerTimeline.at(term.at, script: script, firstStart: firstStart, restartPolicy: policy)
        switch atTerm.state {
        case .running(let startedAt):
            let graceful = script.terminate.after <= term.grace
            let stop = term.at.addingTimeInterval(min(term.grace, script.terminate.after))
            // The script may exit on its own before SIGTERM takes effect.
            let natural = ContainerTimeline.at(now, script: script, firstStart: firstStart, restartPolicy: "Never")
            if case .terminated(let exit) = natural.state, exit.finishedAt <= stop {
                return (ContainerTimeline(state: .terminated(exit), restartCount: atTerm.restartCount, lastTermination: atTerm.lastTermination, run: atTerm.run), false)
            }
            if now < stop { return (atTerm, false) }
            let code: Int32 = graceful ? script.terminate.code : 137
            let exit = ContainerTimeline.Exit(code: code, reason: ContainerTimeline.exitReason(code: code, explicit: nil), message: nil,
                                              startedAt: startedAt, finishedAt: stop)
            return (ContainerTimeline(state: .terminated(exit), restartCount: atTerm.restartCount, lastTermination: atTerm.lastTermination, run: atTerm.run), false)
        case .backOff:
            // No more restarts once the pod is terminating: the last run's exit is final.
            if let last = atTerm.lastTermination {
                return (ContainerTimeline(state: .terminated(last), restartCount: atTerm.restartCount, lastTermination: nil, run: atTerm.run), false)
            }
            return (atTerm, false)
        case .terminated:
            return (atTerm, false)
        case .waiting:
            let exit = ContainerTimeline.Exit(code: 0, reason: "ContainerStatusUnknown", message: "The container was never started",
                                              startedAt: term.at, finishedAt: term.at)
            return (ContainerTimeline(state: .terminated(exit), restartCount: 0, lastTermination: nil, run: 0), false)
        }
    }
}
