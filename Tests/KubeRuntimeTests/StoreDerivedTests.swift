import Testing
import Synchronization
import KubeCore
@testable import KubeRuntime

/// `Store.derived`: one computation per question between two changes of the store, shared by every reader.
@Suite struct StoreDerivedTests {
    static func node(_ name: String, gpus: Int, rv: String = "1") -> JSONValue {
        ["metadata": ["name": .string(name), "resourceVersion": .string(rv)], "status": ["allocatable": ["nvidia.com/gpu": .string("\(gpus)")]]]
    }

    /// How often a computation walked the store's objects.
    final class Walks: Sendable {
        private let count = Mutex(0)
        func add() { count.withLock { $0 += 1 } }
        var value: Int { count.withLock { $0 } }
    }

    /// Total GPUs, counting the walks.
    static func gpus(_ store: Store, key: String = "gpus", walks: Walks) async -> Int {
        await store.derived(key) { nodes in
            walks.add()
            return nodes.compactMap { Int($0[path: "status", "allocatable", "nvidia.com/gpu"]?.stringValue ?? "") }.reduce(0, +)
        }
    }

    @Test func aQuestionIsAnsweredOncePerChangeAndTheAnswerFollowsEveryChange() async {
        let store = Store()
        let walks = Walks()
        await store.replace(with: [Self.node("a", gpus: 8), Self.node("b", gpus: 8)])
        #expect(await Self.gpus(store, walks: walks) == 16)
        #expect(await Self.gpus(store, walks: walks) == 16)
        #expect(walks.value == 1, "asked twice without a change: walked once")

        await store.upsert(Self.node("c", gpus: 4))
        #expect(await Self.gpus(store, walks: walks) == 20)
        await store.upsert(Self.node("a", gpus: 2, rv: "2"))
        #expect(await Self.gpus(store, walks: walks) == 14)
        await store.remove(ObjectKey(namespace: nil, name: "b"))
        #expect(await Self.gpus(store, walks: walks) == 6)
        await store.replace(with: [])
        #expect(await Self.gpus(store, walks: walks) == 0)
        #expect(walks.value == 5)
    }

    @Test func distinctQuestionsKeepDistinctAnswers() async {
        let store = Store()
        let walks = Walks()
        await store.replace(with: [Self.node("a", gpus: 8)])
        #expect(await Self.gpus(store, key: "x", walks: walks) == 8)
        #expect(await store.derived("y") { $0.count } == 1, "another key and type: computed, not the other answer")
        #expect(await Self.gpus(store, key: "x", walks: walks) == 8)
        #expect(walks.value == 1)
    }
}
