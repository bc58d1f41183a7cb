import CMalloc

/// Hands freed heap memory back to the kernel now and then, as Go's runtime scavenger and jemalloc's decay do.
///
/// glibc keeps what any thread frees in that thread's arena and returns pages to the kernel only from the top
/// of the main heap, so the transient trees of an initial list, a burst or a re-list stay resident long after
/// they are freed: with 10,000 pods cached, an idle controller held 250 MiB of which 120 MiB was free
/// (docs/benchmarks.md, scale-10k). `malloc_trim` releases the free pages of every arena: 6.7 ms to return
/// 60 MiB (HeapScavengerTests' heap), less once little is left to return; each arena is locked while it is
/// walked, so a thread allocating meanwhile waits that long at most, once a period.
public enum HeapScavenger {
    /// Releases free heap pages to the kernel; true when some were released (always false off glibc).
    @discardableResult
    public static func releaseFreeMemory() -> Bool { gantry_malloc_trim() == 1 }

    /// Releases free memory every `period` until the task is cancelled.
    public static func run(every period: Duration, clock: any RuntimeClock = SystemClock()) async {
        while !Task.isCancelled {
            do { try await clock.sleep(for: period) } catch { return }
            releaseFreeMemory()
        }
    }
}
