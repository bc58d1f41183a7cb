import Foundation
import KubeCore

/// Plugs the simulation into the server: `ObjectStore` for objects, `PodLogs` for container logs, and the proxy
/// hook for `pods|services/.../proxy`. Internal writes use scope `.all` (spec binding and status in one write, as
/// the scheduler's binding and the kubelet's status writes would).
struct ObjectStoreSimulationBackend: SimulationBackend {
    let store: ObjectStore
    let logs: PodLogs

    func list(_ resource: String) async throws -> [JSONValue] {
        try await store.list(resource, namespace: nil).items
    }

    func get(_ resource: String, namespace: String?, name: String) async -> JSONValue? {
        await store.get(resource, namespace: namespace, name: name)
    }

    func create(_ resource: String, _ object: JSONValue) async throws {
        _ = try await store.create(resource, object)
    }

    func update(_ resource: String, _ object: JSONValue) async throws {
        _ = try await store.update(resource, object, scope: .all)
    }

    func delete(_ resource: String, namespace: String?, name: String, gracePeriodSeconds: Int64?) async throws {
        _ = try await store.delete(resource, namespace: namespace, name: name, options: DeleteOptions(gracePeriodSeconds: gracePeriodSeconds))
    }

    func appendLog(namespace: String, pod: String, container: String, line: String, at: Date) async {
        await logs.append(namespace: namespace, pod: pod, container: container, line: line, at: at)
    }

    func endLog(namespace: String, pod: String, container: String) async {
        await logs.end(namespace: namespace, pod: pod, container: container)
    }

    func removeLogs(namespace: String, pod: String) async {
        await logs.remove(namespace: namespace, pod: pod)
    }
}

/// Answers proxy requests from the containers' scripts.
struct SimulationProxy: ProxyHandler {
    let driver: SimulationDriver

    func proxy(_ request: ProxyRequest) async -> ProxyResponse {
        let r = await driver.proxy(kind: request.kind, namespace: request.namespace, name: request.name, port: request.port, path: request.path,
                                   headers: request.headers)
        return ProxyResponse(status: r.status, headers: r.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, body: r.body)
    }
}

extension DevCluster {
    /// Starts the simulation for this cluster (nodes from `options.nodes`; `off` disables it) and returns its
    /// loop, which `stop()` cancels with the other background tasks. `GANTRY_SIM_SPEED` (e.g. `10`) speeds up
    /// simulated time for demos. A bad node spec throws before the server answers anything.
    func startSimulation() async throws -> Task<Void, Never> {
        let speed = ProcessInfo.processInfo.environment["GANTRY_SIM_SPEED"].flatMap(Double.init).map { max(0.1, min($0, 1000)) } ?? 1
        let backend = ObjectStoreSimulationBackend(store: store, logs: logs)
        do {
            // One pass per 0.2 s of real time whatever the speed.
            guard let launched = try await SimulationDriver.launch(backend: backend, clock: SystemSimulationClock(speed: speed),
                                                                   nodeSpec: options.nodes, tick: 0.2 * speed)
            else { return Task {} }
            // Kubelets now finish deletions: a DELETE leaves a bound pod Terminating until its containers stop.
            await store.setGracefulPodDeletion(true)
            setProxyHandler(SimulationProxy(driver: launched.driver))
            return launched.loop
        } catch {
            // The server is already listening: do not leave it running behind a failed start.
            await stop()
            throw error
        }
    }
}
