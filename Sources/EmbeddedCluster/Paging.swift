import Foundation
import KubeCore

/// Paged lists over one snapshot (https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks).
/// The first page fixes the snapshot revision; later pages rebuild the resource's state at that revision from the
/// event history (undoing newer events), so pages never mix snapshots. A token whose revision was compacted
/// answers 410 Expired, as etcd does.
struct ListPage: Sendable {
    var items: [JSONValue]
    var resourceVersion: String
    var continueToken: String?
    var remaining: Int?
}

extension ObjectStore {
    /// The objects of one resource as they were at revision `rv` (undoing newer events), nil if compacted.
    func snapshot(_ resource: String, at rv: Int64) -> [String: JSONValue]? {
        guard let replay = events(after: rv) else { return nil }
        var source = objects[resource] ?? [:]
        for event in replay.reversed() where event.resource == resource {
            let key = storageKey(namespace: event.object.namespace, name: event.object.name ?? "")
            switch event.kind {
            case .added: source[key] = nil
            case .modified, .deleted: source[key] = event.oldObject
            }
        }
        return source
    }

    /// The current keys of a resource in order (cached until one is added or removed).
    func sortedKeys(_ resource: String) -> [String] {
        if let cached = orderedKeys[resource] { return cached }
        let keys = (objects[resource] ?? [:]).keys.sorted()
        orderedKeys[resource] = keys
        return keys
    }

    /// `exactRevision`: a list at `resourceVersion=N&resourceVersionMatch=Exact`.
    func listPage(_ info: ResourceInfo, namespace: String?, labels: LabelQuery, fields: FieldQuery,
                  limit: Int?, continueToken: String?, exactRevision: Int64? = nil) throws(APIStatusError) -> ListPage {
        var snapshotRev = revision
        var startAfter: String? = nil
        var source = objects[info.resourceKey] ?? [:]
        if let token = continueToken, !token.isEmpty {
            guard let data = Data(base64Encoded: token), let json = try? JSONValue.parse(Array(data)),
                  let rv = json["rv"]?.intValue, let start = json["start"]?.stringValue else {
                throw .badRequest("continue key is not valid: illegal base64 data at input byte 0")
            }
            guard let past = snapshot(info.resourceKey, at: rv) else {
                throw .gone("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.")
            }
            source = past
            snapshotRev = rv
            startAfter = start
        } else if let rv = exactRevision, rv != revision {
            guard rv <= revision else {
                throw APIStatusError(code: 504, reason: "Timeout", message: "Too large resource version: \(rv), current: \(revision)",
                                     retryAfterSeconds: 1)
            }
            guard let past = snapshot(info.resourceKey, at: rv) else {
                throw .gone("too old resource version: \(rv) (\(compactedRevision + 1))")
            }
            source = past
            snapshotRev = rv
        }
        // The cached order of the current keys serves a snapshot too when no object was added or removed since.
        let sameMembers = snapshotRev == revision
            || !(events(after: snapshotRev) ?? []).contains { $0.resource == info.resourceKey && $0.kind != .modified }
        let keys = sameMembers ? sortedKeys(info.resourceKey) : source.keys.sorted()
        var index = 0
        if let startAfter {
            // Binary search: the first key after the last one already answered.
            var high = keys.count
            while index < high {
                let mid = (index + high) / 2
                if keys[mid] <= startAfter { index = mid + 1 } else { high = mid }
            }
        }
        var items: [JSONValue] = []
        var lastKey: String? = nil
        while index < keys.count {
            let key = keys[index]
            index += 1
            guard let obj = source[key] else { continue }
            if let namespace, obj.namespace != namespace { continue }
            guard labels.matches(object: obj), fields.matches(obj) else { continue }
            items.append(obj)
            lastKey = key
            if let limit, limit > 0, items.count >= limit { break }
        }
        var token: String? = nil
        var remaining: Int? = nil
        if let limit, limit > 0, items.count >= limit, index < keys.count, let lastKey {
            // kube-apiserver counts the remaining items only for a list without selectors ("if the list request
            // contained label or field selectors, then the number of remaining items is unknown").
            let selectorless = labels.isEmpty && fields.isEmpty
            let rest = keys[index...].lazy.filter { k in
                guard let o = source[k] else { return false }
                return namespace == nil || o.namespace == namespace
            }
            if !rest.isEmpty {
                let json: JSONValue = ["v": "meta.k8s.io/v1", "rv": .int(snapshotRev), "start": .string(lastKey)]
                token = Data(json.serializedBytes()).base64EncodedString()
                if selectorless { remaining = rest.count }
            }
        }
        return ListPage(items: items, resourceVersion: String(snapshotRev), continueToken: token, remaining: remaining)
    }
}
