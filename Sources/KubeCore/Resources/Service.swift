/// core/v1 Service.
public struct Service: KubeResource {
    public static let resourceType = ResourceType.services
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var spec: Spec { get { nested("spec") } set { setNested("spec", newValue) } }

    public struct Spec: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        /// `ClusterIP` (the default), `NodePort`, `LoadBalancer` or `ExternalName`.
        public var type: String? { get { string("type") } set { setString("type", newValue) } }
        public var selector: [String: String] { get { stringMap("selector") } set { setStringMap("selector", newValue) } }
        public var ports: [Port] { get { list("ports") } set { setList("ports", newValue) } }
        public var clusterIP: String? { get { string("clusterIP") } set { setString("clusterIP", newValue) } }
        public var publishNotReadyAddresses: Bool? {
            get { bool("publishNotReadyAddresses") } set { setBool("publishNotReadyAddresses", newValue) }
        }
    }

    public struct Port: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public init(name: String? = nil, port: Int64, targetPort: JSONValue? = nil) {
            json = ["port": .int(port), "protocol": "TCP"]
            self.name = name
            self.targetPort = targetPort
        }
        public var name: String? { get { string("name") } set { setString("name", newValue) } }
        public var port: Int64? { get { int("port") } set { setInt("port", newValue) } }
        /// A number or a container port's name (int-or-string).
        public var targetPort: JSONValue? { get { json["targetPort"] } set { json["targetPort"] = newValue } }
        public var `protocol`: String? { get { string("protocol") } set { setString("protocol", newValue) } }
    }
}
