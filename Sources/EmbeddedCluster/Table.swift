import Foundation
import KubeCore

/// meta.k8s.io/v1 Table answers for `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` (what `kubectl get`
/// prints). Columns follow kube-apiserver's printers (pkg/printers/internalversion/printers.go) for the kinds we
/// serve, and a CRD's additionalPrinterColumns for custom resources.
enum Table {
    struct Column: Sendable {
        var name: String
        var type: String = "string"
        var format: String = ""
        var priority: Int = 0
        var description: String = ""
        var cell: @Sendable (JSONValue) -> JSONValue
    }

    static func table(for items: [JSONValue], info: ResourceInfo, resourceVersion: String, continueToken: String?,
                      includeObject: String?) -> JSONValue {
        let cols = columns(info)
        let rows: [JSONValue] = items.map { obj in
            var row: JSONValue = ["cells": .array(cols.map { $0.cell(obj) })]
            switch includeObject ?? "Metadata" {
            case "None": break
            case "Object": row["object"] = obj
            default:
                row["object"] = ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"] ?? .emptyObject]
            }
            return row
        }
        var meta: JSONValue = ["resourceVersion": .string(resourceVersion)]
        if let continueToken { meta["continue"] = .string(continueToken) }
        return ["kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
                "columnDefinitions": .array(cols.map {
                    ["name": .string($0.name), "type": .string($0.type), "format": .string($0.format),
                     "description": .string($0.description), "priority": .int(Int64($0.priority))]
                }),
                "rows": .array(rows)]
    }

    static let name = Column(name: "Name", format: "name", description: "Name must be unique within a namespace.") { .string($0.name ?? "") }
    static let age = Column(name: "Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created.") {
        .string(ageString($0.creationTimestamp))
    }

    static func str(_ path: String...) -> @Sendable (JSONValue) -> JSONValue { { .string($0[path: path]?.stringValue ?? "") } }

    static func columns(_ info: ResourceInfo) -> [Column] {
        if info.isCustom {
            if info.printerColumns.isEmpty { return [name, age] }
            return [name] + info.printerColumns.map { pc in
                Column(name: pc.name, type: pc.type == "date" ? "string" : pc.type, format: pc.format, priority: pc.priority,
                       description: pc.description) { obj in
                    let v = JSONPathLite.evaluate(pc.jsonPath, obj)
                    if pc.type == "date" { return .string(ageString(v?.stringValue)) }
                    guard let v else { return .null }
                    if case .array(let a) = v { return .string(a.map(plain).joined(separator: ",")) }
                    return v.objectValue != nil ? .string(v.serialized()) : v
                }
            }
        }
        if let workload = workloadColumns(info) { return workload }
        if let storage = storageColumns(info) { return storage }
        switch (info.group, info.kind) {
        case ("", "Pod"): return [name, Column(name: "Ready", cell: podReady), Column(name: "Status", cell: podStatus),
                                  Column(name: "Restarts", cell: podRestarts), age,
                                  Column(name: "IP", priority: 1, cell: str("status", "podIP")),
                                  Column(name: "Node", priority: 1, cell: str("spec", "nodeName"))]
        case ("", "Node"): return [name, Column(name: "Status", cell: nodeStatus), Column(name: "Roles", cell: nodeRoles), age,
                                   Column(name: "Version", cell: str("status", "nodeInfo", "kubeletVersion"))]
        case ("", "Service"): return [name, Column(name: "Type", cell: str("spec", "type")),
                                      Column(name: "Cluster-IP", cell: str("spec", "clusterIP")),
                                      Column(name: "External-IP") { o in
                                          .string(o[path: "spec", "externalIPs"]?.arrayValue?.compactMap(\.stringValue).joined(separator: ",").nonEmpty ?? "<none>") },
                                      Column(name: "Port(s)", cell: servicePorts), age]
        case ("", "Namespace"): return [name, Column(name: "Status", cell: str("status", "phase")), age]
        case ("", "ConfigMap"): return [name, Column(name: "Data", type: "integer") { .int(Int64($0["data"]?.objectValue?.count ?? 0) + Int64($0["binaryData"]?.objectValue?.count ?? 0)) }, age]
        case ("", "Secret"): return [name, Column(name: "Type", cell: str("type")),
                                     Column(name: "Data", type: "integer") { .int(Int64($0["data"]?.objectValue?.count ?? 0)) }, age]
        case ("", "ServiceAccount"): return [name, Column(name: "Secrets", type: "integer") { .int(Int64($0["secrets"]?.arrayValue?.count ?? 0)) }, age]
        case ("", "Endpoints"): return [name, Column(name: "Endpoints", cell: endpoints), age]
        case ("discovery.k8s.io", "EndpointSlice"):
            return [name, Column(name: "AddressType", cell: str("addressType")), Column(name: "Ports", cell: slicePorts),
                    Column(name: "Endpoints", cell: sliceEndpoints), age]
        case ("", "Event"): return eventColumns(v1: false)
        case ("events.k8s.io", "Event"): return eventColumns(v1: true)
        case ("apps", "DaemonSet"):
            func n(_ k: String) -> @Sendable (JSONValue) -> JSONValue { { .int($0[path: "status", k]?.intValue ?? 0) } }
            return [name, Column(name: "Desired", type: "integer", cell: n("desiredNumberScheduled")),
                    Column(name: "Current", type: "integer", cell: n("currentNumberScheduled")),
                    Column(name: "Ready", type: "integer", cell: n("numberReady")),
                    Column(name: "Up-to-date", type: "integer", cell: n("updatedNumberScheduled")),
                    Column(name: "Available", type: "integer", cell: n("numberAvailable")),
                    Column(name: "Node Selector") { o in
                        let sel = o[path: "spec", "template", "spec", "nodeSelector"]?.objectValue ?? [:]
                        return .string(sel.isEmpty ? "<none>" : sel.keys.sorted().map { "\($0)=\(sel[$0]?.stringValue ?? "")" }.joined(separator: ","))
                    }, age]
        case ("coordination.k8s.io", "Lease"): return [name, Column(name: "Holder", cell: str("spec", "holderIdentity")), age]
        case ("apiextensions.k8s.io", "CustomResourceDefinition"):
            return [name, Column(name: "Created At", type: "date", cell: { .string($0.creationTimestamp ?? "") })]
        default: return [name, age]
        }
    }

    /// kube-apiserver prints both Event APIs with one printer on the internal (core) object
    /// (pkg/printers/internalversion/printers.go `printEvent`): first seen is `firstTimestamp` or `eventTime`,
    /// last seen `series.lastObservedTime`, else `lastTimestamp`, else first seen; count from the series, else
    /// `count`, else 1 (singleton events of the new API have none).
    static func eventColumns(v1: Bool) -> [Column] {
        @Sendable func core(_ o: JSONValue) -> JSONValue { v1 ? EventConversion.toCore(o) : o }
        @Sendable func firstSeen(_ e: JSONValue) -> String {
            ageString(e["firstTimestamp"]?.stringValue ?? e["eventTime"]?.stringValue ?? e.creationTimestamp)
        }
        @Sendable func cell(_ f: @escaping @Sendable (JSONValue) -> String) -> @Sendable (JSONValue) -> JSONValue {
            { .string(f(v1 ? EventConversion.toCore($0) : $0)) }
        }
        return [
            Column(name: "Last Seen", cell: cell { e in
                if let t = e[path: "series", "lastObservedTime"]?.stringValue { return ageString(t) }
                if let t = e["lastTimestamp"]?.stringValue { return ageString(t) }
                return firstSeen(e)
            }),
            Column(name: "Type", cell: cell { $0["type"]?.stringValue ?? "" }),
            Column(name: "Reason", cell: cell { $0["reason"]?.stringValue ?? "" }),
            Column(name: "Object", cell: cell { e in
                "\((e[path: "involvedObject", "kind"]?.stringValue ?? "").lowercased())/\(e[path: "involvedObject", "name"]?.stringValue ?? "")"
            }),
            Column(name: "Subobject", priority: 1, cell: cell { $0[path: "involvedObject", "fieldPath"]?.stringValue ?? "" }),
            Column(name: "Source", priority: 1, cell: cell { e in
                let component = EventConversion.selectableValue("source", e)
                let host = e[path: "source", "host"]?.stringValue ?? ""
                return host.isEmpty ? component : "\(component), \(host)"
            }),
            Column(name: "Message", cell: cell { $0["message"]?.stringValue ?? "" }),
            Column(name: "First Seen", priority: 1, cell: cell(firstSeen)),
            Column(name: "Count", type: "integer", priority: 1) { o in
                let e = core(o)
                return .int(e[path: "series", "count"]?.intValue ?? e["count"]?.intValue.flatMap { $0 == 0 ? nil : $0 } ?? 1)
            },
            Column(name: "Name", priority: 1, cell: cell { $0.name ?? "" }),
        ]
    }

    static func plain(_ v: JSONValue) -> String {
        switch v {
        case .string(let s): return s
        case .null: return ""
        default: return v.serialized()
        }
    }

    static func podReady(_ o: JSONValue) -> JSONValue {
        let total = o[path: "spec", "containers"]?.arrayValue?.count ?? 0
        let ready = (o[path: "status", "containerStatuses"]?.arrayValue ?? []).filter { $0["ready"]?.boolValue == true }.count
        return .string("\(ready)/\(total)")
    }

    /// The STATUS column: a container's waiting/terminated reason beats the phase; deletion shows Terminating.
    static func podStatus(_ o: JSONValue) -> JSONValue {
        var reason = o[path: "status", "reason"]?.stringValue ?? o[path: "status", "phase"]?.stringValue ?? "Unknown"
        for cs in o[path: "status", "containerStatuses"]?.arrayValue ?? [] {
            if let r = cs[path: "state", "waiting", "reason"]?.stringValue, !r.isEmpty { reason = r }
            else if let r = cs[path: "state", "terminated", "reason"]?.stringValue, !r.isEmpty { reason = r }
        }
        if o.deletionTimestamp != nil { reason = "Terminating" }
        return .string(reason)
    }

    static func podRestarts(_ o: JSONValue) -> JSONValue {
        .int((o[path: "status", "containerStatuses"]?.arrayValue ?? []).reduce(0) { $0 + ($1["restartCount"]?.intValue ?? 0) })
    }

    static func nodeStatus(_ o: JSONValue) -> JSONValue {
        let ready = (o[path: "status", "conditions"]?.arrayValue ?? []).first { $0["type"] == "Ready" }
        var s: String
        switch ready?["status"]?.stringValue {
        case "True": s = "Ready"
        case "False": s = "NotReady"
        default: s = "Unknown"
        }
        if o[path: "spec", "unschedulable"]?.boolValue == true { s += ",SchedulingDisabled" }
        return .string(s)
    }

    static func nodeRoles(_ o: JSONValue) -> JSONValue {
        let roles = o.labels.keys.filter { $0.hasPrefix("node-role.kubernetes.io/") }
            .map { String($0.dropFirst("node-role.kubernetes.io/".count)) }.sorted()
        return .string(roles.isEmpty ? "<none>" : roles.joined(separator: ","))
    }

    static func servicePorts(_ o: JSONValue) -> JSONValue {
        let ports = (o[path: "spec", "ports"]?.arrayValue ?? []).map { p -> String in
            let port = p["port"]?.intValue.map(String.init) ?? "?"
            let node = p["nodePort"]?.intValue.flatMap { $0 > 0 ? ":\($0)" : nil } ?? ""
            return "\(port)\(node)/\(p["protocol"]?.stringValue ?? "TCP")"
        }
        return .string(ports.isEmpty ? "<none>" : ports.joined(separator: ","))
    }

    static func endpoints(_ o: JSONValue) -> JSONValue {
        var out: [String] = []
        for subset in o["subsets"]?.arrayValue ?? [] {
            let ports = (subset["ports"]?.arrayValue ?? []).compactMap { $0["port"]?.intValue }
            for addr in subset["addresses"]?.arrayValue ?? [] {
                let ip = addr["ip"]?.stringValue ?? ""
                if ports.isEmpty { out.append(ip) } else { out.append(contentsOf: ports.map { "\(ip):\($0)" }) }
            }
        }
        return .string(out.isEmpty ? "<none>" : out.joined(separator: ","))
    }

    /// printers.go formatDiscoveryPorts / formatDiscoveryEndpoints: the first three values, then "+ N more...".
    static func slicePorts(_ o: JSONValue) -> JSONValue {
        firstThree((o["ports"]?.arrayValue ?? []).map { $0["port"]?.intValue.map(String.init) ?? "<unset>" })
    }

    static func sliceEndpoints(_ o: JSONValue) -> JSONValue {
        firstThree((o["endpoints"]?.arrayValue ?? []).flatMap { ($0["addresses"]?.arrayValue ?? []).compactMap(\.stringValue) })
    }

    static func firstThree(_ values: [String]) -> JSONValue {
        if values.isEmpty { return "<unset>" }
        let shown = values.prefix(3).joined(separator: ",")
        return .string(values.count > 3 ? "\(shown) + \(values.count - 3) more..." : shown)
    }

    /// Human age like kubectl's duration.HumanDuration (`45s`, `3m12s`, `5h`, `2d3h`, `400d`).
    static func ageString(_ timestamp: String?) -> String {
        guard let timestamp, let date = Timestamp.parse(timestamp) else { return "<unknown>" }
        let s = max(0, Int(Date().timeIntervalSince(date)))
        if s < 120 { return "\(s)s" }
        let m = s / 60
        if m < 10 { return s % 60 == 0 ? "\(m)m" : "\(m)m\(s % 60)s" }
        if m < 180 { return "\(m)m" }
        let h = m / 60
        if h < 8 { return m % 60 == 0 ? "\(h)h" : "\(h)h\(m % 60)m" }
        if h < 48 { return "\(h)h" }
        let d = h / 24
        if d < 8 { return h % 24 == 0 ? "\(d)d" : "\(d)d\(h % 24)h" }
        if d < 730 { return "\(d)d" }
        return "\(d / 365)y"
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}

/// The JSONPath subset CRD printer columns use: `.a.b`, `.a[0].b`, `.a[*].b`, `.a[?(@.type=="Ready")].status`.
enum JSONPathLite {
    static func evaluate(_ path: String, _ root: JSONValue) -> JSONValue? {
        var text = path.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("{") && text.hasSuffix("}") { text = String(text.dropFirst().dropLast()) }
        var current: [JSONValue] = [root]
        var multi = false
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if c == "." {
                i = text.index(after: i)
                let start = i
                while i < text.endIndex, text[i] != ".", text[i] != "[" { i = text.index(after: i) }
                let key = String(text[start..<i])
                if key.isEmpty { continue }
                current = current.compactMap { $0[key] }
            } else if c == "[" {
                guard let close = findClose(text, from: i) else { return nil }
                let inner = String(text[text.index(after: i)..<close])
                i = text.index(after: close)
                if inner == "*" {
                    multi = true
                    current = current.flatMap { $0.arrayValue ?? [] }
                } else if let n = Int(inner) {
                    current = current.compactMap { v in
                        guard let a = v.arrayValue else { return nil }
                        let idx = n < 0 ? a.count + n : n
                        return a.indices.contains(idx) ? a[idx] : nil
                    }
                } else if inner.hasPrefix("?(@.") && inner.hasSuffix(")") {
                    multi = true
                    let cond = inner.dropFirst(4).dropLast()
                    guard let eq = cond.range(of: "==") else { return nil }
                    let field = cond[..<eq.lowerBound].trimmingCharacters(in: .whitespaces)
                    var value = cond[eq.upperBound...].trimmingCharacters(in: .whitespaces)
                    if (value.hasPrefix("\"") && value.hasSuffix("\"")) || (value.hasPrefix("'") && value.hasSuffix("'")) {
                        value = String(value.dropFirst().dropLast())
                    }
                    let keys = field.split(separator: ".").map(String.init)
                    current = current.flatMap { $0.arrayValue ?? [] }.filter { Table.plain($0[path: keys] ?? .null) == value }
                } else {
                    let key = inner.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
                    current = current.compactMap { $0[key] }
                }
            } else {
                i = text.index(after: i)
            }
        }
        if current.isEmpty { return nil }
        if multi { return current.count == 1 ? current[0] : .array(current) }
        return current.first
    }

    static func findClose(_ text: String, from: String.Index) -> String.Index? {
        var depth = 0
        var i = from
        while i < text.endIndex {
            if text[i] == "[" { depth += 1 }
            if text[i] == "]" { depth -= 1; if depth == 0 { return i } }
            i = text.index(after: i)
        }
        return nil
    }
}
