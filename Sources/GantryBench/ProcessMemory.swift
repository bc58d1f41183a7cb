import Foundation
#if canImport(Glibc)
import Glibc  // dlsym
#endif

/// Resident memory of this process from `/proc/self/status` (Linux). `VmRSS` is current, `VmHWM` the peak.
///
/// The peak cannot be reset on older kernels without privileges, so benchmarks that report "peak growth" run
/// their heaviest phase after a baseline reading of the current RSS and report `VmHWM − baseline`; run such a
/// benchmark alone (`--only`) for a clean figure, because an earlier benchmark may have set a higher peak.
public enum ProcessMemory {
    public struct Reading: Sendable {
        public var rssBytes: Int
        public var peakBytes: Int
    }

    public static func read() -> Reading? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        var rss: Int?, hwm: Int?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("VmRSS:") { rss = kibibytes(line) }
            if line.hasPrefix("VmHWM:") { hwm = kibibytes(line) }
        }
        guard let rss, let hwm else { return nil }
        return Reading(rssBytes: rss * 1024, peakBytes: hwm * 1024)
    }

    public static var rss: Int { read()?.rssBytes ?? 0 }
    public static var peak: Int { read()?.peakBytes ?? 0 }

    /// Asks glibc to hand freed arenas back to the kernel, so RSS reflects live data rather than free lists.
    public static func trim() {
        #if canImport(Glibc)
        _ = mallocTrim?(0)
        #endif
    }

    #if canImport(Glibc)
    typealias MallocTrim = @convention(c) (Int) -> Int32
    /// glibc's `malloc_trim`, looked up at run time: `<malloc.h>` is not part of Swift's Glibc module.
    /// `dlsym(nil, …)` is `RTLD_DEFAULT` (search the loaded libraries); nil on a libc without it.
    static let mallocTrim: MallocTrim? = dlsym(nil, "malloc_trim").map { unsafeBitCast($0, to: MallocTrim.self) }
    #endif

    /// "VmRSS:    12345 kB" → 12345.
    private static func kibibytes(_ line: Substring) -> Int? {
        line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
    }
}
