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
        /// The anonymous part of RSS (`RssAnon`): the process's own heap and stacks, without the pages of its
        /// binary and shared libraries that RSS also counts (and shares with other processes mapping them).
        public var anonymousBytes: Int = 0
    }

    /// This process's memory, or another process's (a child such as `gantry controller`) by its pid.
    public static func read(pid: Int32? = nil) -> Reading? {
        let path = "/proc/\(pid.map(String.init) ?? "self")/status"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        var rss: Int?, hwm: Int?, anonymous: Int?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("VmRSS:") { rss = kibibytes(line) }
            if line.hasPrefix("VmHWM:") { hwm = kibibytes(line) }
            if line.hasPrefix("RssAnon:") { anonymous = kibibytes(line) }
        }
        guard let rss, let hwm else { return nil }
        return Reading(rssBytes: rss * 1024, peakBytes: hwm * 1024, anonymousBytes: (anonymous ?? 0) * 1024)
    }

    /// The pages a process touches over `window`: its referenced bits cleared (`/proc/PID/clear_refs`), then
    /// `Referenced` summed over its mappings (`smaps_rollup`) once the window passed. RSS also counts pages that
    /// were touched once (start-up code, relocations) and pages the kernel maps around each touched file page
    /// (fault-around, 64 KiB), which stay resident, untouched, until memory is short; this is what the process
    /// keeps using. Nil where the files cannot be written or read (another user's process, not Linux).
    public static func workingSet(pid: Int32, over window: Duration) async throws -> Int? {
        guard let clear = FileHandle(forWritingAtPath: "/proc/\(pid)/clear_refs") else { return nil }
        defer { try? clear.close() }
        guard (try? clear.write(contentsOf: Array("1".utf8))) != nil else { return nil }
        try await Task.sleep(for: window)
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Referenced:") }),
              let kib = kibibytes(line) else { return nil }
        return kib * 1024
    }

    public static var rss: Int { read()?.rssBytes ?? 0 }
    public static var peak: Int { read()?.peakBytes ?? 0 }

    /// Asks glibc to hand freed arenas back to the kernel, so RSS reflects live data rather than free lists.
    public static func trim() {
        #if canImport(Glibc)
        _ = mallocTrim?(0)
        #endif
    }

    /// Bytes the allocator has handed out and not got back, over all arenas plus mmapped blocks, or nil where
    /// unavailable. Unlike RSS it is not hidden by pages an earlier phase freed but the allocator kept, so it
    /// attributes memory to one data structure. From glibc's `malloc_info` report (XML): the totals after the
    /// last arena, `system current − free fast − free rest + mmap`. (`mallinfo2` would be simpler but returns a
    /// struct by value, which a `@convention(c)` pointer cannot, and `<malloc.h>` is not in Swift's Glibc.)
    public static var heapInUse: Int? {
        #if canImport(Glibc)
        guard let mallocInfo else { return nil }
        var buffer: UnsafeMutablePointer<CChar>?
        var size = 0
        guard let file = open_memstream(&buffer, &size) else { return nil }
        let status = mallocInfo(0, file)
        fclose(file)
        defer { free(buffer) }
        guard status == 0, let buffer else { return nil }
        let xml = String(cString: buffer)
        guard let lastHeap = xml.range(of: "</heap>", options: .backwards) else { return nil }
        let totals = xml[lastHeap.upperBound...]
        func value(_ tag: String, _ type: String) -> Int? {
            guard let r = totals.range(of: "<\(tag) type=\"\(type)\""),
                  let sizeRange = totals[r.upperBound...].range(of: "size=\"") else { return nil }
            return Int(totals[sizeRange.upperBound...].prefix { $0.isNumber })
        }
        guard let current = value("system", "current"), let fast = value("total", "fast"),
              let rest = value("total", "rest") else { return nil }
        return current - fast - rest + (value("total", "mmap") ?? 0)
        #else
        return nil
        #endif
    }

    #if canImport(Glibc)
    typealias MallocInfo = @convention(c) (Int32, UnsafeMutablePointer<FILE>?) -> Int32
    static let mallocInfo: MallocInfo? = dlsym(nil, "malloc_info").map { unsafeBitCast($0, to: MallocInfo.self) }

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
