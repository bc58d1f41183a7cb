import Foundation
import KubeCore

/// What the simulation needs from the API server: privileged in-process reads and writes, and container logs.
/// Resources are storage keys (`pods`, `nodes`, `services`, `endpoints`, `daemonsets.apps`).
///
/// Kept as a protocol so the driver is tested against an in-memory fake, and the server's `ObjectStore` and
/// `PodLogs` plug in through a thin adapter (`ObjectStoreSimulationBackend`).
protocol SimulationBackend: Sendable {
    func list(_ resource: String) async throws -> [JSONValue]
    func get(_ resource: String, namespace: String?, name: String) async -> JSONValue?
    func create(_ resource: String, _ object: JSONValue) async throws
    /// Writes every field as given (spec binding, status); a stale `resourceVersion` is a conflict.
    func update(_ resource: String, _ object: JSONValue) async throws
    /// Deletes now (`gracePeriodSeconds` 0) or gracefully, as a client's DELETE would.
    func delete(_ resource: String, namespace: String?, name: String, gracePeriodSeconds: Int64?) async throws

    func appendLog(namespace: String, pod: String, container: String, line: String, at: Date) async
    func endLog(namespace: String, pod: String, container: String) async
    func removeLogs(namespace: String, pod: String) async
}
