import Foundation
import Testing
import KubeClient
import KubeCore
@testable import GantryBench

/// Pure checks of the harness and fixtures; no timing assertions here (targets live in `gantry bench`).
@Suite struct GantryBenchTests {
    @Test func percentilesUseNearestRank() {
        let samples = Samples((1...100).map { Duration.milliseconds($0) })
        #expect(samples.median == .milliseconds(50))
        #expect(samples.p99 == .milliseconds(99))
        #expect(Samples([.milliseconds(7)]).p99 == .milliseconds(7))
        #expect(Samples().median == .zero)
    }

    @Test func theJSONResultCarriesMachineCommitCommandAndEveryFigure() throws {
        let figures = [BenchFigure("burst", "N=50: ratio", 0.9, "×", note: "target ≥ 0.8: met"), BenchFigure("x", "unmeasured", .nan, "ms")]
        let data = try BenchResult(figures: figures, command: "gantry bench --only burst", commit: "abc1234").json()
        let doc = try JSONValue.parse(Array(data))
        #expect(doc["command"] == "gantry bench --only burst")
        #expect(doc["commit"] == "abc1234")
        #expect((doc[path: "machine", "cores"]?.intValue ?? 0) >= 1)
        #expect((doc[path: "machine", "memoryBytes"]?.intValue ?? 0) > 0)
        #expect(doc["figures"]?.arrayValue?.count == 2)
        #expect(doc["figures"]?.arrayValue?.first?["note"] == "target ≥ 0.8: met")
        #expect(doc["figures"]?.arrayValue?.last?["value"] == nil, "NaN has no JSON form: the value is left out")
    }

    @Test func fixtureIsDeterministicRealisticAndDecodable() throws {
        let a = PodFixture.podListBytes(count: 20), b = PodFixture.podListBytes(count: 20)
        #expect(a == b)
        let perPod = a.count / 20
        #expect((4 * 1024...9 * 1024).contains(perPod))
        let typed = try JSONDecoder().decode(PodListModel.self, from: Data(a))
        #expect(typed.items.count == 20)
        #expect(typed.items[0].metadata.managedFields?.count == 2)
        #expect(typed.items[0].spec?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.count == 1)
        #expect(try JSONValue.parse(a)["items"]?.arrayValue?.count == 20)
    }

    @Test func chunkedStreamFramesEveryEventIntact() throws {
        let stream = WatchFramingBench.Stream(seed: 3)
        var framer = LineFramer()
        var lines = 0
        _ = try stream.feed(events: 200, framer: &framer) { line in
            _ = try WatchEvent(json: try JSONValue.parse(line))
            lines += 1
        }
        #expect(lines == 200)
    }

    /// The startup benchmark drives the real `gantry dev` binary through one start, request and stop (the
    /// figures are for `gantry bench`; no timing is asserted here).
    /// Without the binary the test fails naming it (`DevStartupBench.gantryBinary` throws "no gantry binary at …").
    @Test func devStartupRunsTheRealBinary() async throws {
        let run = try await DevStartupBench.once(binary: try DevStartupBench.gantryBinary())
        #expect(run.hint > .zero && run.firstRequest >= run.hint)
    }

    /// The latency benchmark reaches each transport it names (no timing asserted).
    @Test func apiLatencyCoversEveryTransport() async throws {
        var bench = APILatencyBench(quick: true)
        bench.requests = 5
        let figures = try await bench.run(log: { _ in })
        #expect(figures.count == 6 && figures.allSatisfy { $0.value > 0 })
        #expect(figures.filter { $0.metric.hasSuffix("median") }.map(\.note) == [
            "5 sequential requests (HTTP/1.1)", "5 sequential requests (HTTP/1.1)", "5 sequential requests (HTTP/2)"])
    }

    @Test func parsesMicrosecondLogTimestamps() throws {
        let date = try #require(EarlyStopBench.parseMicroTimestamp("2026-12-01T15:02:03.123456Z"))
        let whole = try #require(Timestamp.parse("2026-12-01T15:02:03Z"))
        #expect(abs(date.timeIntervalSince(whole) - 0.123456) < 1e-6)
    }

    @Test func divergingJobCarriesAScript() {
        let job = EarlyStopBench.divergingJob(3)
        #expect(job.name == "diverge-3")
        #expect(job[path: "spec", "podMetadata", "annotations", "sim.gantry.dev/script"]?.stringValue?.contains("diverge") == true)
    }
}
