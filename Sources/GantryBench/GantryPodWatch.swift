import GantryAPI
import KubeClient
import KubeCore

/// Lists Gantry's pods in `default`, then watches them from the list's resourceVersion (re-listing after a 410 or
/// a broken stream), handing every pod it sees to `note`. `listed` runs once the first list is through, so a
/// caller can wait until no later change can be missed. Ends when its task is cancelled.
func watchGantryPods(client: KubeClient, listed: @Sendable () async -> Void, note: @Sendable (JSONValue) async -> Void) async {
    let selector = "\(GantryLabels.managedBy)=\(GantryLabels.managedByValue)"
    var resourceVersion: String?
    var announced = false
    while !Task.isCancelled {
        do {
            if resourceVersion == nil {
                let list = try await client.list(.pods, namespace: "default", options: ListOptions(labelSelector: selector))
                for pod in list.items { await note(pod) }
                resourceVersion = list.resourceVersion
                if !announced {
                    announced = true
                    await listed()
                }
            }
            let options = ListOptions(labelSelector: selector, resourceVersion: resourceVersion, timeoutSeconds: 240,
                                      allowWatchBookmarks: true)
            for try await event in client.watch(.pods, namespace: "default", options: options) {
                switch event {
                case .added(let pod), .modified(let pod), .deleted(let pod):
                    await note(pod)
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
