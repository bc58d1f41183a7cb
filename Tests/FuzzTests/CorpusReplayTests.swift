import FuzzEntries
import GantryControllers  // SeededRandom: SplitMix64, fixed seed
import Testing

/// Every committed seed, every prefix of it, and seeded mutations, through the fuzz targets' own entry points:
/// what `make fuzz` explores at length, replayed in seconds on every `make test`.
@Suite struct CorpusReplayTests {
    static let mutationsPerSeed = 200

    @Test(arguments: FuzzEntry.all.map(\.name))
    func seedsParseOrFailAsNamed(_ name: String) throws {
        let entry = try #require(FuzzEntry.named(name))
        let seeds = try Corpus.seeds(entry)
        #expect(seeds.contains { $0.name.hasPrefix("valid-") }, "Fuzz/corpus/\(name) needs realistic valid- seeds")
        for seed in seeds {
            let result = entry(seed.bytes)
            if seed.name.hasPrefix("valid-") {
                #expect(result == .value, "\(name)/\(seed.name)")
            } else if seed.name.hasPrefix("invalid-") {
                #expect(result != .value, "\(name)/\(seed.name) should be refused")
            }
        }
    }

    @Test(arguments: FuzzEntry.all.map(\.name))
    func everyTruncationAnswers(_ name: String) throws {
        let entry = try #require(FuzzEntry.named(name))
        for seed in try Corpus.seeds(entry) where seed.name.hasPrefix("valid-") && seed.bytes.count <= 4096 {
            for end in 0...seed.bytes.count { _ = entry(Array(seed.bytes[..<end])) }
        }
    }

    @Test(arguments: FuzzEntry.all.map(\.name))
    func seededMutationsAnswer(_ name: String) throws {
        let entry = try #require(FuzzEntry.named(name))
        var rng = SeededRandom(seed: 0x6A6E_7472_7946_757A)  // fixed: a failure replays exactly
        var refused = 0
        var total = 0
        // Large regression seeds are replayed as they are (above); mutating them would only cost time.
        for seed in try Corpus.seeds(entry) where seed.bytes.count <= 4096 {
            for _ in 0..<Self.mutationsPerSeed {
                if entry(Mutation.apply(to: seed.bytes, using: &rng)) != .value { refused += 1 }
                total += 1
            }
        }
        // Not a tautology: mutations of structured text must often be refused, or the entry is not parsing.
        #expect(refused > 0 && refused <= total)
    }
}
