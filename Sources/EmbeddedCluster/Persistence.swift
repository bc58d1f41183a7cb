import Foundation
import Glibc
import KubeCore
import Logging

/// The data file cannot be read: named, with what to do, so startup does not stop on a bare parser message.
public struct PersistenceError: Error, CustomStringConvertible {
    public let description: String
}

/// Optional persistence of all objects and the revision under `DIR`: every committed change is appended to
/// `cluster.journal` before it is acknowledged (a change that cannot be written is refused with 500, never
/// answered and lost), and a snapshot `cluster.json` is written atomically (temp file + rename) at most every
/// second after a change and at shutdown, after which the journal starts empty again. Loading reads the snapshot,
/// then replays the journal's newer records.
struct Persistence: Sendable {
    let directory: String
    var file: String { directory + "/cluster.json" }
    var journal: String { directory + "/cluster.journal" }

    typealias Objects = [String: [String: JSONValue]]

    func write(revision: Int64, objects: Objects, nextServiceIP: UInt32) throws {
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
        // Everything the journal holds is in the snapshot now (a failure here only leaves records replay skips).
        let fd = open(journal, O_WRONLY | O_TRUNC | O_CLOEXEC)
        if fd >= 0 { close(fd) }
    }

    /// Appends one committed change (`object` nil: deleted) to the journal; throws when it is not all written,
    /// leaving the journal as it was.
    func append(revision: Int64, resource: String, key: String, object: JSONValue?, nextServiceIP: UInt32) throws {
        let record: JSONValue = ["revision": .int(revision), "resource": .string(resource), "key": .string(key),
                                 "object": object ?? .null, "nextServiceIP": .int(Int64(nextServiceIP))]
        var bytes = record.serializedBytes()
        bytes.append(0x0A)
        let fd = open(journal, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("cannot open") }
        defer { close(fd) }
        let start = lseek(fd, 0, SEEK_END)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress.map { $0 + offset }, bytes.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let error = failure("cannot write")
                if start >= 0 { _ = ftruncate(fd, start) }  // no torn record left for the next append to follow
                throw error
            }
            offset += n
        }
    }

    private func failure(_ what: String) -> PersistenceError {
        PersistenceError(description: "\(what) the data file \(journal): \(String(cString: strerror(errno)))")
    }

    func read() throws -> (revision: Int64, objects: Objects, nextServiceIP: UInt32)? {
        let snapshot = try readSnapshot()
        let records = try readJournal()
        if snapshot == nil && records.isEmpty { return nil }
        var state: (revision: Int64, objects: Objects, nextServiceIP: UInt32) = snapshot ?? (0, [:], 2)
        for record in records {
            guard let revision = record["revision"]?.intValue, revision > state.revision,
                  let resource = record["resource"]?.stringValue, let key = record["key"]?.stringValue else { continue }
            // A deletion's record holds `null` (JSONValue's nil literal is `.null`: spelled out as Optional.none).
            let object: JSONValue? = record["object"] == JSONValue.null ? Optional.none : record["object"]
            state.objects[resource, default: [:]][key] = object
            state.revision = revision
            state.nextServiceIP = UInt32(record["nextServiceIP"]?.intValue ?? Int64(state.nextServiceIP))
        }
        return state
    }

    private func readSnapshot() throws -> (revision: Int64, objects: Objects, nextServiceIP: UInt32)? {
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        let doc: JSONValue
        do {
            doc = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
        } catch {
            throw PersistenceError(description: "cannot load the cluster's data file \(file): \(error). Move it away to start with an empty cluster (or restore a copy)")
        }
        var objects: Objects = [:]
        for (resource, list) in doc["resources"]?.objectValue ?? [:] {
            for obj in list.arrayValue ?? [] {
                objects[resource, default: [:]][storageKey(namespace: obj.namespace, name: obj.name ?? "")] = obj
            }
        }
        return (doc["revision"]?.intValue ?? 0, objects, UInt32(doc["nextServiceIP"]?.intValue ?? 2))
    }

    /// The journal's records in order. A last line without its newline is a write cut short (never acknowledged)
    /// and is left out; a damaged line before it stops the start, named with its byte offset.
    private func readJournal() throws -> [JSONValue] {
        guard FileManager.default.fileExists(atPath: journal) else { return [] }
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: journal)))
        var records: [JSONValue] = []
        var start = 0
        while let end = bytes[start...].firstIndex(of: 0x0A) {
            do {
                records.append(try JSONValue.parse(Array(bytes[start..<end])))
            } catch {
                throw PersistenceError(description: "cannot load the cluster's journal \(journal): damaged record at byte \(start): \(error). Move it away to start from the last snapshot (\(file))")
            }
            start = end + 1
        }
        return records
    }
}

extension ObjectStore {
    func markDirty() {
        guard persistence != nil, !flushScheduled else { return }
        flushScheduled = true
        Task {
            try? await Task.sleep(for: .seconds(1))
            self.flush()
        }
    }

    /// Journals a change before `commit` applies it: nothing is acknowledged that is not on disk.
    func journal(revision: Int64, resource: String, key: String, object: JSONValue?) throws(APIStatusError) {
        guard let persistence else { return }
        do {
            try persistence.append(revision: revision, resource: resource, key: key, object: object, nextServiceIP: nextServiceIP)
        } catch {
            // The operator's only trace of it (the client saw a 500): the file as a field of its own, for log queries.
            Logger(label: "gantry.dev.persistence").error("a change was refused: it could not be stored",
                                                       metadata: ["file": "\(persistence.journal)", "resource": "\(resource)", "key": "\(key)",
                                                                  "error": "\(error)"])
            throw .internalError("\(error); the change was not made")
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
            // Said once per failure streak; the journal still holds every change, so nothing is lost.
            if lastPersistenceError == nil {
                Logger(label: "gantry.dev.persistence").warning("cannot write the snapshot: the journal keeps growing until it can",
                                                             metadata: ["file": "\(persistence.file)", "error": "\(error)"])
            }
            lastPersistenceError = "\(error)"
        }
    }

    /// Loads persisted objects; answers false when there was nothing to load.
    func load(from persistence: Persistence) throws -> Bool {
        // The journal is written from the first change on (the seed objects included).
        try FileManager.default.createDirectory(atPath: persistence.directory, withIntermediateDirectories: true)
        self.persistence = persistence
        guard let saved = try persistence.read() else { return false }
        objects = saved.objects
        orderedKeys = [:]
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
