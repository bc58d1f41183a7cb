/// A status condition as Kubernetes conventions define it (API-SEMANTICS rule 11).
public struct Condition: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable {
        case `true` = "True"
        case `false` = "False"
        case unknown = "Unknown"
    }

    public var type: String
    public var status: Status
    public var reason: String
    public var message: String
    public var lastTransitionTime: String
    public var observedGeneration: Int64?

    public init(type: String, status: Status, reason: String, message: String, lastTransitionTime: String = "", observedGeneration: Int64? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
        self.observedGeneration = observedGeneration
    }
}

extension Array where Element == Condition {
    public subscript(type type: String) -> Condition? { first { $0.type == type } }

    public func isTrue(_ type: String) -> Bool { self[type: type]?.status == .true }

    /// Sets a condition, keeping `lastTransitionTime` unless the status flips (rule 11).
    public mutating func set(_ condition: Condition, now: String) {
        var c = condition
        if let index = firstIndex(where: { $0.type == c.type }) {
            c.lastTransitionTime = self[index].status == c.status ? self[index].lastTransitionTime : now
            self[index] = c
        } else {
            c.lastTransitionTime = now
            append(c)
        }
    }

    public mutating func remove(type: String) { removeAll { $0.type == type } }
}
