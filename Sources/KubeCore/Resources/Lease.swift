/// coordination.k8s.io/v1 Lease: leader election.
public struct Lease: KubeResource {
    public static let resourceType = ResourceType.leases
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var spec: Spec { get { nested("spec") } set { setNested("spec", newValue) } }

    public struct Spec: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public var holderIdentity: String? { get { string("holderIdentity") } set { setString("holderIdentity", newValue) } }
        public var leaseDurationSeconds: Int64? { get { int("leaseDurationSeconds") } set { setInt("leaseDurationSeconds", newValue) } }
        /// MicroTime (RFC 3339 with microseconds).
        public var acquireTime: String? { get { string("acquireTime") } set { setString("acquireTime", newValue) } }
        public var renewTime: String? { get { string("renewTime") } set { setString("renewTime", newValue) } }
        public var leaseTransitions: Int64? { get { int("leaseTransitions") } set { setInt("leaseTransitions", newValue) } }
    }
}
