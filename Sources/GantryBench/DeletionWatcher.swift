import Foundation
import GantryAPI
import KubeClient
import KubeCore

/// Watches Gantry's pods and records, per pod, the wall-clock moment its `deletionTimestamp` first arrived.
///
/// The object's own `deletionTimestamp` has one-second precision, too coarse for a sub-second target, so
/// the arrival of the watch event is the measurement (it is later than the deletion request by the watch
/// delivery, so latencies err on the slow side). Lists first and watches from the list's resourceVersion
/// (`ready()` returns after the list), so no deletion after `ready()` is missed.
actor DeletionWatcher {
    let client: KubeClient
    private var seen: [String: Date] = [:]
    private var fresh: [(pod: String, at: Date)] = []
    private var isReady = false
    private var readyWaiters: [CheckedContinuation<Void, Never>] = []

    init(client: KubeClient) { self.client = client }

    /// New deletions since the last call.
    func observed() -> [(pod: String, at: Date)] {
        defer { fresh = [] }
        return fresh
    }

    func ready() async {
        if isReady { return }
        await withCheckedContinuation { readyWaiters.append($0) }
    }

    func run() async {
        await watchGantryPods(client: client, listed: { await self.markReady() }, note: { await self.note($0) })
    }

    private func note(_ pod: JSONValue) {
        guard pod.deletionTimestamp != nil, let name = pod.name, seen[name] == nil else { return }
        let now = Date()
        seen[name] = now
        fresh.append((name, now))
    }

    private func markReady() {
        isReady = true
        for waiter in readyWaiters { waiter.resume() }
        readyWaiters = []
    }
}
