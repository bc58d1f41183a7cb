import Foundation
import GantryAPI
import KubeClient
import KubeCore

/// How active a notebook server is, asked through the API server's service proxy with the notebook's token:
/// Jupyter's `/api/status` (`last_activity`, `connections`) and `/api/kernels` (a busy kernel is activity now).
public enum NotebookActivity: Sendable, Hashable {
    /// The latest activity the server reported, or now when a kernel is busy or a browser is connected.
    case seen(Date)
    /// The probe failed: the notebook is not culled on it, and the failure is surfaced.
    case failed(String)

    public static func probe(_ nb: Notebook, client: KubeClient, now: Date) async -> NotebookActivity {
        let token: String
        do {
            let secret = Secret(json: try await client.get(.secrets, namespace: nb.namespace, name: NotebookChildren.secretName(nb)))
            guard let bytes = secret.value(NotebookChildren.tokenKey) else { return .failed("the Secret \(NotebookChildren.secretName(nb)) has no \(NotebookChildren.tokenKey)") }
            token = String(decoding: bytes, as: UTF8.self)
        } catch {
            return .failed("reading the token Secret: \(error)")
        }
        // Through the API server's proxy the token can only travel as Jupyter's `token` query parameter (the
        // API server consumes the Authorization header); it is never logged by Gantry.
        func get(_ path: String) async -> Result<JSONValue, ProbeFailure> {
            do {
                let response = try await client.proxy(.services, namespace: nb.namespace, name: NotebookChildren.serviceName(nb), port: "http",
                                                      path: path, query: [("token", token)])
                guard response.status == 200 else { return .failure(ProbeFailure("\(path) answered \(response.status)")) }
                guard let json = try? JSONValue.parse(response.bodyText) else { return .failure(ProbeFailure("\(path) did not answer JSON")) }
                return .success(json)
            } catch {
                return .failure(ProbeFailure("\(path): \(error)"))
            }
        }
        let status: JSONValue
        switch await get("/api/status") {
        case .success(let json): status = json
        case .failure(let failure): return .failed(failure.message)
        }
        if (status["connections"]?.intValue ?? 0) > 0 { return .seen(now) }
        if case .success(let kernels) = await get("/api/kernels"),
           kernels.arrayValue?.contains(where: { $0["execution_state"]?.stringValue == "busy" }) == true {
            return .seen(now)
        }
        guard let text = status["last_activity"]?.stringValue, let last = parseTime(text) else {
            return .failed("/api/status has no readable last_activity")
        }
        return .seen(last)
    }

    struct ProbeFailure: Error { var message: String; init(_ m: String) { message = m } }

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
