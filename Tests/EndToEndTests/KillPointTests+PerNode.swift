import EmbeddedCluster
import Foundation
import GantryAPI
import GantryControllers
import GantryTestSupport
import KubeClient
import KubeCore
import Testing

/// `placement: perNode`: the controller SIGKILLed when the candidate's DaemonSet reports every node ready, which is
/// when it swaps; the next process finishes the swap without a new DaemonSet or pod.
extension KillPointTests {
    static func daemonSetCreates(_ f: KillPointFixture) -> Int {
        f.controllerRequests().count { $0.method == "POST" && $0.path.hasSuffix("/daemonsets") }
    }

    /// UIDs of the green pods of the perNode service `name`.
    static func greenPods(_ f: KillPointFixture, _ name: String) async throws -> Set<String> {
        Set(try await f.admin.list(.pods, namespace: "default").items
            .filter { $0.labels[GantryLabels.instance] == name && $0.labels[GantryLabels.color] == "green" }.compactMap(\.uid))
    }

    /// Serves `image` from green's DaemonSet alone, whose pods are exactly `pods`; alias on green, no candidate.
    static func servesOnlyGreenPerNode(_ f: KillPointFixture, _ name: String, _ image: String, pods green: Set<String>) async throws -> Bool {
        let s = try await f.get(.inferenceServices, "default", name)?["status"]
        let alias = try await aliasColor(f, name)
        let sets = try await f.admin.list(.daemonSets, namespace: "default").items.compactMap(\.name)
        let pods = try await f.admin.list(.pods, namespace: "default").items.filter { $0.labels[GantryLabels.instance] == name }
        return s?[path: "activeRevision", "image"]?.stringValue == image && s?["candidate"] == nil && alias == "green"
            && sets.count == 1 && sets.allSatisfy { $0.hasPrefix("\(name)-green-") } && Set(pods.compactMap(\.uid)) == green
    }

    @Test func killedWhenTheCandidateDaemonSetIsReadyAPerNodeServiceSwapsOnceWithoutANewPod() async throws {
        try await withCluster(KillPointFixture.start(nodes: "2x{cpu: 8, name: edge, labels: {edge: 'true'}}, 1x{cpu: 8, name: core}")) { f async throws in
            let ledger = PodLedger()
            try await ledger.start(f.admin)
            defer { ledger.stop() }
            try await f.apply(InferenceServicePlacementTests.perNode("e", image: "acme/detector:1", rollout: "{scaleDownDelaySeconds: 0}"))
            #expect(try await eventually(timeout: .seconds(60)) {
                let s = try await f.get(.inferenceServices, "default", "e")?["status"]
                return s?[path: "activeRevision", "image"] == "acme/detector:1" && s?["readyReplicas"] == 2
            })

            // Killed the instant a watch shows the green DaemonSet's status with every node ready and updated.
            let from = try await f.admin.list(.daemonSets, namespace: "default").resourceVersion
            let watching = Task { () -> Bool in
                do {
                    for try await event in f.admin.watch(.daemonSets, namespace: "default", options: ListOptions(resourceVersion: from, timeoutSeconds: 60)) {
                        guard case .modified(let ds) = event, ds.name?.hasPrefix("e-green-") == true, InferenceDaemonSets.Progress(ds).complete else { continue }
                        f.killNow()
                        return true
                    }
                } catch {}
                return false
            }
            try await f.apply(InferenceServicePlacementTests.perNode("e", image: "acme/detector:2", rollout: "{scaleDownDelaySeconds: 0}"))
            #expect(await watching.value, "the green DaemonSet became ready")
            await f.kill()
            let landed = try await f.get(.inferenceServices, "default", "e")?[path: "status", "activeRevision", "image"]?.stringValue
            let alias = try await Self.aliasColor(f, "e")
            print("KillPointTests: perNode killed with the active revision at \(landed ?? "?"), alias on \(alias ?? "?")")
            let dsCreates = Self.daemonSetCreates(f)
            let green = try await Self.greenPods(f, "e")
            #expect(green.count == 2)

            try f.startController()
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.servesOnlyGreenPerNode(f, "e", "acme/detector:2", pods: green) })
            #expect(Self.daemonSetCreates(f) == dsCreates, "no DaemonSet made again")
            // A kill between the status write and its Event loses the Event (never repeats it): at most one.
            #expect(try await f.events("default", "e", reason: "Swapped").count <= 1)
            #expect(try await f.get(.inferenceServices, "default", "e")?[path: "status", "lastSwap", "reason"] == "Swapped")
            #expect(ledger.duplicates.isEmpty, "\(ledger.duplicates)")
            #expect(ledger.recreated(prefix: "default/svc/e/").isEmpty, "\(ledger.recreated(prefix: "default/svc/e/"))")
            #expect(ledger.slots(prefix: "default/svc/e/green/").count == 2, "\(ledger.slots(prefix: "default/svc/e/"))")
            try await expectNoOrphans(f.admin, namespaces: ["default"])
        }
    }
}

/// `placement: perNode`, the exact point: the swap on record (status, Event) and the alias Service not yet moved
/// (the controller's patch of it refused), the controller SIGKILLed there. The next process moves the alias once,
/// with no new DaemonSet or pod, the swap not lost and nothing orphaned.
extension KillPointTests {
    @Test func aPerNodeSwapRecordedButNotYetOnTheAliasIsFinishedOnceByTheNextController() async throws {
        try await withCluster(KillPointFixture.start(nodes: InferenceServicePlacementTests.quickNodes)) { f async throws in
            let ledger = PodLedger()
            try await ledger.start(f.admin)
            defer { ledger.stop() }
            let rollout = "{scaleDownDelaySeconds: 0, autoPromote: false}"
            try await f.apply(InferenceServicePlacementTests.perNode("s", image: "acme/detector:1", rollout: rollout))
            #expect(try await eventually(timeout: .seconds(60)) {
                let s = try await f.get(.inferenceServices, "default", "s")?["status"]
                return s?[path: "activeRevision", "image"] == "acme/detector:1" && s?["readyReplicas"] == 2
            })
            try await f.apply(InferenceServicePlacementTests.perNode("s", image: "acme/detector:2", rollout: rollout))
            #expect(try await eventually(timeout: .seconds(60)) {
                try await f.get(.inferenceServices, "default", "s")?[path: "status", "candidate", "phase"] == "AwaitingPromotion"
            })
            let dsCreates = Self.daemonSetCreates(f)
            let green = try await Self.greenPods(f, "s")
            #expect(green.count == 2)

            // Promoted with every Service patch refused: the controller decides the swap, records it, and fails to
            // move the alias. Killed there.
            Self.refuseServicePatches(f)
            try await Self.promote(f, "s")
            try await Self.killOnceTheSwapIsDecidedButTheAliasRefused(f, "s")
            let recorded = try await f.get(.inferenceServices, "default", "s")?["status"]
            #expect(recorded?[path: "activeRevision", "image"] == "acme/detector:2" && recorded?["activeColor"] == "green",
                    "the swap was on record when the controller died")
            #expect(try await Self.aliasColor(f, "s") == "blue", "and the alias had not moved: the kill landed between the two")

            try f.startController()
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.servesOnlyGreenPerNode(f, "s", "acme/detector:2", pods: green) },
                    "the alias on green, blue's DaemonSet gone, green's pods the same")
            #expect(Self.daemonSetCreates(f) == dsCreates, "no DaemonSet made again")
            #expect(try await f.events("default", "s", reason: "Swapped").count == 1, "one swap, announced once")
            #expect(try await f.get(.inferenceServices, "default", "s")?[path: "status", "lastSwap", "reason"] == "Swapped")
            #expect(ledger.duplicates.isEmpty, "\(ledger.duplicates)")
            #expect(ledger.recreated(prefix: "default/svc/s/").isEmpty, "\(ledger.recreated(prefix: "default/svc/s/"))")
            #expect(ledger.slots(prefix: "default/svc/s/green/").count == 2, "\(ledger.slots(prefix: "default/svc/s/"))")
            try await expectNoOrphans(f.admin, namespaces: ["default"])
        }
    }
}
