import Testing
import Foundation
import KubeCore
import KubeRuntime
import GantryAPI
@testable import GantryControllers

/// The ledger must give GangAdmission's decisions while computing them once per burst, not once per job.
@Suite struct AdmissionLedgerTests {
    static func jobObject(_ i: Int, gpus: Int = 1, replicas: Int = 2, admitted: Bool = false, rv: Int = 1) -> JSONValue {
        var o: JSONValue = ["apiVersion": "gantry.dev/v1alpha1", "kind": "TrainingJob",
                            "spec": ["image": "t", "replicas": .int(Int64(replicas)), "gpu": ["count": .int(Int64(gpus))],
                                     "distributed": ["framework": "pytorch"]]]
        o.name = String(format: "job-%04d", i)
        o.namespace = "ml"
        o[path: "metadata", "uid"] = .string("uid-\(i)")
        o[path: "metadata", "resourceVersion"] = .string(String(rv))
        o[path: "metadata", "creationTimestamp"] = .string(String(format: "2026-12-01T10:%02d:%02dZ", i / 60, i % 60))
        if admitted {
            o[path: "status", "conditions"] = [["type": "Admitted", "status": "True", "reason": "Admitted", "message": "",
                                                "lastTransitionTime": "2026-12-01T10:00:00Z"]]
        }
        return o
    }

    @Test func aBurstIsDecidedByOneComputationAndAgreesWithGangAdmission() async throws {
        let nodes = (0..<10).map { gpuNode("n\($0)", gpus: 8) }  // 80 GPUs: 40 two-replica jobs fit
        let ledger = AdmissionLedger(maxAge: 1e9)
        var jobs: [JSONValue] = []
        let now = 1_780_000_000.0
        // The first job computes; the rest arrive one by one and continue the pass.
        jobs.append(Self.jobObject(0))
        await ledger.observe(.upserted(jobs[0], old: nil))
        _ = await ledger.decision(for: jobs[0].objectKey, jobs: jobs, pods: [], nodes: nodes, platform: .init(), now: now)
        var decisions: [ObjectKey: GangAdmission.Decision] = [:]
        for i in 1..<60 {
            let job = Self.jobObject(i)
            jobs.append(job)
            await ledger.observe(.upserted(job, old: nil))
            decisions[job.objectKey] = await ledger.currentDecision(for: job.objectKey, settings: GPUSettings(), now: now)
        }
        #expect(await ledger.computations == 1)
        // Admitting the ones decided admitted does not recompute either.
        for job in jobs.prefix(40) {
            var admitted = Self.jobObject(Int(job.name?.suffix(4) ?? "") ?? 0, admitted: true, rv: 2)
            admitted.name = job.name
            await ledger.observe(.upserted(admitted, old: nil))
        }
        #expect(await ledger.computations == 1)
        let candidates = try jobs.map { o -> GangAdmission.Candidate in
            let job = try TrainingJob(o)
            let p = GPUPlacement(request: job.spec.gpu, settings: GPUSettings())
            return .init(job: job, placement: p, tolerations: p.tolerations, admitted: false, boundPods: 0, waitingSince: nil)
        }
        let reference = GangAdmission.decide(candidates: candidates, nodes: nodes, usedGPUs: [:], platform: .init(), now: now)
        for (key, decision) in decisions { #expect(reference[key] == decision, "\(key)") }
        #expect(reference.values.filter { $0 == .admitted }.count == 40)
    }

    /// Jobs created in the same second sort by name (`run-10` before `run-9`): while every job so far is
    /// admitted, an arrival out of that order continues the pass; once one waits, it computes afresh, and
    /// either way the decisions are GangAdmission's.
    @Test func sameSecondArrivalsOutOfNameOrderContinueThePassWhileNobodyWaits() async throws {
        let nodes = (0..<2).map { gpuNode("n\($0)", gpus: 8) }  // 16 GPUs: 8 two-replica jobs fit
        let ledger = AdmissionLedger(maxAge: 1e9)
        let now = 1_780_000_000.0
        func job(_ i: Int) -> JSONValue {
            var o = Self.jobObject(i)
            o.name = "run-\(i)"  // not zero-padded: run-10 sorts before run-9
            o[path: "metadata", "creationTimestamp"] = "2026-12-01T10:00:00Z"
            return o
        }
        var jobs = [job(1)]
        await ledger.observe(.upserted(jobs[0], old: nil))
        _ = await ledger.decision(for: jobs[0].objectKey, jobs: jobs, pods: [], nodes: nodes, platform: .init(), now: now)
        var decisions: [ObjectKey: GangAdmission.Decision] = [:]
        for i in [2, 3, 4, 5, 6, 7, 10] {  // all fit; run-10 sorts before run-2
            let o = job(i)
            jobs.append(o)
            await ledger.observe(.upserted(o, old: nil))
            decisions[o.objectKey] = await ledger.currentDecision(for: o.objectKey, settings: GPUSettings(), now: now)
        }
        #expect(await ledger.computations == 1)
        #expect(decisions.count == 7 && decisions.values.allSatisfy { $0 == .admitted }, "\(decisions)")
        // Their reconciles write Admitted, as the controller does right after the decision.
        for (i, o) in jobs.enumerated() {
            var admitted = o
            admitted[path: "metadata", "resourceVersion"] = "2"
            admitted[path: "status", "conditions"] = [["type": "Admitted", "status": "True", "reason": "Admitted", "message": "",
                                                       "lastTransitionTime": "2026-12-01T10:00:00Z"]]
            jobs[i] = admitted
            await ledger.observe(.upserted(admitted, old: nil))
        }
        #expect(await ledger.computations == 1)
        // run-9 does not fit and waits (it sorts last: the pass continues); run-8 then sorts before it, so the
        // pass cannot be continued.
        for i in [9, 8] {
            let o = job(i)
            jobs.append(o)
            await ledger.observe(.upserted(o, old: nil))
            decisions[o.objectKey] = await ledger.decision(for: o.objectKey, jobs: jobs, pods: [], nodes: nodes, platform: .init(), now: now)
        }
        #expect(await ledger.computations == 2)
        decisions[jobs[8].objectKey] = await ledger.currentDecision(for: jobs[8].objectKey, settings: GPUSettings(), now: now)
        #expect(decisions[jobs[8].objectKey] == .queued(position: 2, reason: "not enough free nvidia.com/gpu: the gang needs 2 × 1 on matching nodes"))
        let candidates = try jobs.map { o -> GangAdmission.Candidate in
            let job = try TrainingJob(o)
            let p = GPUPlacement(request: job.spec.gpu, settings: GPUSettings())
            return .init(job: job, placement: p, tolerations: p.tolerations, admitted: job.status.conditions?.isTrue("Admitted") == true,
                         boundPods: 0, waitingSince: nil)
        }
        let reference = GangAdmission.decide(candidates: candidates, nodes: nodes, usedGPUs: [:], platform: .init(), now: now)
        for (key, decision) in decisions { #expect(reference[key] == decision, "\(key)") }
        // The recomputation puts run-8 first among the waiting, as the order says.
        #expect(decisions[jobs[9].objectKey] == .queued(position: 1, reason: "not enough free nvidia.com/gpu: the gang needs 2 × 1 on matching nodes"))
    }

    @Test func aFinishedJobOrANodeChangeMakesTheNextDecisionComputeAfresh() async throws {
        let nodes = [gpuNode("n0", gpus: 4)]
        let ledger = AdmissionLedger(maxAge: 1e9)
        let a = Self.jobObject(0, gpus: 2, admitted: true)
        let b = Self.jobObject(1, gpus: 2)
        for o in [a, b] { await ledger.observe(.upserted(o, old: nil)) }
        await ledger.observeNode(.upserted(nodes[0], old: nil))  // as the initial list delivers it
        let now = 1_780_000_000.0
        let first = await ledger.decision(for: b.objectKey, jobs: [a, b], pods: [], nodes: nodes, platform: .init(), now: now)
        #expect(first != .admitted)  // a holds all 4 GPUs
        var finished = a
        finished[path: "status", "phase"] = "Succeeded"
        finished[path: "metadata", "resourceVersion"] = "2"
        await ledger.observe(.upserted(finished, old: nil))
        #expect(await ledger.currentDecision(for: b.objectKey, settings: GPUSettings(), now: now) == nil)
        #expect(await ledger.decision(for: b.objectKey, jobs: [finished, b], pods: [], nodes: nodes, platform: .init(), now: now) == .admitted)
        // A heartbeat does not invalidate; a capacity change does.
        var heartbeat = nodes[0]
        heartbeat[path: "metadata", "resourceVersion"] = "9"
        await ledger.observeNode(.upserted(heartbeat, old: nil))
        #expect(await ledger.currentDecision(for: b.objectKey, settings: GPUSettings(), now: now) == .admitted)
        var smaller = nodes[0]
        smaller[path: "status", "allocatable", "nvidia.com/gpu"] = "1"
        await ledger.observeNode(.upserted(smaller, old: nil))
        #expect(await ledger.currentDecision(for: b.objectKey, settings: GPUSettings(), now: now) == nil)
    }
}
