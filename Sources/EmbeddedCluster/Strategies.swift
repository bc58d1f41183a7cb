import Foundation
import KubeCore

/// Kind-specific create/update behaviour (the "strategies" of kube-apiserver's registries), reduced to what an
/// operator and kubectl observe.
extension ObjectStore {
    func prepareForCreate(_ info: ResourceInfo, _ obj: inout JSONValue, dryRun: Bool) throws(APIStatusError) {
        guard !info.isCustom else { return }
        if info.group == "apps", Self.workloadKinds.contains(info.kind) { try prepareWorkloadForCreate(info, &obj) }
        prepareStorageForCreate(info, &obj)
        switch (info.group, info.kind) {
        case ("", "Namespace"):
            obj[path: "spec", "finalizers"] = ["kubernetes"]
            obj[path: "status", "phase"] = "Active"
            var labels = obj.labels
            labels["kubernetes.io/metadata.name"] = obj.name ?? ""
            obj.labels = labels
        case ("", "Pod"):
            if obj[path: "status", "phase"] == nil { obj[path: "status", "phase"] = "Pending" }
            if obj[path: "status", "qosClass"] == nil { obj[path: "status", "qosClass"] = "BestEffort" }
            if obj[path: "spec", "serviceAccountName"] == nil { obj[path: "spec", "serviceAccountName"] = "default" }
            if obj[path: "spec", "restartPolicy"] == nil { obj[path: "spec", "restartPolicy"] = "Always" }
            if obj[path: "spec", "schedulerName"] == nil { obj[path: "spec", "schedulerName"] = "default-scheduler" }
            if obj[path: "spec", "containers"]?.arrayValue?.isEmpty ?? true {
                throw .invalid(kind: "Pod", group: "", name: obj.name ?? "", causes: [.required("spec.containers")])
            }
            let envCauses = Self.envNameProblems(obj)
            if !envCauses.isEmpty { throw .invalid(kind: "Pod", group: "", name: obj.name ?? "", causes: envCauses) }
            try admitPodPriority(&obj)
        case ("scheduling.k8s.io", "PriorityClass"):
            try preparePriorityClassForCreate(&obj)
        case ("", "Service"):
            try Self.defaultService(&obj, old: nil)
            try allocateClusterIP(&obj, dryRun: dryRun)
        case ("", "Secret"):
            // SetDefaults_Secret: an empty type (kubectl's protobuf create sends "") is Opaque.
            if obj["type"] == nil || obj["type"] == "" { obj["type"] = "Opaque" }
            try encodeStringData(&obj)
        case ("", "ConfigMap"):
            try Self.checkConfigMapSize(obj)
        case ("", "Node"):
            Self.defaultNodeStatus(&obj)
        case ("apiextensions.k8s.io", "CustomResourceDefinition"):
            try validateCRD(obj)
            obj["status"] = crdStatus(obj)
        default:
            break
        }
    }

    /// `scope` .main is a client's update of the object; .all the store's own writes (binding, simulated kubelet).
    func prepareForUpdate(_ info: ResourceInfo, _ obj: inout JSONValue, old: JSONValue, scope: UpdateScope) throws(APIStatusError) {
        guard !info.isCustom else { return }
        if info.group == "", info.kind == "ConfigMap" { try Self.checkConfigMapSize(obj) }
        if info.group == "", info.kind == "Pod", scope == .main {
            var spec = obj["spec"] ?? .emptyObject
            Self.defaultPodSpec(&spec)
            // The Priority admission plugin keeps what it set at create when an update leaves it out.
            for key in ["priority", "preemptionPolicy"] where spec[key] == nil { spec[key] = old[path: "spec", key] }
            obj["spec"] = spec
            if let cause = Self.podSpecUpdateProblem(obj, old: old) { throw .invalid(kind: "Pod", group: "", name: obj.name ?? "", causes: [cause]) }
        }
        if info.group == "apps", Self.workloadKinds.contains(info.kind) { try prepareWorkloadForUpdate(info, &obj, old: old) }
        switch (info.group, info.kind) {
        case ("", "Service"):
            // spec.clusterIP is immutable once allocated.
            if let ip = old[path: "spec", "clusterIP"], obj[path: "spec", "clusterIP"] == nil || obj[path: "spec", "clusterIP"] == "" {
                obj[path: "spec", "clusterIP"] = ip
                obj[path: "spec", "clusterIPs"] = old[path: "spec", "clusterIPs"]
            } else if obj[path: "spec", "clusterIP"] != old[path: "spec", "clusterIP"] {
                throw .invalid(kind: "Service", group: "", name: obj.name ?? "",
                               causes: [.invalid("spec.clusterIPs[0]", "\"\(obj[path: "spec", "clusterIP"]?.stringValue ?? "")\"",
                                                 "may not change once set")])
            }
            try Self.checkIPFamilies(&obj, old: old)
            try Self.defaultService(&obj, old: old)
        case ("", "Secret"):
            // SetDefaults_Secret runs on every decode, so an update without `type` means Opaque, as a create does.
            if scope == .main, obj["type"] == nil || obj["type"] == "" { obj["type"] = "Opaque" }
            try encodeStringData(&obj)  // before the immutability check: stringData is a write of data
            try Self.checkImmutableData(info, obj, old: old)
        case ("", "ConfigMap"):
            try Self.checkImmutableData(info, obj, old: old)
        case ("", "PersistentVolumeClaim") where scope == .main:
            try checkClaimUpdate(&obj, old: old)
        case ("storage.k8s.io", "StorageClass"):
            try Self.checkStorageClassUpdate(&obj, old: old)
        case ("scheduling.k8s.io", "PriorityClass"):
            try checkPriorityClassUpdate(&obj, old: old)
        case ("", "Node"):
            Self.defaultNodeStatus(&obj)
        case ("rbac.authorization.k8s.io", "RoleBinding"), ("rbac.authorization.k8s.io", "ClusterRoleBinding"):
            // A binding's role is fixed (pkg/apis/rbac/validation `ValidateRoleBindingUpdate`): delete and recreate.
            if obj["roleRef"] != old["roleRef"] {
                let ref = obj["roleRef"] ?? [:]
                let value = "rbac.RoleRef{APIGroup:\(Self.goQuote(ref["apiGroup"]?.stringValue ?? "")), Kind:\(Self.goQuote(ref["kind"]?.stringValue ?? "")), Name:\(Self.goQuote(ref["name"]?.stringValue ?? ""))}"
                throw .invalid(kind: info.kind, group: info.group, name: obj.name ?? "", causes: [.invalid("roleRef", value, "cannot change roleRef")])
            }
        case ("", "Namespace"):
            obj[path: "spec", "finalizers"] = old[path: "spec", "finalizers"]
            if obj["status"] == nil { obj["status"] = old["status"] }
        case ("apiextensions.k8s.io", "CustomResourceDefinition"):
            try validateCRD(obj)
            obj["status"] = crdStatus(obj)
        default:
            break
        }
    }

    /// A node without `status.allocatable` gets its capacity as allocatable (pkg/apis/core/v1 `SetDefaults_NodeStatus`),
    /// so the scheduler, which reads only allocatable, sees what a node registered with capacity alone offers.
    /// Environment variable names as ValidateEnv with RelaxedEnvironmentVariableValidation (beta and on in 1.32):
    /// any printable ASCII but '='.
    static func envNameProblems(_ pod: JSONValue) -> [APIStatusError.Cause] {
        var causes: [APIStatusError.Cause] = []
        for list in ["initContainers", "containers"] {
            for (i, container) in (pod[path: "spec", list]?.arrayValue ?? []).enumerated() {
                for (j, variable) in (container["env"]?.arrayValue ?? []).enumerated() {
                    let field = "spec.\(list)[\(i)].env[\(j)].name"
                    let name = variable["name"]?.stringValue ?? ""
                    if name.isEmpty {
                        causes.append(.required(field))
                    } else if !name.unicodeScalars.allSatisfy({ (32...126).contains($0.value) && $0 != "=" }) {
                        causes.append(.invalid(field, GoFormat.quote(name), "a valid environment variable name must consist only of printable ASCII characters other than '='"))
                    }
                }
            }
        }
        return causes
    }

    /// ValidateConfigMap: keys and values of `data` and `binaryData` together at most 1 MiB (MaxConfigMapSize),
    /// reported on the object's root path as upstream does.
    static func checkConfigMapSize(_ obj: JSONValue) throws(APIStatusError) {
        var total = 0
        for (key, value) in obj["data"]?.objectValue ?? [:] { total += key.utf8.count + (value.stringValue?.utf8.count ?? 0) }
        for (key, value) in obj["binaryData"]?.objectValue ?? [:] {
            // Stored as base64 in JSON; the limit counts the decoded bytes.
            total += key.utf8.count + (value.stringValue.flatMap { Data(base64Encoded: $0)?.count } ?? 0)
        }
        guard total > maxConfigMapSize else { return }
        throw .invalid(kind: "ConfigMap", group: "", name: obj.name ?? "",
                       causes: [.init(field: "", reason: "FieldValueTooLong", message: "Too long: may not be more than \(maxConfigMapSize) bytes")])
    }

    static let maxConfigMapSize = 1024 * 1024

    static func defaultNodeStatus(_ node: inout JSONValue) {
        guard node[path: "status", "allocatable"] == nil, let capacity = node[path: "status", "capacity"] else { return }
        node[path: "status", "allocatable"] = capacity
    }

    /// `stringData` is write-only: merged into `data` base64-encoded.
    func encodeStringData(_ obj: inout JSONValue) throws(APIStatusError) {
        guard let stringData = obj["stringData"]?.objectValue else { return }
        var data = obj["data"]?.objectValue ?? [:]
        for (k, v) in stringData {
            data[k] = .string(Data((v.stringValue ?? "").utf8).base64EncodedString())
        }
        obj["data"] = .object(data)
        obj["stringData"] = nil
    }

    /// Service clusterIP from 10.96.0.0/12 unless `None` (headless) or chosen by the client, which ipallocator's
    /// Allocate checks: in the range and not another Service's.
    func allocateClusterIP(_ obj: inout JSONValue, dryRun: Bool) throws(APIStatusError) {
        let type = obj[path: "spec", "type"]?.stringValue ?? "ClusterIP"
        if type == "ExternalName" { return }
        let inUse = Set((objects["services"] ?? [:]).values.compactMap { $0[path: "spec", "clusterIP"]?.stringValue })
        if let ip = obj[path: "spec", "clusterIP"]?.stringValue, !ip.isEmpty {  // chosen (or None): clusterIPs defaulted
            if ip != "None" { try Self.checkChosenClusterIP(ip, inUse: inUse, obj) }
            return
        }
        var offset = nextServiceIP
        while inUse.contains(Self.serviceIP(offset)) { offset += 1 }
        if !dryRun { nextServiceIP = offset + 1 }
        obj[path: "spec", "clusterIP"] = .string(Self.serviceIP(offset))
        obj[path: "spec", "clusterIPs"] = [.string(Self.serviceIP(offset))]
    }

    static let serviceRange = (base: UInt32(10 << 24 | 96 << 16), size: UInt32(1 << 20), text: "10.96.0.0/12")

    static func serviceIP(_ offset: UInt32) -> String {
        let ip = serviceRange.base + offset
        return "\(ip >> 24).\((ip >> 16) & 0xff).\((ip >> 8) & 0xff).\(ip & 0xff)"
    }

    /// ValidateService's IP syntax, then ipallocator's Allocate (the network and broadcast addresses are not in the
    /// range), worded as upstream's `field.Invalid` of `spec.clusterIPs`.
    static func checkChosenClusterIP(_ ip: String, inUse: Set<String>, _ obj: JSONValue) throws(APIStatusError) {
        let octets = ip.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) }
        guard octets.count == 4, ip.split(separator: ".", omittingEmptySubsequences: false).count == 4 else {
            throw .invalid(kind: "Service", group: "", name: obj.name ?? "",
                           causes: [.invalid("spec.clusterIPs[0]", GoFormat.quote(ip), "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")])
        }
        let value = octets.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let ips = "[]string{\(GoFormat.quote(ip))}"
        if value <= serviceRange.base || value >= serviceRange.base + serviceRange.size - 1 {
            throw .invalid(kind: "Service", group: "", name: obj.name ?? "",
                           causes: [.invalid("spec.clusterIPs", ips, "failed to allocate IP \(ip): the provided IP (\(ip)) is not in the valid range. The range of valid IPs is \(serviceRange.text)")])
        }
        if inUse.contains(ip) {
            throw .invalid(kind: "Service", group: "", name: obj.name ?? "",
                           causes: [.invalid("spec.clusterIPs", ips, "failed to allocate IP \(ip): provided IP is already allocated")])
        }
    }
}
