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
            let dsCreates = f.controllerRequests().count { $0.method == "POST" && $0.path.hasSuffix("/daemonsets") }
            let green = Set(try await f.admin.list(.pods, namespace: "default").items
                .filter { $0.labels[GantryLabels.instance] == "e" && $0.labels[GantryLabels.color] == "green" }.compactMap(\.uid))
            #expect(green.count == 2)

            try f.startController()
            #expect(try await eventually(timeout: .seconds(60)) {
                let s = try await f.get(.inferenceServices, "default", "e")?["status"]
                let alias = try await Self.aliasColor(f, "e")
                let sets = try await f.admin.list(.daemonSets, namespace: "default").items.compactMap(\.name)
                let pods = try await f.admin.list(.pods, namespace: "default").items.filter { $0.labels[GantryLabels.instance] == "e" }
                return s?[path: "activeRevision", "image"] == "acme/detector:2" && s?["candidate"] == nil && alias == "green"
                    && sets.count == 1 && sets.allSatisfy { $0.hasPrefix("e-green-") } && Set(pods.compactMap(\.uid)) == green
            })
            #expect(f.controllerRequests().count { $0.method == "POST" && $0.path.hasSuffix("/daemonsets") } == dsCreates, "no DaemonSet made again")
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
