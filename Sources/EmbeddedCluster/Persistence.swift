import Foundation
import KubeCore
import Logging

/// The data file cannot be read: named, with what to do, so startup does not stop on a bare parser message.
public struct PersistenceError: Error, CustomStringConvertible {
    public let description: String
}

/// Optional persistence of all objects and the revision to `DIR/cluster.json`, written atomically
/// (temp file + rename) at most every 100 ms after a change, and once more at shutdown.
struct Persistence: Sendable {
    let directory: String
    var file: String { directory + "/cluster.json" }

    func write(revision: Int64, objects: [String: [String: JSONValue]], nextServiceIP: UInt32) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var resources: [String: JSONValue] = [:]
        for (resource, objs) in objects where !objs.isEmpty {
            resources[resource] = .array(objs.keys.sorted().compactMap { objs[$0] })
        }
        let doc: JSONValue = ["revision": .int(revision), "nextServiceIP": .int(Int64(nextServiceIP)),
                              "resources": .object(resources)]
        let tmp = file + ".tmp"
        try Data(doc.serializedBytes()).write(to: URL(fileURLWithPath: tmp))
        // rename(2) replaces the old file atomically: a crash leaves either the old or the new data.
        guard rename(tmp, file) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    func read() throws -> (revision: Int64, objects: [String: [String: JSONValue]], nextServiceIP: UInt32)? {
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        let doc: JSONValue
        do {
            doc = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
        } catch {
            throw PersistenceError(description: "cannot load the cluster's data file \(file): \(error). Move it away to start with an empty cluster (or restore a copy)")
        }
        var objects: [String: [String: JSONValue]] = [:]
        for (resource, list) in doc["resources"]?.objectValue ?? [:] {
            for obj in list.arrayValue ?? [] {
                objects[resource, default: [:]][storageKey(namespace: obj.namespace, name: obj.name ?? "")] = obj
            }
        }
        return (doc["revision"]?.intValue ?? 0, objects, UInt32(doc["nextServiceIP"]?.intValue ?? 2))
    }
}

extension ObjectStore {
    func markDirty() {
        guard persistence != nil, !flushScheduled else { return }
        flushScheduled = true
        Task {
            try? await Task.sleep(for: .milliseconds(100))
            self.flush()
        }
    }

    /// Writes the data file now (no-op without a data directory).
    public func flush() {
        flushScheduled = false
        guard let persistence else { return }
        do {
            try persistence.write(revision: revision, objects: objects, nextServiceIP: nextServiceIP)
            if lastPersistenceError != nil {
                Logger(label: "gantry.dev.persistence").notice("the data file is written again", metadata: ["file": "\(persistence.file)"])
            }
            lastPersistenceError = nil
        } catch {
            // Said once per failure streak, not on every change: objects answered since are not on disk.
            if lastPersistenceError == nil {
                Logger(label: "gantry.dev.persistence").error("cannot write the data file: changes since are lost at restart",
                                                             metadata: ["file": "\(persistence.file)", "error": "\(error)"])
            }
            lastPersistenceError = "\(error)"
        }
    }

    /// Loads persisted objects; answers false when there was nothing to load.
    func load(from persistence: Persistence) throws -> Bool {
        self.persistence = persistence
        guard let saved = try persistence.read() else { return false }
        objects = saved.objects
        // Before both Event APIs shared storage, events.k8s.io/v1 Events were kept apart in their own form.
        if let legacy = objects.removeValue(forKey: "events.events.k8s.io") {
            for (key, obj) in legacy { objects["events", default: [:]][key] = EventConversion.toCore(obj) }
        }
        revision = saved.revision
        nextServiceIP = saved.nextServiceIP
        compactedRevision = revision  // no history survives a restart: older watches re-list (410)
        uidIndex = [:]
        gc = GCGraph()
        for (resource, objs) in objects {
            for (key, obj) in objs {
                if let uid = obj.uid { uidIndex[uid] = (resource, key) }
                gc.track(GCGraph.Ref(resource: resource, key: key), object: obj, old: nil)
            }
        }
        reloadCRDs()
        return true
    }

    func enablePersistence(_ p: Persistence) { persistence = p }
}
