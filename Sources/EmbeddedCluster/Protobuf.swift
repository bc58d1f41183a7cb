import Foundation
import KubeCore

/// Decoding of Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`), which kubectl uses for
/// its typed create commands (`kubectl create configmap|secret|namespace|serviceaccount|service|token`, `kubectl run`,
/// `kubectl create role|clusterrole|rolebinding|clusterrolebinding`, `kubectl auth can-i`).
/// Wire format (k8s.io/apimachinery/pkg/runtime/serializer/protobuf): the magic `k8s\0`, then a `runtime.Unknown`
/// {typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2}; `raw` is the object's message, field numbers from
/// k8s.io/api/core/v1/generated.proto. Only the fields those commands send are described; others are skipped.
enum KubeProtobuf {
    struct Failure: Error, CustomStringConvertible { var description: String }

    indirect enum FieldType {
        case string, bytes, bool, int, time, intOrString
        case message(Descriptor)
        case map(valueBytes: Bool)
        case repeated(FieldType)
    }

    struct Descriptor {
        var fields: [Int: (String, FieldType)]
    }

    static let magic: [UInt8] = [0x6b, 0x38, 0x73, 0x00]

    static func decode(_ bytes: [UInt8]) throws(Failure) -> JSONValue {
        guard bytes.count >= 4, Array(bytes[0..<4]) == magic else { throw Failure(description: "missing the k8s protobuf magic prefix") }
        var reader = Reader(bytes: bytes, pos: 4, end: bytes.count)
        var apiVersion = "", kind = ""
        var raw: [UInt8] = []
        while let (field, wire) = try reader.tag() {
            switch (field, wire) {
            case (1, 2):
                var tm = try reader.sub()
                while let (f, w) = try tm.tag() {
                    if f == 1, w == 2 { apiVersion = try tm.string() } else if f == 2, w == 2 { kind = try tm.string() } else { try tm.skip(w) }
                }
            case (2, 2): raw = try reader.lengthDelimited()
            default: try reader.skip(wire)
            }
        }
        guard let descriptor = objects[kind] else { throw Failure(description: "protobuf bodies of kind \(kind) are not supported; send JSON") }
        var body = Reader(bytes: raw, pos: 0, end: raw.count)
        var obj = try message(&body, descriptor)
        obj["apiVersion"] = .string(apiVersion)
        obj["kind"] = .string(kind)
        return obj
    }

    static func message(_ r: inout Reader, _ d: Descriptor) throws(Failure) -> JSONValue {
        var out: [String: JSONValue] = [:]
        while let (field, wire) = try r.tag() {
            guard let (name, type) = d.fields[field] else { try r.skip(wire); continue }
            switch type {
            case .repeated(let inner):
                var list = out[name]?.arrayValue ?? []
                list.append(try value(&r, inner, wire))
                out[name] = .array(list)
            case .map(let valueBytes):
                var entry = try r.sub()
                var key = "", val = JSONValue.string("")
                while let (f, w) = try entry.tag() {
                    if f == 1, w == 2 { key = try entry.string() }
                    else if f == 2, w == 2 { val = valueBytes ? .string(Data(try entry.lengthDelimited()).base64EncodedString()) : .string(try entry.string()) }
                    else { try entry.skip(w) }
                }
                var map = out[name]?.objectValue ?? [:]
                map[key] = val
                out[name] = .object(map)
            default:
                out[name] = try value(&r, type, wire)
            }
        }
        return .object(out)
    }

    static func value(_ r: inout Reader, _ type: FieldType, _ wire: Int) throws(Failure) -> JSONValue {
        switch type {
        case .string: return .string(try r.string())
        case .bytes: return .string(Data(try r.lengthDelimited()).base64EncodedString())
        case .bool: return .bool(try r.varint() != 0)
        case .int: return .int(Int64(bitPattern: try r.varint()))
        case .time:
            var t = try r.sub()
            var seconds: Int64 = 0
            while let (f, w) = try t.tag() { if f == 1 { seconds = Int64(bitPattern: try t.varint()) } else { try t.skip(w) } }
            return .string(Timestamp.format(Date(timeIntervalSince1970: TimeInterval(seconds))))
        case .intOrString:
            var t = try r.sub()
            var kind: UInt64 = 0, int: Int64 = 0, str = ""
            while let (f, w) = try t.tag() {
                switch f {
                case 1: kind = try t.varint()
                case 2: int = Int64(bitPattern: try t.varint())
                case 3: str = try t.string()
                default: try t.skip(w)
                }
            }
            return kind == 1 ? .string(str) : .int(int)
        case .message(let d):
            var sub = try r.sub()
            return try message(&sub, d)
        case .map, .repeated:
            throw Failure(description: "nested repeated fields are not supported")
        }
    }

    struct Reader {
        let bytes: [UInt8]
        var pos: Int
        let end: Int

        mutating func varint() throws(Failure) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while pos < end {
                let b = bytes[pos]
                pos += 1
                result |= UInt64(b & 0x7f) << shift
                if b & 0x80 == 0 { return result }
                shift += 7
                if shift > 63 { break }
            }
            throw Failure(description: "truncated varint")
        }

        mutating func tag() throws(Failure) -> (Int, Int)? {
            guard pos < end else { return nil }
            let t = try varint()
            return (Int(t >> 3), Int(t & 7))
        }

        mutating func length() throws(Failure) -> Int {
            guard let n = Int(exactly: try varint()), n >= 0, n <= end - pos else { throw Failure(description: "truncated field") }
            return n
        }

        mutating func lengthDelimited() throws(Failure) -> [UInt8] {
            let n = try length()
            defer { pos += n }
            return Array(bytes[pos..<pos + n])
        }

        mutating func sub() throws(Failure) -> Reader {
            let n = try length()
            defer { pos += n }
            return Reader(bytes: bytes, pos: pos, end: pos + n)
        }

        mutating func string() throws(Failure) -> String { String(decoding: try lengthDelimited(), as: UTF8.self) }

        mutating func skip(_ wire: Int) throws(Failure) {
            switch wire {
            case 0: _ = try varint()
            case 1: pos += 8
            case 2: _ = try lengthDelimited()
            case 5: pos += 4
            default: throw Failure(description: "unsupported wire type \(wire)")
            }
            if pos > end { throw Failure(description: "truncated field") }
        }
    }

    // MARK: Descriptors (k8s.io/api/core/v1/generated.proto, k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto)

    static let ownerReference = Descriptor(fields: [1: ("kind", .string), 3: ("name", .string), 4: ("uid", .string),
                                                    5: ("apiVersion", .string), 6: ("controller", .bool), 7: ("blockOwnerDeletion", .bool)])
    static let objectMeta = Descriptor(fields: [
        1: ("name", .string), 2: ("generateName", .string), 3: ("namespace", .string), 5: ("uid", .string),
        6: ("resourceVersion", .string), 11: ("labels", .map(valueBytes: false)), 12: ("annotations", .map(valueBytes: false)),
        13: ("ownerReferences", .repeated(.message(ownerReference))), 14: ("finalizers", .repeated(.string)),
    ])
    static let localRef = Descriptor(fields: [1: ("name", .string)])
    static let keyValue = Descriptor(fields: [1: ("name", .string), 2: ("value", .string)])
    static let containerPort = Descriptor(fields: [1: ("name", .string), 2: ("hostPort", .int), 3: ("containerPort", .int),
                                                   4: ("protocol", .string), 5: ("hostIP", .string)])
    static let resources = Descriptor(fields: [:])
    static let container = Descriptor(fields: [
        1: ("name", .string), 2: ("image", .string), 3: ("command", .repeated(.string)), 4: ("args", .repeated(.string)),
        5: ("workingDir", .string), 6: ("ports", .repeated(.message(containerPort))), 7: ("env", .repeated(.message(keyValue))),
        8: ("resources", .message(resources)), 14: ("imagePullPolicy", .string), 16: ("stdin", .bool), 17: ("stdinOnce", .bool),
        18: ("tty", .bool), 13: ("terminationMessagePath", .string), 20: ("terminationMessagePolicy", .string),
    ])
    static let podSpec = Descriptor(fields: [
        2: ("containers", .repeated(.message(container))), 3: ("restartPolicy", .string), 4: ("terminationGracePeriodSeconds", .int),
        6: ("dnsPolicy", .string), 7: ("nodeSelector", .map(valueBytes: false)), 8: ("serviceAccountName", .string),
        10: ("nodeName", .string), 20: ("initContainers", .repeated(.message(container))), 19: ("schedulerName", .string),
        15: ("imagePullSecrets", .repeated(.message(localRef))),
    ])
    static let servicePort = Descriptor(fields: [1: ("name", .string), 2: ("protocol", .string), 3: ("port", .int),
                                                 4: ("targetPort", .intOrString), 5: ("nodePort", .int), 6: ("appProtocol", .string)])
    static let serviceSpec = Descriptor(fields: [
        1: ("ports", .repeated(.message(servicePort))), 2: ("selector", .map(valueBytes: false)), 3: ("clusterIP", .string),
        4: ("type", .string), 5: ("externalIPs", .repeated(.string)), 7: ("sessionAffinity", .string),
        10: ("externalName", .string), 18: ("clusterIPs", .repeated(.string)),
    ])

    // k8s.io/api/authentication/v1/generated.proto: what `kubectl create token` sends.
    static let boundObjectReference = Descriptor(fields: [1: ("kind", .string), 2: ("apiVersion", .string), 3: ("name", .string),
                                                          4: ("uid", .string)])
    static let tokenRequestSpec = Descriptor(fields: [1: ("audiences", .repeated(.string)), 4: ("expirationSeconds", .int),
                                                      3: ("boundObjectRef", .message(boundObjectReference))])

    // k8s.io/api/authorization/v1/generated.proto: what `kubectl auth can-i` sends.
    static let resourceAttributes = Descriptor(fields: [1: ("namespace", .string), 2: ("verb", .string), 3: ("group", .string),
                                                        4: ("version", .string), 5: ("resource", .string), 6: ("subresource", .string),
                                                        7: ("name", .string)])
    static let nonResourceAttributes = Descriptor(fields: [1: ("path", .string), 2: ("verb", .string)])
    static let selfSubjectAccessReviewSpec = Descriptor(fields: [1: ("resourceAttributes", .message(resourceAttributes)),
                                                                 2: ("nonResourceAttributes", .message(nonResourceAttributes))])

    // k8s.io/api/rbac/v1/generated.proto: `kubectl create role|clusterrole|rolebinding|clusterrolebinding`.
    static let policyRule = Descriptor(fields: [1: ("verbs", .repeated(.string)), 2: ("apiGroups", .repeated(.string)),
                                                3: ("resources", .repeated(.string)), 4: ("resourceNames", .repeated(.string)),
                                                5: ("nonResourceURLs", .repeated(.string))])
    static let subject = Descriptor(fields: [1: ("kind", .string), 2: ("apiGroup", .string), 3: ("name", .string), 4: ("namespace", .string)])
    static let roleRef = Descriptor(fields: [1: ("apiGroup", .string), 2: ("kind", .string), 3: ("name", .string)])
    static let role = Descriptor(fields: [1: ("metadata", .message(objectMeta)), 2: ("rules", .repeated(.message(policyRule)))])
    static let binding = Descriptor(fields: [1: ("metadata", .message(objectMeta)), 2: ("subjects", .repeated(.message(subject))),
                                             3: ("roleRef", .message(roleRef))])

    static let objects: [String: Descriptor] = [
        "Role": role, "ClusterRole": role, "RoleBinding": binding, "ClusterRoleBinding": binding,
        "SelfSubjectAccessReview": Descriptor(fields: [1: ("metadata", .message(objectMeta)), 2: ("spec", .message(selfSubjectAccessReviewSpec))]),
        "TokenRequest": Descriptor(fields: [1: ("metadata", .message(objectMeta)), 2: ("spec", .message(tokenRequestSpec))]),
        "ConfigMap": Descriptor(fields: [1: ("metadata", .message(objectMeta)), 2: ("data", .map(valueBytes: false)),
                                         3: ("binaryData", .map(valueBytes: true)), 4: ("immutable", .bool)]),
        "Secret": Descriptor(fields: [1: ("metadata", .message(objectMeta)), 2: ("data", .map(valueBytes: true)),
                                      3: ("type", .string), 4: ("stringData", .map(valueBytes: false)), 5: ("immutable", .bool)]),
        "Namespace": Descriptor(fields: [1: ("metadata", .message(objectMeta))]),
        "ServiceAccount": Descriptor(fields: [1: ("metadata", .message(objectMeta)),
                                              3: ("imagePullSecrets", .repeated(.message(localRef))),
                                              4: ("automountServiceAccountToken", .bool)]),
        "Service": Descriptor(fields: [1: ("metadata", .message(objectMeta)), 2: ("spec", .message(serviceSpec))]),
        "Pod": Descriptor(fields: [1: ("metadata", .message(objectMeta)), 2: ("spec", .message(podSpec))]),
    ]
}
