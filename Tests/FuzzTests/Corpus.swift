import Foundation
import FuzzEntries
import GantryControllers  // SeededRandom: SplitMix64, fixed seed

/// The committed seed corpus of a target (Fuzz/corpus/<name>). A file named `valid-*` must parse and one named
/// `invalid-*` must be refused with an error; any other (a regression seed a fuzzer found) must only not crash.
struct Corpus {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus")

    struct Seed {
        var name: String
        var bytes: [UInt8]
    }

    static func seeds(_ entry: FuzzEntry) throws -> [Seed] {
        let folder = root.appendingPathComponent(entry.name)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        return try names.map { Seed(name: $0, bytes: [UInt8](try Data(contentsOf: folder.appendingPathComponent($0)))) }
    }
}

/// The mutations libFuzzer starts with, in miniature: flip a bit, overwrite, insert or delete a byte, splice in
/// a run of a structural byte, duplicate a slice.
enum Mutation {
    static let structural: [UInt8] = Array("[]{}()\":,-|>&*!'\\\n \t#?%$.=0".utf8) + [0x00, 0xFF, 0xC3]

    static func apply(to input: [UInt8], using rng: inout SeededRandom) -> [UInt8] {
        var bytes = input
        let steps = Int.random(in: 1...4, using: &rng)
        for _ in 0..<steps {
            let at = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0 where !bytes.isEmpty: bytes[at] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            case 1 where !bytes.isEmpty: bytes[at] = structural.randomElement(using: &rng) ?? 0
            case 2: bytes.insert(structural.randomElement(using: &rng) ?? 0, at: at)
            case 3 where !bytes.isEmpty: bytes.remove(at: at)
            case 4:
                let run = [UInt8](repeating: structural.randomElement(using: &rng) ?? 0, count: Int.random(in: 1...64, using: &rng))
                bytes.insert(contentsOf: run, at: at)
            case 5 where !bytes.isEmpty:
                let end = min(bytes.count, at + Int.random(in: 1...32, using: &rng))
                bytes.insert(contentsOf: bytes[at..<end], at: Int.random(in: 0...bytes.count, using: &rng))
            default: bytes.append(0)
            }
        }
        return bytes
    }
}
