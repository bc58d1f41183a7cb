import Foundation
import KubeCore

/// core/v1 `Event` and `events.k8s.io/v1` `Event` are two views of the same stored objects, as in kube-apiserver,
/// where both are the internal `core.Event` in storage (etcd key `/events`). Objects are stored here in their
/// core/v1 form (storage key `events`) and converted when read or written through `events.k8s.io/v1`.
///
/// The mapping is kubernetes `pkg/apis/events/v1/conversion.go` (`Convert_v1_Event_To_core_Event` and back, checked
/// against pkg/apis/events/v1beta1/conversion.go, identical) plus the generated field-by-field part:
///
///     events.k8s.io/v1              core/v1
///     regarding                  ↔  involvedObject
///     note                       ↔  message
///     deprecatedSource           ↔  source            ({component, host})
///     deprecatedFirstTimestamp   ↔  firstTimestamp
///     deprecatedLastTimestamp    ↔  lastTimestamp
///     deprecatedCount            ↔  count
///     reportingController        ↔  reportingComponent (core's JSON name of the ReportingController field)
///     eventTime, series {count, lastObservedTime}, related, action, reason, type, reportingInstance: same names
///
/// `series.count` is *not* folded into `count` by the server (only clients like `kubectl describe` show
/// either one). The renames are all top-level keys, so the same table converts partial objects (server-side
/// apply intents); other patches are applied to the events.k8s.io view of the stored object, then converted.
enum EventConversion {
    /// (events.k8s.io/v1 name, core/v1 name) of every top-level field whose name differs.
    static let renames: [(v1: String, core: String)] = [
        ("regarding", "involvedObject"), ("note", "message"), ("deprecatedSource", "source"),
        ("deprecatedFirstTimestamp", "firstTimestamp"), ("deprecatedLastTimestamp", "lastTimestamp"),
        ("deprecatedCount", "count"), ("reportingController", "reportingComponent"),
    ]

    static func isEventsV1(_ info: ResourceInfo) -> Bool { info.group == "events.k8s.io" && info.kind == "Event" }

    /// events.k8s.io/v1 → stored core/v1 form (works on partial objects: apply intents, merge patches).
    static func toCore(_ v1: JSONValue) -> JSONValue {
        guard var o = v1.objectValue else { return v1 }
        var out: [String: JSONValue] = [:]
        for (v1Name, coreName) in renames {
            // A core-named key sent to the events API is not a field of that API: it is dropped, as decoding
            // into the typed v1 struct would drop it.
            o[coreName] = nil
            if let value = o.removeValue(forKey: v1Name) { out[coreName] = value }
        }
        out.merge(o) { new, _ in new }
        var result = JSONValue.object(out)
        if result["apiVersion"] != nil { result["apiVersion"] = "v1" }
        return result
    }

    /// Stored core/v1 form → events.k8s.io/v1.
    static func toEventsV1(_ core: JSONValue) -> JSONValue {
        guard var o = core.objectValue else { return core }
        var out: [String: JSONValue] = [:]
        for (v1Name, coreName) in renames {
            o[v1Name] = nil
            if let value = o.removeValue(forKey: coreName) { out[v1Name] = value }
        }
        out.merge(o) { new, _ in new }
        var result = JSONValue.object(out)
        result["apiVersion"] = "events.k8s.io/v1"
        result["kind"] = "Event"
        return result
    }

    // MARK: Field selectors

    /// Field labels of core/v1 Events (pkg/registry/core/event/strategy.go `ToSelectableFields`, and the label
    /// conversion in pkg/apis/core/v1/conversion.go `AddFieldLabelConversionsForEvent`).
    static let coreFieldLabels: Set<String> = [
        "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
        "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
        "reason", "reportingComponent", "source", "type",
    ]

    /// events.k8s.io/v1 field labels and the core label each one selects on (pkg/apis/events/v1/conversion.go
    /// `AddFieldLabelConversionsForEvent`).
    static let v1FieldLabels: [String: String] = [
        "regarding.kind": "involvedObject.kind", "regarding.namespace": "involvedObject.namespace",
        "regarding.name": "involvedObject.name", "regarding.uid": "involvedObject.uid",
        "regarding.apiVersion": "involvedObject.apiVersion", "regarding.resourceVersion": "involvedObject.resourceVersion",
        "regarding.fieldPath": "involvedObject.fieldPath", "reportingController": "reportingComponent",
        "reason": "reason", "type": "type",
    ]

    /// The value a field label selects on a stored (core) Event. `source` is computed: `source.component`, or
    /// `reportingComponent` when that is empty (events written through events.k8s.io/v1 have no source).
    static func selectableValue(_ label: String, _ event: JSONValue) -> String {
        if label == "source" {
            let component = event[path: "source", "component"]?.stringValue ?? ""
            return component.isEmpty ? event["reportingComponent"]?.stringValue ?? "" : component
        }
        return event[path: label.split(separator: ".").map(String.init)]?.stringValue ?? ""
    }

    // MARK: Validation

    /// Creation through events.k8s.io/v1 (API-SEMANTICS rule 21), as pkg/apis/core/validation/events.go
    /// `ValidateEventCreate` checks it: the legacy checks for events with an eventTime, then the strict ones for
    /// the new API. Field paths name the internal fields (`message`, `firstTimestamp`, ...), as there.
    /// Limits: ReasonLengthLimit, ActionLengthLimit, ReportingInstanceLengthLimit 128; NoteLengthLimit 1024.
    static func validateCreate(_ v1: JSONValue) -> [APIStatusError.Cause] {
        var causes: [APIStatusError.Cause] = []
        func text(_ key: String) -> String { v1[key]?.stringValue ?? "" }
        // Go's len(): the limits count bytes of UTF-8, though the messages say characters.
        func tooLong(_ key: String, _ limit: Int) -> Bool { text(key).utf8.count > limit }
        let namespace = v1.namespace ?? ""
        if (v1[path: "regarding", "namespace"]?.stringValue ?? "").isEmpty, namespace != "default", namespace != "kube-system" {
            causes.append(.invalid("involvedObject.namespace", "\"\"", "does not match event.namespace"))
        }
        if text("reportingController").isEmpty { causes.append(.required("reportingController")) }
        if text("reportingInstance").isEmpty { causes.append(.required("reportingInstance")) }
        if tooLong("reportingInstance", 128) { causes.append(.invalid("reportingInstance", "\"\"", "can have at most 128 characters")) }
        if text("action").isEmpty { causes.append(.required("action")) }
        if tooLong("action", 128) { causes.append(.invalid("action", "\"\"", "can have at most 128 characters")) }
        if text("reason").isEmpty { causes.append(.required("reason")) }
        if tooLong("reason", 128) { causes.append(.invalid("reason", "\"\"", "can have at most 128 characters")) }
        if tooLong("note", 1024) { causes.append(.invalid("message", "\"\"", "can have at most 1024 characters")) }
        if text("eventTime").isEmpty { causes.append(.required("eventTime")) }
        let type = text("type")
        if type != "Normal" && type != "Warning" { causes.append(.invalid("type", "\"\"", "has invalid value: \(type)")) }
        for (v1Name, internalName) in [("deprecatedFirstTimestamp", "firstTimestamp"), ("deprecatedLastTimestamp", "lastTimestamp")]
        where !(v1[v1Name]?.stringValue ?? "").isEmpty {
            causes.append(.invalid(internalName, "\"\"", "needs to be unset"))
        }
        if (v1["deprecatedCount"]?.intValue ?? 0) != 0 { causes.append(.invalid("count", "\"\"", "needs to be unset")) }
        if !(v1[path: "deprecatedSource", "component"]?.stringValue ?? "").isEmpty
            || !(v1[path: "deprecatedSource", "host"]?.stringValue ?? "").isEmpty {
            causes.append(.invalid("source", "\"\"", "needs to be unset"))
        }
        if let series = v1["series"], series != .null {
            if (series["count"]?.intValue ?? 0) < 2 { causes.append(.invalid("series.count", "\"\"", "should be at least 2")) }
            if (series["lastObservedTime"]?.stringValue ?? "").isEmpty { causes.append(.required("series.lastObservedTime")) }
        }
        return causes
    }
}
