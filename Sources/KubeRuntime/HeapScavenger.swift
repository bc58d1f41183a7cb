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

    /// How many malloc arenas a long-running process should use: `preferred`, unless the operator set
    /// `MALLOC_ARENA_MAX` (glibc reads it at start; their choice wins).
    ///
    /// glibc gives each new thread an arena of its own, up to 8 per core: the idle controller had 12, one per
    /// thread, and an object allocated on one thread and kept while its neighbours are freed pins a page of that
    /// arena. With 10,000 cached pods, 2 or 4 arenas cost 0.3–0.6 KiB less per Pod than 12 (docs/benchmarks.md,
    /// scale-10k sixth run); 2 slowed the first reconcile of the 10,000 by a third (threads waiting on an arena
    /// lock), 4 did not. A fixed number, not one per core: in a container the core count is the host's.
    public static func arenaLimit(preferred: Int, environment: [String: String]) -> Int? {
        environment["MALLOC_ARENA_MAX"] == nil ? preferred : nil
    }

    /// Caps the number of malloc arenas at `count` (see `arenaLimit`); true when glibc took it. Call it first
    /// thing: arenas made before stay.
    @discardableResult
    public static func limitArenas(to count: Int) -> Bool { gantry_malloc_limit_arenas(Int32(count)) == 1 }

    /// Releases free memory every `period` until the task is cancelled.
    public static func run(every period: Duration, clock: any RuntimeClock = SystemClock()) async {
        while !Task.isCancelled {
            do { try await clock.sleep(for: period) } catch { return }
            releaseFreeMemory()
        }
    }
}
