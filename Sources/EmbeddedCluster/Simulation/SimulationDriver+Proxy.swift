import Foundation
import KubeCore

/// Answers `pods/{name[:port]}/proxy/...` and `services/{name[:port]}/proxy/...` from the containers' scripts.
///
/// A pod is reached on the container that declares the port (by number or name; the first container when no
/// port is given); a service on one of its ready endpoints (round robin), through the service port's
/// targetPort. Failures are the real API server's: a `Status` (never a bare text, which a client would take for
/// the backend's own answer), 503 ServiceUnavailable `no endpoints available for service "x"` from the service
/// registry, or `error trying to reach service: dial tcp …: connect: connection refused` from apimachinery's proxy
/// transport when nothing runs there; 404 NotFound for a pod or service that does not exist.
extension SimulationDriver {
    /// `headers`: the request's, names lowercased, as the API server forwards them (`ProxyRequest.forwarded`).
    func proxy(kind: String, namespace: String?, name: String, port: String?, path: String,
               headers: [String: String] = [:]) async -> SimHTTPResponse {
        let ns = namespace ?? "default"
        switch kind {
        case "Pod":
            guard let pod = await backend.get("pods", namespace: ns, name: name) else {
                return Self.failure(.notFound("pods", name, group: "", kind: "pods"))
            }
            return proxyToPod(pod, port: port, path: path, headers: headers)
        case "Service":
            return await proxyToService(namespace: ns, name: name, port: port, path: path, headers: headers)
        default:
            return Self.failure(Self.unavailable("simulated \(kind.lowercased()) \"\(name)\" has no HTTP endpoint"))
        }
    }

    func proxyToPod(_ pod: JSONValue, port: String?, path: String, headers: [String: String] = [:]) -> SimHTTPResponse {
        let now = clock.now
        let containers = pod[path: "spec", "containers"]?.arrayValue ?? []
        let ip = pod[path: "status", "podIP"]?.stringValue ?? ""
        let container: JSONValue?
        if let port, !port.isEmpty {
            container = containers.first { c in
                (c["ports"]?.arrayValue ?? []).contains { p in
                    p["name"]?.stringValue == port || p["containerPort"]?.intValue.map(String.init) == port
                }
            } ?? (Int(port) != nil ? containers.first : nil)
        } else {
            container = containers.first
        }
        let refused = Self.failure(Self.unavailable("error trying to reach service: dial tcp \(ip):\(port ?? "80"): connect: connection refused"))
        guard let container, let containerName = container["name"]?.stringValue,
              let runtime = runtimes[Self.podKey(pod)], pod[path: "status", "phase"]?.stringValue == "Running"
        else { return refused }
        let script = PodScript.from(pod: pod)
        guard case .success(let podScript) = script else { return refused }
        let decision = KubeletSimulator.decide(pod: pod, script: script, runtime: runtime, now: now)
        guard let run = decision.runs.first(where: { $0.container == containerName && !$0.isInit && $0.stoppedAt == nil }) else {
            return refused
        }
        var context = ScriptContext(pod: pod.name ?? "", namespace: pod.namespace ?? "", container: containerName,
                                    node: pod[path: "spec", "nodeName"]?.stringValue ?? "", startTime: run.startedAt)
        // `{requests}`: what this run of the container answered, /metrics itself not counted (a load a test sends
        // through a Service shows in the pods' metrics, split as the endpoints share it).
        let served = "\(Self.podKey(pod))/\(containerName)/\(run.startedAt.timeIntervalSince1970)"
        if (path.split(separator: "?").first.map(String.init) ?? path) != "/metrics" { servedRequests[served, default: 0] += 1 }
        context.requests = servedRequests[served] ?? 0
        return ScriptHTTP.respond(podScript.script(for: container), path: path, headers: headers,
                                  uptime: now.timeIntervalSince(run.startedAt), context: context)
    }

    func proxyToService(namespace: String, name: String, port: String?, path: String, headers: [String: String]) async -> SimHTTPResponse {
        guard let service = await backend.get("services", namespace: namespace, name: name) else {
            return Self.failure(.notFound("services", name, group: "", kind: "services"))
        }
        let ports = service[path: "spec", "ports"]?.arrayValue ?? []
        let servicePort = port.flatMap { p in ports.first { $0["name"]?.stringValue == p || $0["port"]?.intValue.map(String.init) == p } } ?? ports.first
        let noEndpoints = Self.failure(Self.unavailable("no endpoints available for service \"\(name)\""))
        guard let servicePort else { return noEndpoints }
        // Ready endpoints of the pods behind the service, computed as the Endpoints controller would.
        let pods = ((try? await backend.list("pods")) ?? []).filter { $0.namespace == namespace }
        guard let endpoints = EndpointsSimulator.endpoints(service: service, pods: pods) else { return noEndpoints }
        var targets: [(pod: String, port: Int64)] = []
        for subset in endpoints["subsets"]?.arrayValue ?? [] {
            let portName = servicePort["name"]?.stringValue
            let match = (subset["ports"]?.arrayValue ?? []).first { $0["name"]?.stringValue == portName } ?? subset["ports"]?.arrayValue?.first
            guard let target = match?["port"]?.intValue else { continue }
            for address in subset["addresses"]?.arrayValue ?? [] {
                if let podName = address[path: "targetRef", "name"]?.stringValue { targets.append((podName, target)) }
            }
        }
        guard !targets.isEmpty else { return noEndpoints }
        proxyRoundRobin &+= 1
        let target = targets[abs(proxyRoundRobin) % targets.count]
        guard let pod = pods.first(where: { $0.name == target.pod }) else { return noEndpoints }
        return proxyToPod(pod, port: String(target.port), path: path, headers: headers)
    }

    static func unavailable(_ message: String) -> APIStatusError {
        APIStatusError(code: 503, reason: "ServiceUnavailable", message: message)
    }

    static func failure(_ error: APIStatusError) -> SimHTTPResponse {
        SimHTTPResponse(status: error.code, headers: ["Content-Type": "application/json"], body: error.status.serializedBytes())
    }
}
