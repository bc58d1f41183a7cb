import Foundation
import GantryAPI
import KubeCore
import KubeRuntime
import MetricsTestKit
import Testing
@testable import GantryControllers

/// GPU-hours per namespace and month, budget crossings, idle windows and the admission of a namespace past its
/// budget, as pure functions (the end-to-end behaviour: EndToEndTests/BudgetTests).
@Suite struct GPUAccountingTests {
    static func date(_ text: String) throws -> Date { try #require(Timestamp.parse(text)) }

    static func spec(_ hours: Double, warning: Double? = nil, defaultHours: Double? = nil) -> PlatformConfigSpec {
        var spec = PlatformConfigSpec()
        var budgets = GPUBudgets()
        budgets.namespaces = [NamespaceBudget(namespace: "team", gpuHoursPerMonth: hours, warningFraction: warning)]
        budgets.defaultGPUHoursPerMonth = defaultHours
        spec.budgets = budgets
        return spec
    }

    @Test func usageGrowsByWhatEachPodHeldSinceTheLastAccountingOrItsStart() throws {
        var status = PlatformConfigStatus()
        status.accountedAt = "2026-12-03T10:00:00Z"
        status.budgets = [NamespaceUsage(namespace: "team", month: "2026-12", usedGPUHours: 1)]
        let pods = [GPUPod(namespace: "team", name: "a", node: "n", gpus: 2, startedAt: try Self.date("2026-12-03T09:00:00Z")),
                    // started after the last accounting: counted from its start only
                    GPUPod(namespace: "team", name: "b", node: "n", gpus: 1, startedAt: try Self.date("2026-12-03T10:30:00Z")),
                    GPUPod(namespace: "other", name: "c", node: "n", gpus: 4, startedAt: try Self.date("2026-12-01T00:00:00Z"))]
        let (next, _) = GPUAccounting.advance(status, pods: pods, spec: Self.spec(100), now: try Self.date("2026-12-03T11:00:00Z"))
        #expect(next.usage(of: "team")?.usedGPUHours == 1 + 2 + 0.5)
        #expect(next.usage(of: "team")?.state == .withinBudget)
        #expect(next.usage(of: "other")?.usedGPUHours == 4, "a namespace without a budget is counted too")
        #expect(next.usage(of: "other")?.state == .unlimited)
        #expect(next.accountedAt == "2026-12-03T11:00:00Z")
    }

    @Test func aFirstAccountingCountsRunningPodsFromTheirStartWithinTheMonth() throws {
        let pods = [GPUPod(namespace: "team", name: "a", node: "n", gpus: 1, startedAt: try Self.date("2026-11-30T23:00:00Z"))]
        let (next, _) = GPUAccounting.advance(PlatformConfigStatus(), pods: pods, spec: Self.spec(100), now: try Self.date("2026-12-01T02:00:00Z"))
        #expect(next.usage(of: "team")?.usedGPUHours == 2, "November's hour belongs to November")
    }

    @Test func aNewMonthStartsFromZeroAndReleasesTheNamespace() throws {
        var status = PlatformConfigStatus()
        status.accountedAt = "2026-12-31T23:59:00Z"
        var old = NamespaceUsage(namespace: "team", month: "2026-12", usedGPUHours: 50)
        old.notified = ["Warning", "Exhausted"]
        status.budgets = [old]
        let spec = Self.spec(10)
        #expect(BudgetStanding.exhausted("team", spec: spec, status: status, now: try Self.date("2026-12-31T23:59:30Z")) != nil)
        let now = try Self.date("2027-01-01T00:00:30Z")
        #expect(BudgetStanding.exhausted("team", spec: spec, status: status, now: now) == nil, "December's figure does not hold January back")
        let (next, notices) = GPUAccounting.advance(status, pods: [], spec: spec, now: now)
        let usage = try #require(next.usage(of: "team"))
        #expect(usage.month == "2027-01" && usage.usedGPUHours == 0 && usage.notified == nil && usage.state == .withinBudget)
        #expect(notices.isEmpty)
    }

    @Test func eachCrossingIsAnnouncedOncePerMonth() throws {
        let spec = Self.spec(10, warning: 0.5)
        let pod = GPUPod(namespace: "team", name: "a", node: "n", gpus: 1, startedAt: try Self.date("2026-12-03T00:00:00Z"))
        var status = PlatformConfigStatus()
        var sent: [BudgetNotice.Kind] = []
        for hour in 1...12 {
            let (next, notices) = GPUAccounting.advance(status, pods: [pod], spec: spec, now: try Self.date(String(format: "2026-12-03T%02d:00:00Z", hour)))
            sent += notices.map(\.kind)
            status = next
        }
        #expect(sent == [.warning, .exhausted])
        #expect(status.usage(of: "team")?.state == .exhausted)
        #expect(status.usage(of: "team")?.notified == ["Warning", "Exhausted"])
        // Raised: within budget again, and nothing is announced a second time this month.
        let (raised, notices) = GPUAccounting.advance(status, pods: [pod], spec: Self.spec(1000, warning: 0.5), now: try Self.date("2026-12-03T13:00:00Z"))
        #expect(raised.usage(of: "team")?.state == .withinBudget && notices.isEmpty)
        #expect(BudgetStanding.exhausted("team", spec: Self.spec(1000), status: status, now: try Self.date("2026-12-03T13:00:00Z")) == nil)
    }

    @Test func theDefaultBudgetCoversNamespacesWithoutAnEntry() throws {
        let spec = Self.spec(10, defaultHours: 1)
        var status = PlatformConfigStatus()
        status.budgets = [NamespaceUsage(namespace: "elsewhere", month: "2026-12", usedGPUHours: 1.5)]
        let standing = try #require(BudgetStanding.exhausted("elsewhere", spec: spec, status: status, now: try Self.date("2026-12-03T00:00:00Z")))
        #expect(standing.message.contains("used 1.5 of its 1 GPU-hours for 2026-12") && standing.message.contains("2027-01-01T00:00:00Z"), "\(standing.message)")
        #expect(BudgetStanding.exhausted("elsewhere", spec: Self.spec(10), status: status, now: try Self.date("2026-12-03T00:00:00Z")) == nil)
    }

    @Test func aPodIsIdleOnlyAfterEveryGPUStayedBelowTheThresholdForTheWindow() throws {
        var settings = IdleGPUSettings()
        settings.utilizationThresholdPercent = 5
        settings.windowSeconds = 60
        let owner = OwnerReference(apiVersion: "gantry.dev/v1alpha1", kind: "Notebook", name: "nb", uid: "u")
        let pods = [GPUPod(namespace: "team", name: "nb", node: "n1", gpus: 2, owner: owner),
                    GPUPod(namespace: "team", name: "busy", node: "n1", gpus: 1)]
        let t0 = try Self.date("2026-12-03T10:00:00Z")
        var result = IdleGPUTracking.check(previous: [], pods: pods, readings: ["team/nb": [1, 3], "team/busy": [80]], settings: settings, now: t0)
        #expect(result.idleGPUs.map(\.pod) == ["nb"] && result.idleGPUs.first?.idle == false && result.newlyIdle.isEmpty)
        #expect(result.utilization.contains(UtilizationLevel(scope: .node, name: "n1", gpus: 3, meanPercent: 28)))
        // One GPU busy for a moment starts the window again.
        let busyAgain = IdleGPUTracking.check(previous: result.idleGPUs, pods: pods, readings: ["team/nb": [1, 30]], settings: settings, now: t0 + 30)
        #expect(busyAgain.idleGPUs.isEmpty)
        // A pod that could not be read keeps its state; past the window it is idle, announced once.
        result = IdleGPUTracking.check(previous: result.idleGPUs, pods: pods, readings: [:], settings: settings, now: t0 + 30)
        #expect(result.idleGPUs.count == 1 && result.newlyIdle.isEmpty)
        result = IdleGPUTracking.check(previous: result.idleGPUs, pods: pods, readings: ["team/nb": [0, 0]], settings: settings, now: t0 + 60)
        #expect(result.newlyIdle.map(\.pod) == ["nb"] && result.idleGPUs.first?.ownerName == "nb" && result.idleGPUs.first?.idleSince == "2026-12-03T10:00:00Z")
        result = IdleGPUTracking.check(previous: result.idleGPUs, pods: pods, readings: ["team/nb": [0, 0]], settings: settings, now: t0 + 90)
        #expect(result.newlyIdle.isEmpty && result.idleGPUs.first?.idle == true)
        // A pod gone is forgotten.
        #expect(IdleGPUTracking.check(previous: result.idleGPUs, pods: [], readings: [:], settings: settings, now: t0 + 120).idleGPUs.isEmpty)
    }

    @Test func aNamespacePastItsBudgetHasItsNewGPUJobsHeldOutsideTheQueue() throws {
        let nodes = [gpuNode("n0", gpus: 8)]
        let job = try TrainingJob(AdmissionLedgerTests.jobObject(1, replicas: 1))
        let placement = GPUPlacement(request: job.spec.gpu, settings: GPUSettings())
        let candidate = GangAdmission.Candidate(job: job, placement: placement, tolerations: placement.tolerations, admitted: false, boundPods: 0, waitingSince: nil)
        let standing = BudgetStanding(namespace: "ml", month: "2026-12", usedGPUHours: 11, gpuHours: 10)
        let held = GangAdmission.decide(candidates: [candidate], nodes: nodes, usedGPUs: [:], platform: .init(), exhausted: ["ml": standing], now: 0)
        #expect(held[job.key] == .budgetExhausted(message: standing.message))
        var running = candidate
        running.admitted = true
        #expect(GangAdmission.decide(candidates: [running], nodes: nodes, usedGPUs: [:], platform: .init(), exhausted: ["ml": standing], now: 0)[job.key] == .admitted,
                "running work is never stopped")
        #expect(GangAdmission.decide(candidates: [candidate], nodes: nodes, usedGPUs: [:], platform: .init(), now: 0)[job.key] == .admitted)
        // A job without GPUs uses no GPU-hours: never held.
        var cpuObject = AdmissionLedgerTests.jobObject(2, replicas: 1)
        cpuObject[path: "spec", "gpu"] = nil
        let cpuJob = try TrainingJob(cpuObject)
        let none = GPUPlacement(request: cpuJob.spec.gpu, settings: GPUSettings())
        let cpu = GangAdmission.Candidate(job: cpuJob, placement: none, tolerations: [], admitted: false, boundPods: 0, waitingSince: nil)
        #expect(GangAdmission.decide(candidates: [cpu], nodes: nodes, usedGPUs: [:], platform: .init(), exhausted: ["ml": standing], now: 0)[cpuJob.key] == .admitted)
    }

    /// The accountant writes the PlatformConfig's status every period: only a change admission reads (the spec,
    /// or which namespaces are exhausted) may requeue every TrainingJob and drop the ledger's decisions.
    @Test func onlyAChangeAdmissionReadsRequeuesEveryJob() async throws {
        let ledger = AdmissionLedger()
        let now = try Self.date("2026-12-03T10:00:00Z").timeIntervalSince1970
        func config(used: Double, budget: Double = 1) -> JSONValue {
            var object: JSONValue = ["apiVersion": "gantry.dev/v1alpha1", "kind": "PlatformConfig",
                                     "spec": ["budgets": ["namespaces": [["namespace": "team", "gpuHoursPerMonth": .double(budget)]]]],
                                     "status": ["accountedAt": .string("2026-12-03T10:00:\(Int(used * 10))Z"),
                                                "budgets": [["namespace": "team", "month": "2026-12", "usedGPUHours": .double(used)]]]]
            object.name = "default"
            return object
        }
        #expect(await ledger.observePlatform(.upserted(config(used: 0.1), old: nil), now: now))
        #expect(await !ledger.observePlatform(.upserted(config(used: 0.5), old: nil), now: now), "only the GPU-hours moved on")
        #expect(await ledger.observePlatform(.upserted(config(used: 1.2), old: nil), now: now), "the namespace is exhausted")
        #expect(await !ledger.observePlatform(.upserted(config(used: 1.3), old: nil), now: now))
        #expect(await ledger.observePlatform(.upserted(config(used: 1.3, budget: 10), old: nil), now: now), "the budget was raised")
        #expect(await ledger.observePlatform(.deleted(config(used: 1.3, budget: 10)), now: now))
    }

    /// Prometheus' instant vector as readings: the exporter's pod labels (exported_ ones win), GPUs without a pod
    /// skipped, a failed or non-vector answer an error naming why.
    @Test func aPrometheusVectorIsReadByNamespaceAndPod() throws {
        let answer = try JSONValue.parse(#"""
            {"status":"success","data":{"resultType":"vector","result":[
              {"metric":{"__name__":"DCGM_FI_DEV_GPU_UTIL","gpu":"0","namespace":"team","pod":"a"},"value":[1,"3"]},
              {"metric":{"gpu":"1","namespace":"team","pod":"a"},"value":[1,"40"]},
              {"metric":{"gpu":"2","namespace":"monitoring","pod":"dcgm","exported_namespace":"team","exported_pod":"b"},"value":[1,"0"]},
              {"metric":{"gpu":"3"},"value":[1,"0"]}]}}
            """#)
        let readings = try PrometheusQuery.readings(answer)
        #expect(readings == ["team/a": [3, 40], "team/b": [0]])
        #expect(throws: PrometheusQuery.Failure.self) { try PrometheusQuery.readings(["status": "error", "error": "parse error"]) }
        #expect(throws: PrometheusQuery.Failure.self) { try PrometheusQuery.readings(["status": "success", "data": ["resultType": "matrix", "result": []]]) }
        #expect(PrometheusQuery.url(base: "http://prom:9090/", query: "max by (pod) (DCGM_FI_DEV_GPU_UTIL)")
                == "http://prom:9090/api/v1/query?query=max%20by%20%28pod%29%20%28DCGM_FI_DEV_GPU_UTIL%29")
    }

    /// The budget gauges in GPU-seconds (Prometheus' base unit) and the idle gauge by namespace and kind: 0 for what
    /// holds GPUs without being idle, gone with leadership.
    @Test func budgetAndIdleGaugesFollowTheStatus() throws {
        let metrics = TestMetrics()
        var gauges = BudgetGauges(factory: metrics)
        var spec = Self.spec(2)
        spec.idleGPUs = IdleGPUSettings()
        var status = PlatformConfigStatus()
        var usage = NamespaceUsage(namespace: "team", month: "2026-12", usedGPUHours: 0.5)
        usage.gpuHoursPerMonth = 2
        status.budgets = [usage]
        var idle = IdleGPUPod(namespace: "team", pod: "nb", gpus: 2, idleSince: "2026-12-03T10:00:00Z", idle: true)
        idle.ownerKind = "Notebook"
        status.idleGPUs = [idle]
        let owner = OwnerReference(apiVersion: "gantry.dev/v1alpha1", kind: "TrainingJob", name: "j", uid: "u")
        let holding = [GPUPod(namespace: "team", name: "j-0", node: "n", gpus: 1, owner: owner)]
        gauges.publish(["status": try JSONValue(encoding: status)], spec: spec, holding: holding)
        let team = [("namespace", "team")]
        #expect(try metrics.expectGauge(PlatformMetricNames.budgetUsed, team).lastValue == 1800)
        #expect(try metrics.expectGauge(PlatformMetricNames.budgetLimit, team).lastValue == 7200)
        #expect(try metrics.expectGauge(PlatformMetricNames.budgetRatio, team).lastValue == 0.25)
        #expect(try metrics.expectGauge(PlatformMetricNames.gpusIdle, team + [("kind", "Notebook")]).lastValue == 2)
        #expect(try metrics.expectGauge(PlatformMetricNames.gpusIdle, team + [("kind", "TrainingJob")]).lastValue == 0)
        gauges.clear()
        #expect(metrics.recorders.isEmpty)
    }
}
