import KubeCore

/// A printer column as in a CRD's `additionalPrinterColumns` (`jsonPath` is the simple subset we evaluate).
struct PrinterColumn: Sendable, Hashable {
    var name: String
    var type: String
    var jsonPath: String
    var description: String = ""
    var priority: Int = 0
    var format: String = ""
}

/// Everything the server knows about one served resource: how to address it, discover it and print it.
struct ResourceInfo: Sendable {
    var group: String
    var version: String
    var kind: String
    var plural: String
    var singular: String
    var namespaced: Bool
    var shortNames: [String] = []
    var categories: [String] = []
    var verbs: [String] = ResourceInfo.allVerbs
    /// Subresources served under `.../{name}/{sub}` (status, scale, log, binding, eviction, proxy).
    var subresources: [String] = []
    /// Printer columns for custom resources (built-in kinds have theirs in Table.swift).
    var printerColumns: [PrinterColumn] = []
    /// CRD `selectableFields` (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#crd-selectable-fields),
    /// as paths without the leading dot.
    var selectableFields: [String] = []
    /// True for kinds served from a CustomResourceDefinition.
    var isCustom = false
    /// Scale subresource paths for custom resources.
    var scaleSpecReplicasPath: String? = nil
    var scaleStatusReplicasPath: String? = nil
    /// Where the Scale's `status.selector` (a label selector string) is read from; absent: no selector.
    var scaleLabelSelectorPath: String? = nil
    /// Set when the resource is a view of objects stored under another resource: events.k8s.io/v1 Events are
    /// core/v1 Events in storage (see EventConversion.swift).
    var storedAs: (key: String, apiVersion: String)? = nil
    /// Strategic merge patch is only defined for built-in kinds (custom resources answer 415).
    var supportsStrategicMerge: Bool { !isCustom }

    static let allVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// Storage key shared by all versions of a resource: `plural.group` (or the one of `storedAs`).
    var resourceKey: String { storedAs?.key ?? qualifiedName }
    /// The apiVersion objects carry in storage (and in-process reads).
    var storageAPIVersion: String { storedAs?.apiVersion ?? apiVersion }
    /// `pods` or `daemonsets.apps`, as error messages name resources.
    var qualifiedName: String { group.isEmpty ? plural : "\(plural).\(group)" }
    /// Which built-in field labels apply (FieldQuery.supported); empty for custom resources.
    var fieldSelectorKind: String { isCustom ? "" : group.isEmpty ? kind : "\(group)/\(kind)" }
    var hasStatus: Bool { subresources.contains("status") }
    /// `metadata.generation` is maintained by the strategies of workload kinds and custom resources only
    /// (ConfigMaps, Secrets, Namespaces... have none in a real cluster).
    var tracksGeneration: Bool {
        isCustom || ["DaemonSet", "Deployment", "ReplicaSet", "PodDisruptionBudget", "CustomResourceDefinition"].contains(kind)
    }
    var listKind: String { kind + "List" }
    var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    func selfLink(namespace: String?, name: String) -> String {
        if namespaced, let namespace { return "\(groupVersionPath)/namespaces/\(namespace)/\(plural)/\(name)" }
        return "\(groupVersionPath)/\(plural)/\(name)"
    }
}

/// The built-in kinds the embedded cluster serves (a subset of Kubernetes 1.32 chosen for an operator's needs).
enum BuiltinKinds {
    static let all: [ResourceInfo] = [
        ResourceInfo(group: "", version: "v1", kind: "Namespace", plural: "namespaces", singular: "namespace",
                     namespaced: false, shortNames: ["ns"], verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
                     subresources: ["status", "finalize"]),
        ResourceInfo(group: "", version: "v1", kind: "Node", plural: "nodes", singular: "node", namespaced: false,
                     shortNames: ["no"], subresources: ["status", "proxy"]),
        ResourceInfo(group: "", version: "v1", kind: "Pod", plural: "pods", singular: "pod", namespaced: true,
                     shortNames: ["po"], categories: ["all"],
                     subresources: ["status", "log", "binding", "eviction", "proxy", "ephemeralcontainers", "exec", "attach", "portforward"]),
        ResourceInfo(group: "", version: "v1", kind: "Service", plural: "services", singular: "service", namespaced: true,
                     shortNames: ["svc"], categories: ["all"], subresources: ["status", "proxy"]),
        ResourceInfo(group: "", version: "v1", kind: "Endpoints", plural: "endpoints", singular: "endpoints", namespaced: true,
                     shortNames: ["ep"]),
        ResourceInfo(group: "discovery.k8s.io", version: "v1", kind: "EndpointSlice", plural: "endpointslices",
                     singular: "endpointslice", namespaced: true),
        ResourceInfo(group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", singular: "configmap", namespaced: true,
                     shortNames: ["cm"]),
        ResourceInfo(group: "", version: "v1", kind: "Secret", plural: "secrets", singular: "secret", namespaced: true),
        ResourceInfo(group: "", version: "v1", kind: "ServiceAccount", plural: "serviceaccounts", singular: "serviceaccount",
                     namespaced: true, shortNames: ["sa"], subresources: ["token"]),
        ResourceInfo(group: "", version: "v1", kind: "PersistentVolumeClaim", plural: "persistentvolumeclaims",
                     singular: "persistentvolumeclaim", namespaced: true, shortNames: ["pvc"], subresources: ["status"]),
        ResourceInfo(group: "", version: "v1", kind: "PersistentVolume", plural: "persistentvolumes",
                     singular: "persistentvolume", namespaced: false, shortNames: ["pv"], subresources: ["status"]),
        ResourceInfo(group: "storage.k8s.io", version: "v1", kind: "StorageClass", plural: "storageclasses",
                     singular: "storageclass", namespaced: false, shortNames: ["sc"]),
        ResourceInfo(group: "scheduling.k8s.io", version: "v1", kind: "PriorityClass", plural: "priorityclasses",
                     singular: "priorityclass", namespaced: false, shortNames: ["pc"]),
        ResourceInfo(group: "", version: "v1", kind: "Event", plural: "events", singular: "event", namespaced: true,
                     shortNames: ["ev"]),
        ResourceInfo(group: "events.k8s.io", version: "v1", kind: "Event", plural: "events", singular: "event",
                     namespaced: true, shortNames: ["ev"], storedAs: (key: "events", apiVersion: "v1")),
        ResourceInfo(group: "apps", version: "v1", kind: "DaemonSet", plural: "daemonsets", singular: "daemonset",
                     namespaced: true, shortNames: ["ds"], categories: ["all"], subresources: ["status"]),
        ResourceInfo(group: "apps", version: "v1", kind: "Deployment", plural: "deployments", singular: "deployment",
                     namespaced: true, shortNames: ["deploy"], categories: ["all"], subresources: ["status", "scale"]),
        ResourceInfo(group: "apps", version: "v1", kind: "ReplicaSet", plural: "replicasets", singular: "replicaset",
                     namespaced: true, shortNames: ["rs"], categories: ["all"], subresources: ["status", "scale"]),
        ResourceInfo(group: "rbac.authorization.k8s.io", version: "v1", kind: "Role", plural: "roles", singular: "role",
                     namespaced: true),
        ResourceInfo(group: "rbac.authorization.k8s.io", version: "v1", kind: "RoleBinding", plural: "rolebindings",
                     singular: "rolebinding", namespaced: true),
        ResourceInfo(group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRole", plural: "clusterroles",
                     singular: "clusterrole", namespaced: false),
        ResourceInfo(group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRoleBinding", plural: "clusterrolebindings",
                     singular: "clusterrolebinding", namespaced: false),
        // Not stored: answered by APIServer.selfSubjectAccessReview.
        ResourceInfo(group: "authorization.k8s.io", version: "v1", kind: "SelfSubjectAccessReview", plural: "selfsubjectaccessreviews",
                     singular: "selfsubjectaccessreview", namespaced: false, verbs: ["create"]),
        ResourceInfo(group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", singular: "lease",
                     namespaced: true),
        ResourceInfo(group: "policy", version: "v1", kind: "PodDisruptionBudget", plural: "poddisruptionbudgets",
                     singular: "poddisruptionbudget", namespaced: true, shortNames: ["pdb"], subresources: ["status"]),
        ResourceInfo(group: "apiextensions.k8s.io", version: "v1", kind: "CustomResourceDefinition",
                     plural: "customresourcedefinitions", singular: "customresourcedefinition", namespaced: false,
                     shortNames: ["crd", "crds"], categories: ["api-extensions"], subresources: ["status"]),
    ]

    /// Preferred versions of built-in groups, in discovery order (core first, as kube-apiserver lists them).
    static let groupOrder = ["", "apps", "events.k8s.io", "authorization.k8s.io", "policy", "rbac.authorization.k8s.io", "storage.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "apiextensions.k8s.io"]
}
