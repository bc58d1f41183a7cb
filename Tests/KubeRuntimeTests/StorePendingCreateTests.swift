import Testing
import KubeCore
@testable import KubeRuntime

/// `Store`'s pending creates: a child this process created counts as existing until the watch brings it in, and
/// no longer than that (ChildApplier relies on it not to create it twice).
@Suite struct StorePendingCreateTests {
    static let key = ObjectKey(namespace: "ml", name: "job-0")
    static let pod: JSONValue = ["metadata": ["name": "job-0", "namespace": "ml", "resourceVersion": "7"]]

    @Test func aCreateIsPendingUntilItsWatchEventArrives() async {
        let store = Store()
        await store.replace(with: [])
        await store.expectCreated(Self.key)
        #expect(await store.isPendingCreate(Self.key))
        #expect(await store.isPendingCreate(ObjectKey(namespace: "ml", name: "job-1")) == false)
        await store.upsert(Self.pod)
        #expect(await store.isPendingCreate(Self.key) == false, "the watch brought it in")
        // Deleted afterwards: missing and not pending, so the next reconcile creates it again.
        await store.remove(Self.key)
        #expect(await store.isPendingCreate(Self.key) == false)
    }

    @Test func aDeleteEventOrAReListEndsThePendingCreate() async {
        let store = Store()
        await store.replace(with: [])
        await store.expectCreated(Self.key)
        await store.remove(Self.key)
        #expect(await store.isPendingCreate(Self.key) == false, "created and deleted before the add was seen")
        await store.expectCreated(Self.key)
        await store.replace(with: [])
        #expect(await store.isPendingCreate(Self.key) == false, "a fresh list is the truth")
    }

    @Test func anObjectAlreadyCachedIsNeverPending() async {
        let store = Store()
        await store.replace(with: [Self.pod])
        await store.expectCreated(Self.key)
        await store.remove(Self.key)
        #expect(await store.isPendingCreate(Self.key) == false)
    }
}
