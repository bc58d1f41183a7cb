import GantryAPI
import KubeClient
import KubeCore

/// Lists Gantry's pods in `default`, then watches them from the list's resourceVersion (re-listing after a 410 or
/// a broken stream), handing every pod it sees to `note`. `listed` runs once the first list is through, so a
/// caller can wait until no later change can be missed. Ends when its task is cancelled.
func watchGantryPods(client: KubeClient, listed: @Sendable () async -> Void, note: @Sendable (JSONValue) async -> Void) async {
    await watchObjects(.pods, client: client, options: ListOptions(labelSelector: "\(GantryLabels.managedBy)=\(GantryLabels.managedByValue)"),
                       listed: listed, note: note)
}

/// List-then-watch of one kind in `default` with `options`' selectors, as `watchGantryPods` describes.
func watchObjects(_ type: ResourceType, client: KubeClient, options selectors: ListOptions,
                  listed: @Sendable () async -> Void, note: @Sendable (JSONValue) async -> Void) async {
    var resourceVersion: String?
    var announced = false
    while !Task.isCancelled {
        do {
            if resourceVersion == nil {
                let list = try await client.list(type, namespace: "default", options: selectors)
                for object in list.items { await note(object) }
                resourceVersion = list.resourceVersion
                if !announced {
                    announced = true
                    await listed()
                }
            }
            var options = selectors
            options.resourceVersion = resourceVersion
            options.timeoutSeconds = 240
            options.allowWatchBookmarks = true
            for try await event in client.watch(type, namespace: "default", options: options) {
                switch event {
                case .added(let object), .modified(let object), .deleted(let object):
                    await note(object)
                    resourceVersion = object.resourceVersion ?? resourceVersion
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
