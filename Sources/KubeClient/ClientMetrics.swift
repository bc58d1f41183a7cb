import CoreMetrics
import Foundation

/// Request metrics with the names client-go exports, so existing dashboards work:
/// `rest_client_requests_total{method,code}` and `rest_client_request_duration_seconds{verb}`.
/// `code` is the HTTP status, or `<error>` when no answer arrived (client-go's convention).
struct ClientMetrics: Sendable {
    let factory: (any MetricsFactory)?

    func record(method: String, code: Int?, duration: Duration) {
        let codeLabel = code.map(String.init) ?? "<error>"
        let counterDimensions = [("method", method), ("code", codeLabel)]
        let timerDimensions = [("verb", method)]
        let nanos = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        if let factory {
            Counter(label: "rest_client_requests_total", dimensions: counterDimensions, factory: factory).increment()
            Timer(label: "rest_client_request_duration_seconds", dimensions: timerDimensions, factory: factory)
                .recordNanoseconds(nanos)
        } else {
            Counter(label: "rest_client_requests_total", dimensions: counterDimensions).increment()
            Timer(label: "rest_client_request_duration_seconds", dimensions: timerDimensions).recordNanoseconds(nanos)
        }
    }
}
