import Foundation
import GantryAPI
import KubeClient
import KubeCore

/// How active a notebook server is, from every source it has: Jupyter's REST API through the Service proxy
/// with the token (`/api/status`: `last_activity`, `connections`; `/api/kernels`: a busy kernel is activity now;
/// `/api/terminals`: each terminal's `last_activity`), and the spec's extra probes through the pod proxy (an
/// HTTP activity endpoint, a GPU-utilisation gauge).
public struct NotebookActivity: Sendable, Hashable {
    /// The latest activity any source reported (now for a busy kernel, a connection or a busy GPU).
    public var seen: Date?
    /// Sources that could not be asked, each named: the notebook is not culled while any fails.
    public var errors: [String]

    public init(seen: Date? = nil, errors: [String] = []) {
        self.seen = seen
        self.errors = errors
    }

    mutating func saw(_ date: Date) { seen = max(seen ?? date, date) }

    public static func probe(_ nb: Notebook, client: KubeClient, now: Date) async -> NotebookActivity {
        var activity = NotebookActivity()
        let culling = nb.spec.effectiveCulling
        if culling.effectiveJupyterAPI { await activity.askJupyter(nb, client: client, now: now) }
        for (i, probe) in (culling.probes ?? []).enumerated() {
            await activity.ask(probe, field: "culling.probes[\(i)]", nb, client: client, now: now)
        }
        return activity
    }

    mutating func askJupyter(_ nb: Notebook, client: KubeClient, now: Date) async {
        let token: String
        do {
            let secret = Secret(json: try await client.get(.secrets, namespace: nb.namespace, name: NotebookChildren.secretName(nb)))
            guard let bytes = secret.value(NotebookChildren.tokenKey) else {
                return errors.append("the Secret \(NotebookChildren.secretName(nb)) has no \(NotebookChildren.tokenKey)")
            }
            token = String(decoding: bytes, as: UTF8.self)
        } catch {
            return errors.append("reading the token Secret: \(error)")
        }
        // Through the API server's proxy the token can only travel as Jupyter's `token` query parameter (the
        // API server consumes the Authorization header); it is never logged by Gantry.
        func get(_ path: String) async -> Result<JSONValue, ProbeFailure> {
            await Self.json(path: path) {
                try await client.proxy(.services, namespace: nb.namespace, name: NotebookChildren.serviceName(nb), port: "http", path: path, query: [("token", token)])
            }
        }
        switch await get("/api/status") {
        case .failure(let failure): errors.append(failure.message)
        case .success(let status):
            if (status["connections"]?.intValue ?? 0) > 0 { saw(now) }
            if let last = status["last_activity"]?.stringValue.flatMap(Self.parseTime) { saw(last) } else {
                errors.append("/api/status has no readable last_activity")
            }
        }
        switch await get("/api/kernels") {
        case .failure(let failure): errors.append(failure.message)
        case .success(let kernels):
            for kernel in kernels.arrayValue ?? [] {
                if kernel["execution_state"]?.stringValue == "busy" { saw(now) }
                if let last = kernel["last_activity"]?.stringValue.flatMap(Self.parseTime) { saw(last) }
            }
        }
        switch await get("/api/terminals") {
        case .failure(let failure) where failure.status == 404: break  // terminals disabled on this server
        case .failure(let failure): errors.append(failure.message)
        case .success(let terminals):
            for terminal in terminals.arrayValue ?? [] {
                if let last = terminal["last_activity"]?.stringValue.flatMap(Self.parseTime) { saw(last) }
            }
        }
    }

    /// A probe of the spec, through the pod proxy (the token is not sent: the endpoint may not be Jupyter's).
    mutating func ask(_ probe: ActivityProbe, field: String, _ nb: Notebook, client: KubeClient, now: Date) async {
        let pod = NotebookChildren.podName(nb)
        if let http = probe.http {
            let answer = await Self.json(path: http.path) {
                try await client.proxy(.pods, namespace: nb.namespace, name: pod, port: String(http.effectivePort), path: http.path)
            }
            switch answer {
            case .failure(let failure): errors.append("\(field): \(failure.message)")
            case .success(let json):
                if let text = json["last_activity"]?.stringValue, let last = Self.parseTime(text) {
                    saw(last)
                } else if let ms = json["lastHeartbeat"]?.doubleValue {
                    saw(Date(timeIntervalSince1970: ms / 1000))
                } else {
                    errors.append("\(field): \(http.path) answered no last_activity or lastHeartbeat")
                }
            }
        }
        if let gpu = probe.gpuUtilization {
            do {
                let response = try await client.proxy(.pods, namespace: nb.namespace, name: pod, port: String(gpu.effectivePort), path: gpu.effectivePath)
                guard response.status == 200 else { return errors.append("\(field): \(gpu.effectivePath) answered \(response.status)") }
                let values = Self.samples(of: gpu.effectiveMetric, in: response.bodyText)
                guard !values.isEmpty else { return errors.append("\(field): \(gpu.effectivePath) has no \(gpu.effectiveMetric) sample") }
                if values.contains(where: { $0 >= gpu.effectiveThreshold }) { saw(now) }
            } catch {
                errors.append("\(field): \(gpu.effectivePath): \(error)")
            }
        }
    }

    struct ProbeFailure: Error {
        var message: String
        var status: Int?
    }

    static func json(path: String, _ request: () async throws -> HTTPResponse) async -> Result<JSONValue, ProbeFailure> {
        do {
            let response = try await request()
            guard response.status == 200 else { return .failure(ProbeFailure(message: "\(path) answered \(response.status)", status: response.status)) }
            guard let json = try? JSONValue.parse(response.bodyText) else { return .failure(ProbeFailure(message: "\(path) did not answer JSON")) }
            return .success(json)
        } catch {
            return .failure(ProbeFailure(message: "\(path): \(error)"))
        }
    }

    /// Values of `metric`'s samples in Prometheus text format (`name{labels} value [timestamp]`).
    static func samples(of metric: String, in text: String) -> [Double] {
        PrometheusSelector(metric).map { PrometheusText.values($0, in: text) } ?? []
    }

    /// Jupyter writes `2026-12-03T10:00:00.123456Z`; Kubernetes-style times have no fraction.
    static func parseTime(_ text: String) -> Date? {
        if let exact = Timestamp.parse(text) { return exact }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        // Microseconds (6 digits) are more than ISO8601DateFormatter reads: keep milliseconds.
        if let dot = text.firstIndex(of: "."), let end = text[dot...].firstIndex(where: { !$0.isNumber && $0 != "." }) {
            let fraction = text[text.index(after: dot)..<end].prefix(3)
            return formatter.date(from: String(text[..<dot]) + "." + fraction + String(text[end...]))
        }
        return nil
    }
}
