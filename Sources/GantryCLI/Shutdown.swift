import UnixSignals

/// Runs `body` until it returns or SIGTERM/SIGINT arrives; a signal cancels it, which is the shutdown path of
/// every long-running loop below (ARCHITECTURE: cancellation is the shutdown path).
func runUntilSignalled(_ body: @escaping @Sendable () async throws -> Void) async throws {
    let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await body() }
        group.addTask {
            for await _ in signals { return }
        }
        _ = try await group.next()
        group.cancelAll()
    }
}
