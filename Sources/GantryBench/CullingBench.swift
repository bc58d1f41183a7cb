import Foundation
import GantryAPI
import KubeClient
import KubeCore

/// `culling` (issue #14 scenario 8): Notebooks asked every second (`checkPeriodSeconds: 1`), culled after 10 s idle
/// (the schema's minimum). Idle ones run the simulated Jupyter's default script (no connection, `last_activity` at
/// its start); active ones answer `/api/status` with a connection, as a browser tab keeps it. Processes as in
/// `blue-green`: `gantry dev`, `gantry controller`, and this one watching.
///
/// Idle detected is the instant the operator's own record makes the notebook cullable: `max(lastActivity,
/// startedAt) + idleTimeoutSeconds` from its status (whole seconds, as the operator knows it); pod deleted is when
/// this process's pod watch saw the pod's `deletionTimestamp`. Target: within one check period. Every check
/// writes `status.culling.lastCheck`, so checks of the active notebooks are counted on a Notebook watch until
/// there are enough (1,000 by default): not one of them may be culled.
public struct CullingBench: Sendable {
    public var idleNotebooks = 10
    public var activeNotebooks = 20
    public var activeChecks = 1_000
    public var timeout: Duration = .seconds(300)
    let name = "culling"
    let idleTimeout = 10

    public init(quick: Bool) {
        if quick { idleNotebooks = 3; activeNotebooks = 3; activeChecks = 30; timeout = .seconds(120) }
    }

    static let activeScript = #"{http: {"/api/status": {body: {last_activity: "{now}", connections: 1, kernels: 1}}, "/api/kernels": {body: []}, "/api/terminals": {body: []}}}"#

    func notebook(_ name: String, active: Bool) -> JSONValue {
        var spec: JSONValue = ["image": "jupyter/base-notebook:latest", "workspace": ["size": "1Gi"],
                               "culling": ["idleTimeoutSeconds": .int(Int64(idleTimeout)), "checkPeriodSeconds": 1]]
        if active { spec["podMetadata"] = ["annotations": ["sim.gantry.dev/script": .string(Self.activeScript)]] }
        var object: JSONValue = ["apiVersion": .string(GantryGroup.apiVersion), "kind": "Notebook", "spec": spec]
        object.name = name
        object.namespace = "default"
        return object
    }

    public func run(log: @Sendable (String) -> Void) async throws -> [BenchFigure] {
        // CPU nodes: GPU nodes are tainted, and these notebooks ask for no GPU.
        try await ControllerProcess.withOperator(nodes: "2x{cpu: 64}") { dev, client, controller in
            try await measure(client: client, dev: dev, controller: controller, log: log)
        }
    }

    func measure(client: KubeClient, dev: DevProcess, controller: ControllerProcess, log: @Sendable (String) -> Void) async throws -> [BenchFigure] {
        let observer = CullObserver()
        let podWatch = Task { await watchGantryPods(client: client, listed: {}, note: { await observer.notePod($0) }) }
        let notebookWatch = Task { await watchObjects(.notebooks, client: client, options: ListOptions(), listed: {}, note: { await observer.noteNotebook($0) }) }
        defer { podWatch.cancel(); notebookWatch.cancel() }

        let idle = (0..<idleNotebooks).map { "idle-\($0)" }, active = (0..<activeNotebooks).map { "active-\($0)" }
        let serverBefore = dev.cpuTime(), controllerBefore = controller.cpuTime()
        for n in active { _ = try await client.create(.notebooks, notebook(n, active: true), namespace: "default") }
        for n in idle { _ = try await client.create(.notebooks, notebook(n, active: false), namespace: "default") }
        log("\(name): \(idleNotebooks) idle and \(activeNotebooks) active notebooks, culled after \(idleTimeout) s idle, checked every second")

        let deadline = ContinuousClock.now + timeout
        var lastReport = ContinuousClock.now
        while true {
            let culled = await observer.deletedPods(of: idle).count, checks = await observer.checks(of: active)
            if culled == idle.count && checks >= activeChecks { break }
            if ContinuousClock.now - lastReport > .seconds(10) {
                lastReport = ContinuousClock.now
                log("\(name): \(culled) of \(idle.count) idle notebooks culled, \(checks) checks of active ones; phases: \(await observer.phases())")
            }
            guard ContinuousClock.now < deadline else {
                throw BenchError.timeout("after \(timeout): \(culled) of \(idle.count) idle notebooks culled, \(checks) of \(activeChecks) checks of active ones")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        let serverCPU = dev.cpuTime() - serverBefore, controllerCPU = controller.cpuTime() - controllerBefore
        let deleted = await observer.deletedPods(of: idle)
        var latencies = Samples()
        for n in idle {
            let status = try await client.get(.notebooks, namespace: "default", name: n)["status"] ?? .null
            let last = [status["lastActivity"], status["startedAt"]].compactMap { $0?.stringValue.flatMap(Timestamp.parse) }.max()
            guard let last, let seen = deleted[n] else { throw BenchError.wrongResult("\(n): no lastActivity/startedAt in status, or no pod deletion seen") }
            let latency = seen.timeIntervalSince(last.addingTimeInterval(Double(idleTimeout)))
            latencies.append(.microseconds(Int64(latency * 1e6)))
            log("\(name): \(n): pod deletion seen \(Int(latency * 1000)) ms after its idle timeout ran out")
        }
        let checks = await observer.checks(of: active)
        let wronglyCulled = await observer.deletedPods(of: active).count + (await observer.culledNotebooks(of: active))
        let probeErrors = await observer.probeErrorChecks(of: active)
        let totalChecks = checks + (await observer.checks(of: idle))
        let verdict = latencies.p99 <= .seconds(1) ? "target ≤ 1 check period (1 s): met" : "target ≤ 1 check period (1 s): MISSED"
        return [
            BenchFigure(name, "idle timeout ran out → pod deletion seen, p50", latencies.median.milliseconds, "ms", note: "\(idle.count) idle notebooks; whole-second activity stamps"),
            BenchFigure(name, "idle timeout ran out → pod deletion seen, p99", latencies.p99.milliseconds, "ms", note: verdict),
            BenchFigure(name, "checks of active notebooks", Double(checks), "", note: "\(active.count) notebooks, status.culling.lastCheck changes"),
            BenchFigure(name, "active notebooks culled (pod deleted or Culled)", Double(wronglyCulled), "", note: wronglyCulled == 0 ? "target 0: met" : "target 0: MISSED"),
            BenchFigure(name, "checks of active notebooks with probe errors", Double(probeErrors), "", note: "a probe error never culls; expected 0 here"),
            BenchFigure(name, "controller CPU per check", (controllerCPU / max(1, totalChecks)).milliseconds, "ms", note: "gantry controller process; all notebooks' checks, starts and culls included"),
            BenchFigure(name, "API server CPU per check", (serverCPU / max(1, totalChecks)).milliseconds, "ms", note: "gantry dev process, with the simulated Jupyter servers"),
        ]
    }
}

/// What the watches saw: each Notebook's distinct `status.culling.lastCheck` values (one per check), whether it was
/// reported Culled, and when each notebook's pod first arrived with a `deletionTimestamp`.
actor CullObserver {
    private var lastChecks: [String: Set<String>] = [:]
    private var errorChecks: [String: Set<String>] = [:]
    private var culled = Set<String>()
    private var phase: [String: String] = [:]
    private var deletions: [String: Date] = [:]

    func noteNotebook(_ nb: JSONValue) {
        guard let name = nb.name else { return }
        if let check = nb[path: "status", "culling", "lastCheck"]?.stringValue {
            lastChecks[name, default: []].insert(check)
            if nb[path: "status", "culling", "probeErrors"] != nil { errorChecks[name, default: []].insert(check) }
        }
        if nb[path: "status", "phase"] == "Culled" { culled.insert(name) }
        phase[name] = nb[path: "status", "phase"]?.stringValue ?? "-"
    }

    func notePod(_ pod: JSONValue) {
        guard pod.deletionTimestamp != nil,
              let owner = pod[path: "metadata", "ownerReferences"]?.arrayValue?.first(where: { $0["kind"] == "Notebook" })?["name"]?.stringValue,
              deletions[owner] == nil else { return }
        deletions[owner] = Date()
    }

    /// How many notebooks are in each phase (progress lines).
    func phases() -> [String: Int] { phase.values.reduce(into: [:]) { $0[$1, default: 0] += 1 } }

    func checks(of names: [String]) -> Int { names.reduce(0) { $0 + (lastChecks[$1]?.count ?? 0) } }
    func probeErrorChecks(of names: [String]) -> Int { names.reduce(0) { $0 + (errorChecks[$1]?.count ?? 0) } }
    func culledNotebooks(of names: [String]) -> Int { names.count { culled.contains($0) } }
    func deletedPods(of names: [String]) -> [String: Date] { deletions.filter { names.contains($0.key) } }
}
