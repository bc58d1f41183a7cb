import DequeModule
import Synchronization

/// One answered request, as an audit log's ResponseStarted stage would record it (trimmed to what tests and
/// debugging read: who, with which client, over which connection, and the answer's code).
public struct RequestRecord: Sendable, Equatable {
    public var method: String
    public var path: String
    public var query: String
    /// nil for an anonymous request (plain HTTP only) or a refused one.
    public var user: String?
    public var userAgent: String?
    public var code: Int
    /// Source port of the connection on the HTTP server: with one protocol in play (all HTTP/1.1, or all HTTP/2),
    /// distinct ports are distinct client connections.
    public var peerPort: Int?
    /// "HTTP/1.1" or "HTTP/2".
    public var httpVersion: String
    /// When the request arrived: tests read the spacing of a client's retries from it.
    public var received: ContinuousClock.Instant
    /// With RBAC enforced, the authorizer's decisions for the request: its own first, then those admission
    /// asked for (OwnerReferencesAdmission). Empty for the admin and under AlwaysAllow.
    public var authorizations: [AuthorizationCheck] = []
}

/// The most recent requests, bounded, oldest first.
final class RequestLog: Sendable {
    static let capacity = 5_000
    private let records = Mutex<Deque<RequestRecord>>([])

    func append(_ r: RequestRecord) {
        records.withLock {
            $0.append(r)
            if $0.count > Self.capacity { $0.removeFirst() }
        }
    }

    var all: [RequestRecord] { records.withLock { Array($0) } }
}
