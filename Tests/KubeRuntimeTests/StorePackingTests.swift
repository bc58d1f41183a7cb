import Foundation
import Synchronization
import Testing
import EmbeddedCluster
import GantryTestSupport
import KubeClient
import KubeCore
@testable import KubeRuntime

/// Settled objects kept packed (`Store.Packing`): read back exactly as projected, found by every index, skipped
/// unread by `list(includingSettled: false)`, and a list's items prepared page by page through the real client.
@Suite struct StorePackingTests {
    static func pod(_ name: String, phase: String, owner: String = "job-uid", labels: [String: String] = ["app": "x"]) -> JSONValue {
        var pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "spec": ["nodeName": "n1"], "status": ["phase": .string(phase)]]
        pod.name = name
        pod.namespace = "default"
        pod.labels = labels
        pod[path: "metadata", "ownerReferences"] = [["apiVersion": "gantry.dev/v1alpha1", "kind": "TrainingJob", "name": "j",
                                                      "uid": .string(owner), "controller": true]]
        pod[path: "metadata", "managedFields"] = [["manager": "kubelet"]]
        return pod
    }

    static let finished: Store.Packing = { $0[path: "status", "phase"]?.stringValue == "Succeeded" }

    @Test func packedObjectsReadBackAsProjectedAndAreFoundByEveryIndex() async {
        let store = Store(packing: Self.finished)
        await store.replace(with: [Self.pod("done", phase: "Succeeded"), Self.pod("running", phase: "Running", labels: ["app": "y"])])
        let done = ObjectKey(namespace: "default", name: "done")
        let expected = Store.dropManagedFields(Self.pod("done", phase: "Succeeded"))
        #expect(await store.get(done) == expected, "a packed object parses back to the projected object, field for field")
        #expect(await store.contains(done))
        #expect(await store.owned(by: "job-uid").count == 2)
        #expect(await store.list().count == 2)
        #expect(await store.list(namespace: "default", includingSettled: false).map(\.name) == ["running"],
                "settled objects are left out unread")
        #expect(await store.list(selector: LabelSelector([.equals("app", "x")])).map(\.name) == ["done"],
                "a packed object's labels are matched from its bytes")
        #expect(await store.list(selector: LabelSelector([.equals("app", "y")])).map(\.name) == ["running"])

        // A settled object updated to an unsettled state is kept as a tree again, and the reverse.
        await store.upsert(Self.pod("done", phase: "Running"))
        #expect(await store.list(includingSettled: false).count == 2)
        let old = await store.upsert(Self.pod("running", phase: "Succeeded"))
        #expect(old?[path: "status", "phase"]?.stringValue == "Running")
        #expect(await store.list(includingSettled: false).map(\.name) == ["done"])

        // Removing a packed object returns it and drops it from the owner index.
        let removed = await store.remove(ObjectKey(namespace: "default", name: "running"))
        #expect(removed?[path: "status", "phase"]?.stringValue == "Succeeded")
        #expect(await store.owned(by: "job-uid").map(\.name) == ["done"])
    }

    @Test func everyReaderMustAgreeBeforeAnObjectIsPacked() async throws {
        var requests = InformerRequests()
        let key = SharedInformers.Key(resource: "pods", namespace: nil, labelSelector: nil)
        let source = ScriptedSource(.init(lists: [], watches: []))
        requests.request(key, source: source, packing: Self.finished)
        requests.request(key, source: source, packing: { $0.name != "keep-tree" })
        requests.request(key, source: source)  // no opinion
        guard let store = requests.build().informers[key]?.store else { Issue.record("no informer built"); return }
        await store.replace(with: [Self.pod("a", phase: "Succeeded"), Self.pod("keep-tree", phase: "Succeeded")])
        #expect(await store.list(includingSettled: false).map(\.name) == ["keep-tree"], "one reader's veto keeps it a tree")
    }

    /// Through the API server: pages of two, each item prepared as its page arrives; the reflector's store keeps
    /// them packed and its list events carry the projected objects.
    @Test func aListIsPreparedPageByPageThroughTheClient() async throws {
        try await withCluster(TestCluster(DevClusterOptions(nodes: "off"))) { cluster async throws in
            let client = try KubeClient(config: KubeConfig.load(path: cluster.kubeconfig))
            for i in 0..<5 {
                var cm: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "data": ["big": .string(String(repeating: "x", count: 1000))]]
                cm.name = "cm-\(i)"
                cm.labels = ["packed": "yes"]
                _ = try await client.create(.configMaps, cm, namespace: "default")
            }
            let seen = Mutex<[String]>([])
            let (names, rv) = try await client.listAll(.configMaps, namespace: "default", options: ListOptions(labelSelector: "packed=yes"),
                                                       pageSize: 2, droppingManagedFields: true) { item -> String in
                seen.withLock { $0.append(item.name ?? "") }
                return item.name ?? ""
            }
            #expect(names == (0..<5).map { "cm-\($0)" })
            #expect(seen.withLock { $0 } == names)
            #expect(!rv.isEmpty)

            // Masked while parsed (the informers' path): the same items as parsing whole and projecting.
            let mask = FieldMask.object(keys: ["metadata": .keys("name", "labels"), "kind": .all])
            let (masked, _) = try await client.listAll(.configMaps, namespace: "default", options: ListOptions(labelSelector: "packed=yes"),
                                                       pageSize: 2, droppingManagedFields: true, itemMask: mask) { $0 }
            let (whole, _) = try await client.listAll(.configMaps, namespace: "default", options: ListOptions(labelSelector: "packed=yes"),
                                                      pageSize: 2, droppingManagedFields: true) { mask.project($0) }
            #expect(masked == whole)
            #expect(masked.allSatisfy { $0["apiVersion"] == nil && $0["kind"] == "ConfigMap" && $0["data"] == nil })

            let store = Store(keeping: .keys("metadata"), packing: { _ in true })
            let events = Mutex<[JSONValue]>([])
            let reflector = Reflector(source: ClientListerWatcher(client: client, type: .configMaps, namespace: "default", labelSelector: "packed=yes"),
                                      store: store) { event in
                if case .upserted(let object, _) = event { events.withLock { $0.append(object) } }
            }
            let next = await reflector.step(.listing)
            guard case .watching = next else { Issue.record("the list failed: \(next)"); return }
            #expect(await store.count == 5)
            #expect(await store.list(includingSettled: false).isEmpty, "every ConfigMap is kept packed")
            let listed = events.withLock { $0 }
            #expect(listed.count == 5)
            #expect(listed.allSatisfy { $0["data"] == nil && $0[path: "metadata", "managedFields"] == nil && $0.labels["packed"] == "yes" },
                    "list events carry the object as the store keeps it")
        }
    }

    /// Watch events are projected while parsed, as the list's items are: the store keeps each object projected
    /// once (a mask whose element filter reads a member it drops would lose the elements if projected twice)
    /// and the handlers see what the store keeps.
    @Test func watchEventsArePreparedAsTheListsItemsAre() async throws {
        try await withCluster(TestCluster(DevClusterOptions(nodes: "off"))) { cluster async throws in
            let client = try KubeClient(config: KubeConfig.load(path: cluster.kubeconfig))
            let mask = FieldMask.object(keys: ["metadata": .keys("name", "namespace", "resourceVersion", "labels"),
                                               "spec": .object(keys: ["ports": .elements(.keys("port"), filterKey: "name", values: ["http"])])])
            #expect(Reflector.watchMask(mask) != nil, "the mask keeps what the watch reads")
            #expect(Reflector.watchMask(.keys("spec")) == nil, "without the resource version the events are parsed whole")
            #expect(Reflector.watchMask(.object(keys: ["metadata": .keys("name", "resourceVersion")])) != nil, "a cluster-scoped kind's mask (nodes)")
            let store = Store(keeping: mask)
            let events = Mutex<[JSONValue]>([])
            let reflector = Reflector(source: ClientListerWatcher(client: client, type: .services, namespace: "default", labelSelector: "watched=yes"),
                                      store: store) { event in
                if case .upserted(let object, _) = event { events.withLock { $0.append(object) } }
            }
            let task = Task { await reflector.run() }
            defer { task.cancel() }
            #expect(try await eventually { await store.hasSynced })

            var service: JSONValue = ["apiVersion": "v1", "kind": "Service",
                                      "spec": ["ports": [["name": "http", "port": 80], ["name": "metrics", "port": 9090]]]]
            service.name = "svc"
            service.labels = ["watched": "yes"]
            let created = try await client.create(.services, service, namespace: "default")
            #expect(try await eventually { await store.get(ObjectKey("default/svc")) != nil })
            let kept = await store.get(ObjectKey("default/svc"))
            #expect(kept == mask.project(created))
            #expect(kept?[path: "spec", "ports"] == [["port": 80]], "projected once: \(String(describing: kept))")
            #expect(kept?[path: "spec", "clusterIP"] == nil && kept?[path: "metadata", "uid"] == nil)
            #expect(events.withLock { $0.last } == kept, "the handler sees the object as the store keeps it")

            var labelled = created
            labelled.labels = ["watched": "yes", "more": "1"]
            let updated = try await client.update(.services, labelled)
            #expect(try await eventually { await store.get(ObjectKey("default/svc"))?.labels["more"] == "1" })
            #expect(await store.get(ObjectKey("default/svc")) == mask.project(updated))

            try await client.delete(.services, namespace: "default", name: "svc")
            #expect(try await eventually { await store.get(ObjectKey("default/svc")) == nil })
        }
    }
}
