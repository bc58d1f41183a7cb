/// fieldmanager's capManagersManager (k8s.io/apimachinery/pkg/util/managedfields/internal/capmanagers.go): after
/// every update and apply, at most ten `Update` managers are kept. Past that, the oldest (by time, then by
/// identifier) are merged, per API version, into one `Update` entry of the manager `ancient-changes`: the first
/// old entry of a version opens its bucket when a second one joins it, and the bucket takes the time of the
/// latest entry merged. Apply managers are never merged.
extension ManagedFields {
    static let maxUpdateManagers = 10
    static let ancientChanges = "ancient-changes"

    static func capUpdateManagers(_ entries: [ManagedFieldsEntry]) -> [ManagedFieldsEntry] {
        var managed = entries.filter { !$0.fields.isEmpty }
        let updaters = managed.filter { $0.operation == ManagedFieldsEntry.update }
        guard updaters.count > maxUpdateManagers else { return managed }
        // Oldest first; entries without a time count as the epoch; ties by the manager identifier.
        let oldestFirst = updaters.sorted {
            ($0.time ?? "", $0.manager, $0.apiVersion, $0.subresource) < ($1.time ?? "", $1.manager, $1.apiVersion, $1.subresource)
        }
        func index(of e: ManagedFieldsEntry) -> Int? { managed.firstIndex { $0.sameManager(as: e) } }
        var firstOfVersion: [String: ManagedFieldsEntry] = [:]
        var length = updaters.count
        for entry in oldestFirst where length > maxUpdateManagers {
            // A bucket older than its version's first entry counts as that first; upstream would merge a newer one
            // into itself and so drop it: it stays here.
            if entry.manager == ancientChanges, entry.subresource.isEmpty {
                if firstOfVersion[entry.apiVersion] == nil { firstOfVersion[entry.apiVersion] = entry }
                continue
            }
            guard let first = firstOfVersion[entry.apiVersion] else {
                firstOfVersion[entry.apiVersion] = entry
                continue
            }
            let bucket = ManagedFieldsEntry(manager: ancientChanges, operation: ManagedFieldsEntry.update,
                                            apiVersion: entry.apiVersion, time: nil, fields: FieldSet(members: []))
            if index(of: bucket) == nil, let i = index(of: first) {
                // The version's first old entry becomes its bucket.
                var opened = managed.remove(at: i)
                opened.manager = ancientChanges
                opened.subresource = ""
                managed.append(opened)
            }
            guard let b = index(of: bucket), let i = index(of: entry) else { continue }
            managed[b].fields = managed[b].fields.union(entry.fields)
            managed[b].time = entry.time
            managed.remove(at: i)
            length -= 1
        }
        return managed
    }
}
