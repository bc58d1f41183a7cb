import Foundation
import GantryTestSupport
import KubeCore
import Testing
@testable import EmbeddedCluster

/// Storage object in-use protection: the `kubernetes.io/pvc-protection` and `kubernetes.io/pv-protection`
/// finalizers every claim and volume gets at create, and their release once no pod uses the claim / the volume is
/// not bound; through curl (libcurl) and kubectl.
struct StorageProtectionTests {
    static let pvcs = "/api/v1/namespaces/default/persistentvolumeclaims"

    @Test func aClaimAPodMountsStaysTerminatingUntilThePodIsGone() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(nodes: "1x{cpu: 4}"))) { t async throws in
            var r = await t.kubectl(args: ["apply", "-f", "-"], stdin: StorageTests.claim("data") + "---\n" + StorageTests.pod("user", claim: "data"))
            #expect(r.ok, "\(r.stderr)")
            #expect(try await eventually { try await t.json(Self.pvcs + "/data")[path: "status", "phase"] == "Bound" })
            let claim = try await t.json(Self.pvcs + "/data")
            #expect(claim.finalizers == ["kubernetes.io/pvc-protection"], "\(claim)")
            let volumeName = claim[path: "spec", "volumeName"]?.stringValue ?? ""
            let volume = try await t.json("/api/v1/persistentvolumes/" + volumeName)
            #expect(volume.finalizers == ["kubernetes.io/pv-protection"], "\(volume)")
            #expect(try await eventually {
                try await t.json("/api/v1/namespaces/default/pods/user")[path: "status", "phase"] == "Running"
            })

            r = await t.kubectl("delete", "pvc", "data", "--wait=false")
            #expect(r.ok, "\(r.stderr)")
            let deleting = try await t.json(Self.pvcs + "/data")
            #expect(deleting.deletionTimestamp != nil && deleting.finalizers == ["kubernetes.io/pvc-protection"], "the running pod keeps it: \(deleting)")
            r = await t.kubectl("get", "pvc", "data")
            #expect(r.stdout.contains("Terminating"), "\(r.stdout)")
            // A volume deleted while bound stays too.
            r = await t.kubectl("delete", "pv", volumeName, "--wait=false")
            let deletedVolume = try await t.json("/api/v1/persistentvolumes/" + volumeName)
            #expect(r.ok && deletedVolume.deletionTimestamp != nil, "\(r.stderr)")
            r = await t.kubectl("get", "pv", volumeName)
            #expect(r.stdout.contains("Terminating"), "\(r.stdout)")

            r = await t.kubectl("delete", "pod", "user", "--wait=true", "--timeout=60s")
            #expect(r.ok, "\(r.stderr)")
            let gone = try await eventually {
                let (claimCode, _) = await t.curl("GET", Self.pvcs + "/data")
                let (volumeCode, _) = await t.curl("GET", "/api/v1/persistentvolumes/" + volumeName)
                return claimCode == 404 && volumeCode == 404
            }
            #expect(gone, "the claim goes with its last pod, then its volume once released")
        }
    }

    /// A claim no scheduled pod names is deleted at once; so is one only a pending (unscheduled) pod names, as
    /// the controller counts only pods the kubelet may have started. With `--nodes off` too (the controllers
    /// run with garbage collection).
    @Test func anUnusedClaimGoesAtOnce() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var r = await t.kubectl(args: ["apply", "-f", "-"], stdin: StorageTests.claim("idle") + "---\n" + StorageTests.pod("pending", claim: "idle"))
            #expect(r.ok, "\(r.stderr)")
            #expect(try await t.json(Self.pvcs + "/idle").finalizers == ["kubernetes.io/pvc-protection"])
            r = await t.kubectl("delete", "pvc", "idle", "--timeout=30s")
            #expect(r.ok, "\(r.stderr)")
            let (code, body) = await t.curl("GET", Self.pvcs + "/idle")
            #expect(code == 404, "\(body)")
            // Through libcurl as through kubectl: the admission plugin's finalizer is there in the create's answer.
            let (created, text) = await t.curl("POST", Self.pvcs, body: #"{"metadata":{"name":"pinned"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}"#)
            #expect(created == 201 && parsed(text).finalizers == ["kubernetes.io/pvc-protection"], "\(text)")
        }
    }
}
