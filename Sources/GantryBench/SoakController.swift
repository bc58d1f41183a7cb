import Foundation

/// What a soak reads from the controller it watches (a `ControllerProcess`): its work queues through `/metrics`.
extension ControllerProcess {
    /// Sum of `workqueue_depth` over every controller's queue; nil when /metrics does not answer or has no such
    /// series (an absent gauge must not read as an empty queue).
    func queueDepth() async -> Double? {
        guard let response = try? await http.get(url: "http://127.0.0.1:\(healthPort)/metrics"), response.status == 200 else { return nil }
        let depths = String(decoding: response.body, as: UTF8.self).split(separator: "\n")
            .filter { $0.hasPrefix("workqueue_depth{") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
        return depths.isEmpty ? nil : depths.reduce(0, +)
    }

    /// Whether the queues are empty, looked at every second for up to `within`.
    func drains(within: Duration) async -> Bool {
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            if await queueDepth() == 0 { return true }
            try? await Task.sleep(for: .seconds(1))
        }
        return false
    }
}
