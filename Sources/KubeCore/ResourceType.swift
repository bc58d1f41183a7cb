/// Group, version and kind of an object type (`apps/v1 DaemonSet`).
public struct GroupVersionKind: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var version: String
    public var kind: String

    public init(group: String, version: String, kind: String) {
        self.group = group
        self.version = version
        self.kind = kind
    }

    /// `apiVersion` as written in objects: `v1` for the core group, `group/version` otherwise.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    public var description: String { "\(apiVersion) \(kind)" }
}

/// Everything the client needs to address a resource over REST.
public struct ResourceType: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var version: String
    public var kind: String
    public var plural: String
    public var namespaced: Bool

    public init(group: String, version: String, kind: String, plural: String, namespaced: Bool) {
        self.group = group
        self.version = version
        self.kind = kind
        self.plural = plural
        self.namespaced = namespaced
    }

    public var gvk: GroupVersionKind { GroupVersionKind(group: group, version: version, kind: kind) }
    public var apiVersion: String { gvk.apiVersion }
    public var description: String { group.isEmpty ? plural : "\(plural).\(group)" }

    /// `/api/v1` or `/apis/group/version`.
    public var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// Collection path; `namespace == nil` on a namespaced type means all namespaces.
    public func collectionPath(namespace: String?) -> String {
        if namespaced, let namespace { return "\(groupVersionPath)/namespaces/\(namespace)/\(plural)" }
        return "\(groupVersionPath)/\(plural)"
    }

    public func objectPath(namespace: String?, name: String) -> String {
        "\(collectionPath(namespace: namespace))/\(name)"
    }
}

extension ResourceType {
    public static let namespaces = ResourceType(group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false)
    public static let nodes = ResourceType(group: "", version: "v1", kind: "Node", plural: "nodes", namespaced: false)
    public static let pods = ResourceType(group: "", version: "v1", kind: "Pod", plural: "pods", namespaced: true)
    public static let services = ResourceType(group: "", version: "v1", kind: "Service", plural: "services", namespaced: true)
    public static let endpoints = ResourceType(group: "", version: "v1", kind: "Endpoints", plural: "endpoints", namespaced: true)
    public static let configMaps = ResourceType(group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true)
    public static let secrets = ResourceType(group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true)
    public static let serviceAccounts = ResourceType(group: "", version: "v1", kind: "ServiceAccount", plural: "serviceaccounts", namespaced: true)
    public static let persistentVolumeClaims = ResourceType(group: "", version: "v1", kind: "PersistentVolumeClaim", plural: "persistentvolumeclaims", namespaced: true)
    public static let coreEvents = ResourceType(group: "", version: "v1", kind: "Event", plural: "events", namespaced: true)
    public static let events = ResourceType(group: "events.k8s.io", version: "v1", kind: "Event", plural: "events", namespaced: true)
    public static let daemonSets = ResourceType(group: "apps", version: "v1", kind: "DaemonSet", plural: "daemonsets", namespaced: true)
    public static let podDisruptionBudgets = ResourceType(group: "policy", version: "v1", kind: "PodDisruptionBudget", plural: "poddisruptionbudgets", namespaced: true)
    public static let leases = ResourceType(group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", namespaced: true)
    public static let customResourceDefinitions = ResourceType(group: "apiextensions.k8s.io", version: "v1", kind: "CustomResourceDefinition", plural: "customresourcedefinitions", namespaced: false)
}
