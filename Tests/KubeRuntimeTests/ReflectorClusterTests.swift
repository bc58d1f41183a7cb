import Foundation
import Synchronization
import Testing
import EmbeddedCluster
import GantryTestSupport
import KubeClient
import KubeCore
@testable import KubeRuntime

/// Counts full lists, so a test can tell a resume from a re-list, and records the bookmarks the reflector pulled
/// and the versions it watched from.
final class CountingSource: ListerWatcher {
    let inner: ClientListerWatcher
    private let lists = Mutex(0)
    private let bookmarks = Mutex<[String]>([])
    private let watchedFrom = Mutex<[String]>([])
    init(_ inner: ClientListerWatcher) { self.inner = inner }
    var description: String { inner.description }
    var listCount: Int { lists.withLock { $0 } }
    var bookmarksSeen: [String] { bookmarks.withLock { $0 } }
    var watchVersions: [String] { watchedFrom.withLock { $0 } }
    func listAll() async throws -> (items: [JSONValue], resourceVersion: String) {
        lists.withLock { $0 += 1 }
        return try await inner.listAll()
    }
    func watch(resourceVersion: String, timeoutSeconds: Int) -> WatchEvents {
        watchedFrom.withLock { $0.append(resourceVersion) }
        // Recorded as the reflector pulls each event: it handles one before it pulls the next.
        return Self.tap(inner.watch(resourceVersion: resourceVersion, timeoutSeconds: timeoutSeconds)) { event in
            if case .bookmark(let rv) = event { self.bookmarks.withLock { $0.append(rv) } }
        }
    }

    static func tap<S: AsyncSequence<WatchEvent, any Error> & Sendable>(_ events: S, _ see: @escaping @Sendable (WatchEvent) -> Void) -> WatchEvents {
        events.map { event in
            see(event)
            return event
        }
    }
}

/// The reflector against the embedded API server over libcurl: dropped streams resume from the last version
/// without a re-list; a compacted history answers 410 and forces one, and the re-list surfaces missed deletes.
@Suite(.serialized) struct ReflectorClusterTests {
    @Test func resumeAfterADroppedWatchAndRelistAfterGone() async throws {
        try await withCluster(TestCluster(DevClusterOptions(nodes: "off"))) { cluster async throws in
            let client = try KubeClient(config: KubeConfig.load(path: cluster.kubeconfig))
            func configMap(_ name: String, watched: Bool = true) -> JSONValue {
                var cm: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "data": ["k": "v"]]
                cm.name = name
                if watched { cm.labels = ["watched": "yes"] }
                return cm
            }
            for name in ["a", "b", "c"] { _ = try await client.create(.configMaps, configMap(name), namespace: "default") }
            let source = CountingSource(ClientListerWatcher(client: client, type: .configMaps, namespace: "default", labelSelector: "watched=yes"))
            let store = Store()
            let deleted = Mutex<[String]>([])
            var options = Reflector.Options()
            options.initialBackoff = .milliseconds(50)
            let reflector = Reflector(source: source, store: store, options: options) { event in
                if case .deleted(let o) = event { deleted.withLock { $0.append(o.name ?? "") } }
            }
            let task = Task { await reflector.run() }
            defer { task.cancel() }
            #expect(try await eventually(timeout: .seconds(10)) { await store.count >= 3 })

            // A dropped stream: the reflector watches again from its last version, no re-list.
            await cluster.cluster.dropWatches()
            _ = try await client.create(.configMaps, configMap("d"), namespace: "default")
            #expect(try await eventually(timeout: .seconds(10)) { await store.get(ObjectKey("default/d")) != nil })
            #expect(source.listCount == 1)

            // A delete seen live, then writes outside the selector move the revision past the reflector's last
            // version; with that history compacted, resuming answers 410 and the reflector lists again.
            try await client.delete(.configMaps, namespace: "default", name: "b")
            #expect(try await eventually(timeout: .seconds(10)) { await store.get(ObjectKey("default/b")) == nil })
            for name in ["x1", "x2", "x3"] { _ = try await client.create(.configMaps, configMap(name, watched: false), namespace: "default") }
            await cluster.cluster.compactHistory()
            await cluster.cluster.dropWatches()
            _ = try await client.create(.configMaps, configMap("e"), namespace: "default")
            #expect(try await eventually(timeout: .seconds(10)) { await store.get(ObjectKey("default/e")) != nil })
            #expect(deleted.withLock { $0 }.contains("b"))
            #expect(source.listCount == 2, "the resume from a compacted version must answer 410 and force one re-list")
            #expect(await store.get(ObjectKey("default/x1")) == nil)  // the selector holds across the re-list
        }
    }

    /// A BOOKMARK moves the reflector's version past changes it does not watch, so that after the history is
    /// compacted a dropped watch still resumes (from the bookmark) instead of answering 410 and re-listing.
    @Test func bookmarksLetAResumeSurviveCompaction() async throws {
        try await withCluster(TestCluster(DevClusterOptions(nodes: "off"))) { cluster async throws in
            let client = try KubeClient(config: KubeConfig.load(path: cluster.kubeconfig))
            func configMap(_ name: String, watched: Bool) -> JSONValue {
                var cm: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap"]
                cm.name = name
                if watched { cm.labels = ["watched": "yes"] }
                return cm
            }
            _ = try await client.create(.configMaps, configMap("a", watched: true), namespace: "default")
            let source = CountingSource(ClientListerWatcher(client: client, type: .configMaps, namespace: "default", labelSelector: "watched=yes"))
            let store = Store()
            var options = Reflector.Options()
            options.initialBackoff = .milliseconds(50)
            let reflector = Reflector(source: source, store: store, options: options) { _ in }
            let task = Task { await reflector.run() }
            defer { task.cancel() }
            #expect(try await eventually(timeout: .seconds(10)) { source.watchVersions.count == 1 })
            let listedAt = source.watchVersions[0]

            // Writes the reflector's selector does not match advance the revision without an event for it.
            for i in 0..<3 { _ = try await client.create(.configMaps, configMap("other-\(i)", watched: false), namespace: "default") }
            let revision = String(await cluster.cluster.store.currentRevision)
            await cluster.cluster.sendBookmarks()
            #expect(try await eventually(timeout: .seconds(10)) { source.bookmarksSeen.last == revision })

            await cluster.cluster.compactHistory()
            // The compaction did remove what the reflector would need without the bookmark: a watch from the
            // listed version now ends with 410 Gone (so the resume below survives because of the bookmark).
            // Asked with a client of its own: after abandoning a watch that ended with an in-stream 410, the next
            // request of the same client sometimes got no answer until its 30 s timeout (seen in 2 of 4 runs
            // under load; reported with issue #16), which would make this test about that instead.
            let probe = try KubeClient(config: KubeConfig.load(path: cluster.kubeconfig))
            var fromListed: [WatchEvent] = []
            for try await event in probe.watch(.configMaps, namespace: "default",
                                                options: ListOptions(labelSelector: "watched=yes", resourceVersion: listedAt, timeoutSeconds: 10)) {
                fromListed.append(event)
                if case .error = event { break }
            }
            guard case .error(let gone)? = fromListed.last else { Issue.record("a watch from the listed version \(listedAt) was not refused: \(fromListed)"); return }
            #expect(gone.isGone, "\(gone)")
            await cluster.cluster.dropWatches()
            _ = try await client.create(.configMaps, configMap("b", watched: true), namespace: "default")
            #expect(try await eventually(timeout: .seconds(10)) { await store.get(ObjectKey("default/b")) != nil })
            #expect(source.watchVersions == [listedAt, revision], "the second watch starts from the bookmark's version")
            #expect(source.listCount == 1, "no 410, so no re-list")
        }
    }
}
