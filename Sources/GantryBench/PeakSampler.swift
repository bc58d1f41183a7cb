import Foundation

/// Peak resident memory of one phase: a background thread reads `VmRSS` every millisecond while `body` runs.
///
/// `VmHWM` is a process-lifetime peak that cannot be reset without privileges, so after one heavy phase it
/// hides the peaks of the next; sampling gives each phase its own peak. Used only in memory runs, never in
/// the timed ones (the sampler costs CPU on a 2-core machine).
public final class PeakSampler: @unchecked Sendable {
    // Guarded by `lock`; the class is shared only between the caller and its one sampling thread.
    private let lock = NSLock()
    private var running = true
    private var peak = 0

    /// Runs `body`; returns its result and the peak RSS growth over the RSS just before it, in bytes.
    public static func measure<T>(_ body: () throws -> T) rethrows -> (result: T, peakGrowth: Int) {
        ProcessMemory.trim()
        let baseline = ProcessMemory.rss
        let sampler = PeakSampler()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            while sampler.isRunning {
                sampler.record(ProcessMemory.rss)
                usleep(1000)
            }
            done.signal()
        }
        thread.start()
        let result = try body()
        sampler.record(ProcessMemory.rss)
        sampler.stop()
        done.wait()
        return (result, max(0, sampler.maximum - baseline))
    }

    private var isRunning: Bool { lock.withLock { running } }
    private var maximum: Int { lock.withLock { peak } }
    private func record(_ rss: Int) { lock.withLock { peak = max(peak, rss) } }
    private func stop() { lock.withLock { running = false } }
}
