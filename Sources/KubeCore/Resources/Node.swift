/// core/v1 Node: capacity and allocatable (GPUs as extended resources), taints, readiness.
public struct Node: KubeResource {
    public static let resourceType = ResourceType.nodes
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var spec: Spec { get { nested("spec") } set { setNested("spec", newValue) } }
    public var status: Status { get { nested("status") } set { setNested("status", newValue) } }

    public struct Spec: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public var unschedulable: Bool { get { bool("unschedulable") ?? false } set { setBool("unschedulable", newValue ? true : nil) } }
        public var taints: [Taint] { get { list("taints") } set { setList("taints", newValue) } }
    }

    public struct Taint: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public var key: String? { get { string("key") } set { setString("key", newValue) } }
        public var value: String? { get { string("value") } set { setString("value", newValue) } }
        public var effect: String? { get { string("effect") } set { setString("effect", newValue) } }
    }

    public struct Status: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public var capacity: [String: String] { stringMap("capacity") }
        public var allocatable: [String: String] { stringMap("allocatable") }
        public var conditions: [Condition] { conditions() }
        public var isReady: Bool { conditions.contains { $0.type == "Ready" && $0.status == .true } }
        public var kubeletVersion: String? { json[path: "nodeInfo", "kubeletVersion"]?.stringValue }
    }
}
