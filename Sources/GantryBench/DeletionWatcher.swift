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
        let selector = "\(GantryLabels.managedBy)=\(GantryLabels.managedByValue)"
        var resourceVersion: String?
        while !Task.isCancelled {
            do {
                if resourceVersion == nil {
                    let list = try await client.list(.pods, namespace: "default", options: ListOptions(labelSelector: selector))
                    for pod in list.items { note(pod) }
                    resourceVersion = list.resourceVersion
                    markReady()
                }
                let options = ListOptions(labelSelector: selector, resourceVersion: resourceVersion, timeoutSeconds: 240,
                                          allowWatchBookmarks: true)
                for try await event in client.watch(.pods, namespace: "default", options: options) {
                    switch event {
                    case .added(let pod), .modified(let pod), .deleted(let pod):
                        note(pod)
                        resourceVersion = pod.resourceVersion ?? resourceVersion
                    case .bookmark(let rv): resourceVersion = rv
                    case .error: resourceVersion = nil  // 410 Gone: relist
                    }
                }
            } catch {
                if Task.isCancelled { return }
                resourceVersion = nil
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
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
