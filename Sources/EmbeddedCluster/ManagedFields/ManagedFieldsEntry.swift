import Foundation
import KubeCore

/// One `metadata.managedFields` entry (metav1.ManagedFieldsEntry) with its fields decoded.
struct ManagedFieldsEntry: Equatable, Sendable {
    var manager: String
    /// `Apply` or `Update`.
    var operation: String
    var apiVersion: String
    var subresource: String = ""
    var time: String?
    var fields: FieldSet

    static let apply = "Apply", update = "Update"

    /// fieldmanager's BuildManagerIdentifier: an applier is one manager whatever version it applies in.
    func sameManager(as o: ManagedFieldsEntry) -> Bool {
        manager == o.manager && operation == o.operation && subresource == o.subresource
            && (operation == Self.apply || apiVersion == o.apiVersion)
    }

    var json: JSONValue {
        var o: [String: JSONValue] = ["manager": .string(manager), "operation": .string(operation),
                                      "apiVersion": .string(apiVersion), "fieldsType": "FieldsV1", "fieldsV1": fields.fieldsV1]
        if let time { o["time"] = .string(time) }
        if !subresource.isEmpty { o["subresource"] = .string(subresource) }
        return .object(o)
    }

    init(manager: String, operation: String, apiVersion: String, subresource: String = "", time: String?, fields: FieldSet) {
        self.manager = manager
        self.operation = operation
        self.apiVersion = apiVersion
        self.subresource = subresource
        self.time = time
        self.fields = fields
    }

    /// Nil for an entry fieldmanager's DecodeManagedFields refuses (unknown operation or fields type, bad fieldsV1).
    init?(json: JSONValue) {
        guard let op = json["operation"]?.stringValue, op == Self.apply || op == Self.update,
              json["fieldsType"]?.stringValue == "FieldsV1",
              let fields = FieldSet(fieldsV1: json["fieldsV1"] ?? .emptyObject) else { return nil }
        self.init(manager: json["manager"]?.stringValue ?? "", operation: op, apiVersion: json["apiVersion"]?.stringValue ?? "",
                  subresource: json["subresource"]?.stringValue ?? "", time: json["time"]?.stringValue, fields: fields)
    }
}

/// `metadata.managedFields` as kube-apiserver's fieldmanager keeps it (k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager,
/// sigs.k8s.io/structured-merge-diff/v4/merge): read from and written into the object itself, so it is stored,
/// watched and persisted with it.
enum ManagedFields {
    /// The entries of an object; nil when one cannot be decoded.
    static func decode(_ obj: JSONValue) -> [ManagedFieldsEntry]? {
        guard let list = obj[path: "metadata", "managedFields"] else { return [] }
        guard let items = list.arrayValue else { return nil }
        var out: [ManagedFieldsEntry] = []
        for item in items {
            guard let e = ManagedFieldsEntry(json: item) else { return nil }
            out.append(e)
        }
        return out
    }

    /// `[{}]`: a client's way to strip managedFields (isResetManagedFields). An empty list is "not sent", so clients
    /// unaware of the field never drop it.
    static func isReset(_ obj: JSONValue) -> Bool {
        guard let list = obj[path: "metadata", "managedFields"]?.arrayValue, list.count == 1 else { return false }
        return list[0].objectValue?.isEmpty == true
    }

    /// decodeLiveOrNew: the entries a write starts from. A subresource write cannot set them; `[{}]` resets them;
    /// valid entries in the request replace the stored ones; absent, empty or undecodable ones keep them.
    static func base(request: JSONValue, live: JSONValue?, subresource: Bool) -> [ManagedFieldsEntry] {
        let stored = live.flatMap(decode) ?? []
        if subresource { return stored }
        if isReset(request) { return [] }
        if let sent = decode(request), !sent.isEmpty { return sent }
        return stored
    }

    /// Writes the entries, ordered as upstream's sortEncodedManagedFields, dropping empty ones.
    static func write(_ entries: [ManagedFieldsEntry], into obj: inout JSONValue) {
        let kept = entries.filter { !$0.fields.isEmpty }.sorted {
            ($0.operation, $0.time ?? "", $0.manager, $0.apiVersion, $0.subresource) < ($1.operation, $1.time ?? "", $1.manager, $1.apiVersion, $1.subresource)
        }
        obj[path: "metadata", "managedFields"] = kept.isEmpty ? nil : .array(kept.map(\.json))
    }

    static func now() -> String { Timestamp.format(Date()) }

    /// An Update by `manager` (fieldmanager.Update then managedFieldsUpdater): the fields it added or changed
    /// become its own and leave every other manager; removed fields leave everyone. Its time moves only when it
    /// took a field.
    static func recordUpdate(_ entries: [ManagedFieldsEntry], manager: String, apiVersion: String, subresource: String,
                             old: TypedFields?, new: TypedFields) -> [ManagedFieldsEntry] {
        let (added, modified, removed) = TypedFields.compare(old, new)
        let taken = added.union(modified)
        var out = entries.map { e -> ManagedFieldsEntry in
            var e = e
            e.fields = e.fields.subtracting(taken).subtracting(removed)
            return e
        }
        let me = ManagedFieldsEntry(manager: manager, operation: ManagedFieldsEntry.update, apiVersion: apiVersion,
                                    subresource: subresource, time: nil, fields: taken.subtracting(removed))
        guard !me.fields.isEmpty else { return out }
        if let i = out.firstIndex(where: { $0.sameManager(as: me) }) {
            out[i].fields = out[i].fields.union(me.fields)
            out[i].time = now()
        } else {
            var e = me
            e.time = now()
            out.append(e)
        }
        return out
    }
}
