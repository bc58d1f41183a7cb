import Foundation
import Testing
@testable import KubeRuntime

/// `HeapScavenger` hands memory freed on another thread back to the kernel: without it glibc keeps it resident.
@Suite(.serialized) struct HeapScavengerTests {
    static func residentAnonymousKiB() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("RssAnon:") }) else { return nil }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    }

    @Test func memoryFreedByAnotherThreadIsReturnedToTheKernel() throws {
        #if canImport(Glibc)
        // 64 MiB in 4 KiB blocks allocated on a thread of its own (its own arena); every 16th is kept and the
        // rest freed: the free runs between the kept blocks are the fragments glibc does not return on its own.
        let kept = Thread.detachedAndJoined {
            var blocks: [UnsafeMutableRawPointer] = []
            for _ in 0..<16_384 {
                let p = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 16)
                p.initializeMemory(as: UInt8.self, repeating: 1, count: 4096)
                blocks.append(p)
            }
            var kept: [Int] = []
            for (i, p) in blocks.enumerated() {
                if i % 16 == 15 { kept.append(Int(bitPattern: p)) } else { p.deallocate() }
            }
            return kept
        }
        let before = try #require(Self.residentAnonymousKiB())
        HeapScavenger.releaseFreeMemory()
        let after = try #require(Self.residentAnonymousKiB())
        #expect(before - after >= 32 * 1024, "RssAnon \(before) KiB → \(after) KiB after the scavenger; expected ≥ 32 MiB returned")
        for address in kept { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() }
        #endif
    }

    @Test func anArenaLimitSetByTheOperatorWins() {
        #expect(HeapScavenger.arenaLimit(preferred: 2, environment: [:]) == 2)
        #expect(HeapScavenger.arenaLimit(preferred: 2, environment: ["MALLOC_ARENA_MAX": "8"]) == nil)
    }
}

extension Thread {
    /// Runs `body` on a new thread and waits for its result.
    static func detachedAndJoined<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: T?
        Thread.detachNewThread {
            result = body()
            done.signal()
        }
        done.wait()
        return result!  // trap-ok: set before the semaphore is signalled
    }
}
