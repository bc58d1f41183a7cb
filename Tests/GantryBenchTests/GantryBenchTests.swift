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

    /// blue-green at its smallest: one swap under load through the three processes yields every named figure
    /// (no timing asserted; a failed request or an empty Endpoints sample shows in the figures, not here).
    @Test func blueGreenRunsOneSwapAndYieldsItsFigures() async throws {
        let figures = try await BlueGreenBench(quick: true, scales: [1]).run(log: { _ in })
        let byMetric = Dictionary(figures.map { ($0.metric, $0) }, uniquingKeysWith: { a, _ in a })
        for metric in ["candidate Ready → alias updated, p50", "candidate Ready → alias updated, p99", "baseline: bare selector PATCH → watch event, p50",
                       "requests through the alias that failed", "Endpoints samples without a ready address",
                       "EndpointSlice samples without a ready endpoint", "alias selector changes per swap", "controller CPU per swap", "API server CPU per swap"] {
            #expect(byMetric[metric]?.value.isFinite == true, "missing figure \(metric)")
        }
        #expect((byMetric["candidate Ready → alias updated, p99"]?.value ?? 0) > 0)
        #expect(byMetric["alias selector changes per swap"]?.value == 1)
        #expect(byMetric["requests through the alias that failed"]?.note.contains(" sent;") == true)
    }

    /// scale-10k at its smallest: a few seeded jobs, a one-second idle window, one latency job; every figure present.
    @Test func scale10kRunsSmallAndYieldsItsFigures() async throws {
        var bench = Scale10kBench(quick: true, scales: [20])
        bench.idle = .seconds(1)
        bench.workingSetWindow = .seconds(1)
        bench.latencyJobs = 1
        let figures = try await bench.run(log: { _ in })
        let metrics = figures.map(\.metric)
        for metric in ["N=20: exec → caches synced (/readyz)", "N=20: baseline: bare LIST of the same objects", "N=20: writes after sync (seed already converged)",
                       "idle RSS, nothing cached", "N=20: steady RSS", "N=20: RSS per cached Pod (with its job and record)",
                       "N=20: peak RSS during the initial list / steady", "N=20: controller CPU, idle",
                       "N=20: controller requests while idle, other than watches", "N=20: API server CPU, idle",
                       "N=20: apply → all 4 pods created, p50", "N=20: apply → all 4 pods created, p99",
                       "N=20: baseline: bare client, the same writes in a row, p50"] {
            #expect(metrics.contains(metric), "missing figure \(metric)")
        }
        #expect(figures.first { $0.metric == "idle RSS, nothing cached" }.map { $0.value > 1 } == true, "the controller's RSS was read")
        // The working set is read from the controller's own referenced bits: some pages, never more than it has.
        let rss = figures.first { $0.metric == "idle RSS, nothing cached" }?.value ?? 0
        let workingSet = figures.first { $0.metric == "idle working set, nothing cached" }
        #expect(workingSet.map { $0.value > 0 && $0.value <= rss } == true, "working set \(String(describing: workingSet?.value)) MiB of \(rss) MiB RSS")
        #expect(workingSet?.note.contains("UNREADABLE") == false)
        #expect(figures.first { $0.metric.hasSuffix("writes after sync (seed already converged)") }?.value == 0,
                "the seeded jobs are converged: the operator writes nothing for them")
    }

    /// culling at its smallest: one idle notebook culled, one active notebook checked a few times and kept.
    @Test func cullingRunsSmallAndYieldsItsFigures() async throws {
        var bench = CullingBench(quick: true)
        bench.idleNotebooks = 1
        bench.activeNotebooks = 1
        bench.activeChecks = 3
        let figures = try await bench.run(log: { _ in })
        let byMetric = Dictionary(figures.map { ($0.metric, $0) }, uniquingKeysWith: { a, _ in a })
        for metric in ["idle timeout ran out → pod deletion seen, p50", "idle timeout ran out → pod deletion seen, p99", "checks of active notebooks",
                       "active notebooks culled (pod deleted or Culled)", "controller CPU per check", "API server CPU per check"] {
            #expect(byMetric[metric]?.value.isFinite == true, "missing figure \(metric)")
        }
        #expect((byMetric["checks of active notebooks"]?.value ?? 0) >= 3)
        #expect(byMetric["active notebooks culled (pod deleted or Culled)"]?.value == 0)
    }
}
