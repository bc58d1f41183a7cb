import Foundation
import GantryControllers
import KubeCore
import KubeRuntime

/// `store-update`: KubeRuntime's `Store` fed N Pods as the reflector feeds it, with the operator's Pod
/// projection (`Store.projection(keeping: TrainingJobWatches.podFields)`): upsert throughput (watch events), `replace(with:)` throughput
/// (a relist), and memory per cached Pod for three projections: none, the Store default (drop
/// `managedFields`) and the operator's. Budget: ≤ 8 KiB per cached Pod with the operator's projection.
public struct StoreUpdateBench: Sendable {
    public var pods = 10_000
    public var iterations = 5
    public static let budgetPerPod = 8 * 1024

    public init(quick: Bool) {
        if quick { pods = 2_000; iterations = 3 }
    }

    public func run(log: (String) -> Void) async throws -> [BenchFigure] {
        let name = "store-update"
        // Serialized first: the memory runs parse each pod afresh, like the reflector does from the wire, so a
        // cached value never shares storage with a fixture that outlives it.
        let wire = PodFixture.pods(count: pods).map { $0.serializedBytes() }
        log("\(name): \(pods) pods, \(wire.reduce(0) { $0 + $1.count } / pods) B of JSON each")
        var figures = try await memory(wire: wire)
        let parsed = try wire.map { try JSONValue.parse($0) }

        // Throughput with the operator's projection (projection runs inside upsert/replace, so it is included).
        let store = Store(projection: Store.projection(keeping: TrainingJobWatches.podFields))
        var upserts = Samples(), replaces = Samples()
        let clock = ContinuousClock()
        for round in 0...iterations {
            let start = clock.now
            for pod in parsed { await store.upsert(pod) }
            let upserted = clock.now
            await store.replace(with: parsed)
            let replaced = clock.now
            if round > 0 { upserts.append(upserted - start); replaces.append(replaced - upserted) }  // round 0 warms up
        }
        guard await store.count == pods else { throw BenchError.wrongResult("store holds \(await store.count) pods, expected \(pods)") }
        figures.append(BenchFigure(name, "upsert, operator projection", Double(pods) / upserts.median.seconds, "pods/s",
                                   note: String(format: "%.2f µs/pod median, p99 round %.0f ms", upserts.median.seconds * 1e6 / Double(pods), upserts.p99.milliseconds)))
        figures.append(BenchFigure(name, "replace (relist), operator projection", Double(pods) / replaces.median.seconds, "pods/s",
                                   note: String(format: "%.0f ms per %d-pod list", replaces.median.milliseconds, pods)))
        return figures
    }

    /// Memory per cached pod, measured before any churn: RSS growth is honest only for the first store built
    /// in a fresh process (later ones reuse pages earlier ones freed), so RSS is reported for the operator's
    /// projection, measured first, and heap bytes in use (`mallinfo2`) for every variant.
    func memory(wire: [[UInt8]]) async throws -> [BenchFigure] {
        let name = "store-update"
        let variants: [(String, Store.Projection)] = [
            ("TrainingJobWatches.podFields", Store.projection(keeping: TrainingJobWatches.podFields)),
            ("Store default (drop managedFields)", Store.dropManagedFields),
            ("no projection", { $0 }),
        ]
        var figures: [BenchFigure] = []
        for (index, (label, projection)) in variants.enumerated() {
            let (rss, heap) = try await bytesPerPod(wire: wire, projection: projection)
            let projectedSize = projection(try JSONValue.parse(wire[0])).serializedBytes().count
            let verdict = heap <= Double(Self.budgetPerPod) ? "within 8 KiB budget" : "over 8 KiB budget"
            figures.append(BenchFigure(name, "heap per cached pod, \(label)", heap / 1024, "KiB",
                                       note: "\(verdict); \(projectedSize) B as JSON"))
            if index == 0 {
                figures.append(BenchFigure(name, "RSS growth per cached pod, \(label)", rss / 1024, "KiB",
                                           note: "first store of the process"))
            }
        }
        figures += try await breakdown(wire: wire)
        return figures
    }

    /// Where the projected pod's memory goes: the store holding only one part of `projectPod`'s result at a
    /// time. Each figure includes the per-entry cost of the store itself (key, dictionary slot, namespace
    /// index), measured alone as "entry only".
    func breakdown(wire: [[UInt8]]) async throws -> [BenchFigure] {
        let project = Store.projection(keeping: TrainingJobWatches.podFields)
        let parts: [(String, Store.Projection)] = [
            ("entry only (key + indexes)", { _ in .emptyObject }),
            ("projectPod metadata only", { ["metadata": project($0)["metadata"] ?? .null] }),
            ("projectPod status.conditions only", { ["c": project($0)[path: "status", "conditions"] ?? .null] }),
            ("projectPod status.containerStatuses only", { ["s": project($0)[path: "status", "containerStatuses"] ?? .null] }),
        ]
        var figures: [BenchFigure] = []
        for (label, projection) in parts {
            let (_, heap) = try await bytesPerPod(wire: wire, projection: projection)
            let size = projection(try JSONValue.parse(wire[0])).serializedBytes().count
            figures.append(BenchFigure("store-update", "heap per cached pod, \(label)", heap / 1024, "KiB", note: "\(size) B as JSON"))
        }
        return figures
    }

    /// RSS growth and heap growth of a store holding every pod, divided by the count (glibc trimmed before
    /// both readings). Heap is NaN where `mallinfo2` is unavailable.
    func bytesPerPod(wire: [[UInt8]], projection: @escaping Store.Projection) async throws -> (rss: Double, heap: Double) {
        ProcessMemory.trim()
        let before = ProcessMemory.rss, heapBefore = ProcessMemory.heapInUse
        let store = Store(projection: projection)
        for bytes in wire { await store.upsert(try JSONValue.parse(bytes)) }
        ProcessMemory.trim()
        let after = ProcessMemory.rss, heapAfter = ProcessMemory.heapInUse
        let count = await store.count  // keeps the store alive until after the reading
        guard count == wire.count else { throw BenchError.wrongResult("store holds \(count) pods, expected \(wire.count)") }
        let heap = heapBefore.flatMap { b in heapAfter.map { Double($0 - b) } } ?? .nan
        return (Double(after - before) / Double(count), heap / Double(count))
    }
}
