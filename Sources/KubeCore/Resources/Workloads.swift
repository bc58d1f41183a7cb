/// apps/v1 DaemonSet: one pod per eligible node (the dataset cache's node agent).
public struct DaemonSet: KubeResource {
    public static let resourceType = ResourceType.daemonSets
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var spec: Spec { get { nested("spec") } set { setNested("spec", newValue) } }
    public var status: Status { get { nested("status") } set { setNested("status", newValue) } }

    public struct Spec: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        /// `matchLabels` of the selector (`matchExpressions`, if any, stay in `json`).
        public var selectorLabels: [String: String] {
            get { json[path: "selector", "matchLabels"]?.objectValue?.compactMapValues(\.stringValue) ?? [:] }
            set {
                if newValue.isEmpty && json[path: "selector", "matchLabels"] == nil { return }
                json[path: "selector", "matchLabels"] = newValue.isEmpty ? nil : .object(newValue.mapValues(JSONValue.string))
            }
        }
        public var template: PodTemplateSpec { get { nested("template") } set { setNested("template", newValue) } }
        public var updateStrategy: RawObject { get { nested("updateStrategy") } set { setNested("updateStrategy", newValue) } }
    }

    public struct Status: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public var desiredNumberScheduled: Int64 { int("desiredNumberScheduled") ?? 0 }
        public var currentNumberScheduled: Int64 { int("currentNumberScheduled") ?? 0 }
        public var updatedNumberScheduled: Int64 { int("updatedNumberScheduled") ?? 0 }
        public var numberReady: Int64 { int("numberReady") ?? 0 }
        public var numberAvailable: Int64 { int("numberAvailable") ?? 0 }
        public var observedGeneration: Int64? { int("observedGeneration") }
    }
}

/// policy/v1 PodDisruptionBudget: how many pods of a set voluntary disruptions (drains) may take at once.
public struct PodDisruptionBudget: KubeResource {
    public static let resourceType = ResourceType.podDisruptionBudgets
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var spec: Spec { get { nested("spec") } set { setNested("spec", newValue) } }

    public struct Spec: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        /// `matchLabels` of the selector.
        public var selectorLabels: [String: String] {
            get { json[path: "selector", "matchLabels"]?.objectValue?.compactMapValues(\.stringValue) ?? [:] }
            set { json[path: "selector", "matchLabels"] = newValue.isEmpty ? nil : .object(newValue.mapValues(JSONValue.string)) }
        }
        /// A count or a percentage (int-or-string), as are `maxUnavailable`'s.
        public var minAvailable: JSONValue? { get { json["minAvailable"] } set { json["minAvailable"] = newValue } }
        public var maxUnavailable: JSONValue? { get { json["maxUnavailable"] } set { json["maxUnavailable"] = newValue } }
    }
}
