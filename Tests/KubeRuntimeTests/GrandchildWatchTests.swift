import Testing
import KubeCore
@testable import KubeRuntime

/// `WatchSpec.owned(_:ownerKind:ownerGroup:through:parentKind:)`: a pod made by one of the owner's DaemonSets
/// enqueues the owner, found through the DaemonSet store; anything else as `owned` alone.
@Suite struct GrandchildWatchTests {
    static func object(_ name: String, owner: OwnerReference?) -> JSONValue {
        var o: JSONValue = ["metadata": ["name": .string(name), "namespace": "ns", "uid": .string("uid-" + name)]]
        if let owner { o.ownerReferences = [owner] }
        return o
    }

    @Test func aPodOfAnOwnedDaemonSetEnqueuesTheOwnerAndOthersDoNot() async throws {
        let service = OwnerReference(apiVersion: "gantry.dev/v1alpha1", kind: "InferenceService", name: "api", uid: "uid-api")
        let daemonSets = Store()
        _ = await daemonSets.upsert(Self.object("api-blue-1", owner: service))
        _ = await daemonSets.upsert(Self.object("foreign", owner: OwnerReference(apiVersion: "apps/v1", kind: "Deployment", name: "d", uid: "uid-d")))
        let watch = WatchSpec.owned(Informer(source: FailingSource(), store: Store()), ownerKind: "InferenceService", ownerGroup: "gantry.dev",
                                    through: daemonSets, parentKind: "DaemonSet")
        func keys(_ pod: JSONValue) async -> [ObjectKey] { await watch.keys(.upserted(pod, old: nil)) }
        func pod(of ds: String, uid: String? = nil) -> JSONValue {
            Self.object("\(ds)-x", owner: OwnerReference(apiVersion: "apps/v1", kind: "DaemonSet", name: ds, uid: uid ?? "uid-\(ds)"))
        }

        #expect(await keys(pod(of: "api-blue-1")) == [ObjectKey("ns/api")])
        #expect(await keys(Self.object("api-blue-1-0", owner: service)) == [ObjectKey("ns/api")])  // its own pod, as `owned`
        #expect(await keys(pod(of: "foreign")).isEmpty)                                             // a DaemonSet of someone else
        #expect(await keys(pod(of: "api-blue-1", uid: "uid-older")).isEmpty)                        // a same-named DaemonSet before it
        #expect(await keys(pod(of: "gone")).isEmpty)                                                // a DaemonSet not (or no longer) cached
    }
}
