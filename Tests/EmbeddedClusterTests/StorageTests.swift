import Foundation
import GantryTestSupport
import KubeCore
import Testing
@testable import EmbeddedCluster

/// PersistentVolumeClaims that bind (default class, simulated provisioner, WaitForFirstConsumer and Immediate,
/// reclaim, expansion), the claim update rules, and the scheduler waiting on volumes; through kubectl and curl.
struct StorageTests {
    static let pvcs = "/api/v1/namespaces/default/persistentvolumeclaims"

    static func claim(_ name: String, class sc: String? = nil, size: String = "1Gi") -> String {
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: \(name)}\nspec:\n  accessModes: [ReadWriteOnce]\n"
            + (sc.map { "  storageClassName: \($0)\n" } ?? "") + "  resources: {requests: {storage: \(size)}}\n"
    }

    static func pod(_ name: String, claim: String) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: \(name)}
        spec:
          containers: [{name: c, image: busybox}]
          volumes: [{name: data, persistentVolumeClaim: {claimName: \(claim)}}]
        """
    }

    @Test func aWorkspaceClaimBindsWhenItsPodIsScheduled() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(nodes: "2x{cpu: 4}"))) { t async throws in
            var r = await t.kubectl("get", "storageclass")
            #expect(r.stdout.contains("standard (default)") && r.stdout.contains(VolumeBinder.provisioner)
                    && r.stdout.contains("WaitForFirstConsumer") && r.stdout.contains("ALLOWVOLUMEEXPANSION"), "\(r.stdout)")
            r = await t.kubectl("apply", "-f", "-", stdin: Self.claim("data"))
            #expect(r.ok, "\(r.stderr)")
            // WaitForFirstConsumer: no volume before a pod uses the claim.
            let pending = try await t.json(Self.pvcs + "/data")
            #expect(pending[path: "spec", "storageClassName"] == "standard" && pending[path: "status", "phase"] == "Pending", "\(pending)")
            r = await t.kubectl("apply", "-f", "-", stdin: Self.pod("user", claim: "data"))
            #expect(r.ok, "\(r.stderr)")
            let bound = try await eventually { try await t.json(Self.pvcs + "/data")[path: "status", "phase"] == "Bound" }
            #expect(bound)
            let claim = try await t.json(Self.pvcs + "/data")
            let volumeName = "pvc-" + (claim.uid ?? "")
            #expect(claim[path: "spec", "volumeName"]?.stringValue == volumeName)
            #expect(claim[path: "status", "capacity", "storage"] == "1Gi" && claim[path: "status", "accessModes"] == ["ReadWriteOnce"])
            let scheduled = try await eventually {
                !(try await t.json("/api/v1/namespaces/default/pods/user")[path: "spec", "nodeName"]?.stringValue ?? "").isEmpty
            }
            #expect(scheduled)
            let node = try await t.json("/api/v1/namespaces/default/pods/user")[path: "spec", "nodeName"]?.stringValue
            let volume = try await t.json("/api/v1/persistentvolumes/" + volumeName)
            #expect(volume[path: "spec", "claimRef", "uid"]?.stringValue == claim.uid && volume[path: "status", "phase"] == "Bound")
            #expect(claim.annotations[VolumeBinder.selectedNode] == node, "the pod runs where its volume was provisioned")
            r = await t.kubectl("get", "pvc", "data")
            #expect(r.stdout.contains("Bound") && r.stdout.contains(volumeName) && r.stdout.contains("1Gi") && r.stdout.contains("RWO")
                    && r.stdout.contains("standard"), "\(r.stdout)")
            r = await t.kubectl("get", "pv")
            #expect(r.stdout.contains("default/data") && r.stdout.contains("Delete"), "\(r.stdout)")

            // Only storage requests may change, grow only in an expandable class, and never below the capacity:
            // with the installed kubectl, then 1.27 and 1.33, each growing the claim by one more GiB.
            let kubectls = [TestCluster.kubectlPath] + (try Prerequisite.kubectl127And133())
            for (i, kubectl) in kubectls.enumerated() {
                let size = "\(i + 2)Gi"
                r = await t.kubectl(release: kubectl, "patch", "pvc", "data", "-p", #"{"spec":{"accessModes":["ReadWriteMany"]}}"#)
                #expect(!r.ok && r.stderr.contains(#"The PersistentVolumeClaim "data" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"#),
                        "\(kubectl): \(r.stderr)")
                r = await t.kubectl(release: kubectl, "patch", "pvc", "data", "-p", #"{"spec":{"resources":{"requests":{"storage":"512Mi"}}}}"#)
                #expect(!r.ok && r.stderr.contains("spec.resources.requests.storage: Forbidden: field can not be less than status.capacity"), "\(kubectl): \(r.stderr)")
                r = await t.kubectl(release: kubectl, "patch", "pvc", "data", "-p", #"{"spec":{"resources":{"requests":{"storage":"\#(size)"}}}}"#)
                #expect(r.ok, "\(kubectl): \(r.stderr)")
                let grown = try await eventually { try await t.json(Self.pvcs + "/data")[path: "status", "capacity", "storage"] == .string(size) }
                #expect(grown, "\(kubectl): grown to \(size)")
                r = await t.kubectl(release: kubectl, "get", "pvc", "data")
                #expect(r.stdout.contains("Bound") && r.stdout.contains(size), "\(kubectl): \(r.stdout)")
            }

            // Reclaim policy Delete: the volume goes with its claim.
            r = await t.kubectl("delete", "pod", "user", "--wait=false")
            r = await t.kubectl("delete", "pvc", "data")
            #expect(r.ok, "\(r.stderr)")
            let reclaimed = try await eventually { await t.curl("GET", "/api/v1/persistentvolumes/" + volumeName).0 == 404 }
            #expect(reclaimed)
        }
    }

    @Test func immediateClassesBindAtOnceAndUnboundClaimsKeepPodsPending() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(nodes: "1x{cpu: 4}"))) { t async throws in
            var r = await t.kubectl("apply", "-f", "-", stdin: """
                apiVersion: storage.k8s.io/v1
                kind: StorageClass
                metadata: {name: fast}
                provisioner: \(VolumeBinder.provisioner)
                ---
                apiVersion: storage.k8s.io/v1
                kind: StorageClass
                metadata: {name: manual}
                provisioner: kubernetes.io/no-provisioner
                """)
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("apply", "-f", "-", stdin: Self.claim("quick", class: "fast") + "---\n" + Self.claim("stuck", class: "manual"))
            #expect(r.ok, "\(r.stderr)")
            let bound = try await eventually { try await t.json(Self.pvcs + "/quick")[path: "status", "phase"] == "Bound" }
            #expect(bound, "Immediate binds without a pod")
            r = await t.kubectl("patch", "pvc", "quick", "-p", #"{"spec":{"resources":{"requests":{"storage":"5Gi"}}}}"#)
            #expect(!r.ok && r.stderr.contains("only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize"),
                    "\(r.stderr)")
            r = await t.kubectl("patch", "storageclass", "fast", "-p", #"{"reclaimPolicy":"Retain"}"#)
            #expect(!r.ok && r.stderr.contains("reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden."), "\(r.stderr)")

            @Sendable func unschedulableMessage(_ pod: String) async throws -> String {
                let p = try await t.json("/api/v1/namespaces/default/pods/" + pod)
                return p[path: "status", "conditions"]?.arrayValue?.first { $0["type"] == "PodScheduled" }?["message"]?.stringValue ?? ""
            }
            r = await t.kubectl("apply", "-f", "-", stdin: Self.pod("waits", claim: "stuck") + "\n---\n" + Self.pod("lost", claim: "nope"))
            #expect(r.ok, "\(r.stderr)")
            let refused = try await eventually {
                let waits = try await unschedulableMessage("waits"), lost = try await unschedulableMessage("lost")
                return waits.contains("pod has unbound immediate PersistentVolumeClaims") && lost.contains(#"persistentvolumeclaim "nope" not found"#)
            }
            let waits = try await unschedulableMessage("waits"), lost = try await unschedulableMessage("lost")
            #expect(refused, "\(waits) / \(lost)")
            #expect(lost == "0/1 nodes are available: persistentvolumeclaim \"nope\" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")
        }
    }
}

/// A Service's primary IP family is fixed once set (ValidateServiceUpdate).
struct ServiceIPFamilyTests {
    @Test func thePrimaryFamilyMayNotChange() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let svcs = "/api/v1/namespaces/default/services"
            var (code, body) = await t.curl("POST", svcs, body: #"{"metadata":{"name":"s"},"spec":{"ipFamilies":["IPv4"],"ports":[{"port":80}]}}"#)
            #expect(code == 201, "\(body)")
            (code, body) = await t.curl("PATCH", svcs + "/s", body: #"{"spec":{"ipFamilies":["IPv6"]}}"#, contentType: "application/merge-patch+json")
            #expect(code == 422 && body.contains(#"spec.ipFamilies[0]: Invalid value: \"IPv6\": may not change once set"#), "\(body)")
            (code, body) = await t.curl("PATCH", svcs + "/s", body: #"{"spec":{"ipFamilies":null,"sessionAffinity":"ClientIP"}}"#,
                                        contentType: "application/merge-patch+json")
            #expect(code == 200 && parsed(body)[path: "spec", "ipFamilies"] == ["IPv4"], "left out, they are kept: \(body)")
        }
    }
}

/// PriorityClasses: the system classes, Priority admission of pods, and the classes' own rules.
struct PriorityClassTests {
    @Test func podsGetTheirClassesPriority() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var r = await t.kubectl("get", "priorityclasses")
            #expect(r.stdout.contains("system-cluster-critical") && r.stdout.contains("2000000000") && r.stdout.contains("system-node-critical"), "\(r.stdout)")
            r = await t.kubectl("apply", "-f", "-", stdin: "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: high}\nvalue: 1000\n")
            #expect(r.ok, "\(r.stderr)")
            let pod = #"{"metadata":{"name":"%@"},"spec":{"priorityClassName":"%@","containers":[{"name":"c","image":"busybox"}]}}"#
            var (code, body) = await t.curl("POST", "/api/v1/namespaces/default/pods", body: String(format: pod, "p", "high"))
            let created = try JSONValue.parse(body)
            #expect(code == 201 && created[path: "spec", "priority"] == 1000 && created[path: "spec", "preemptionPolicy"] == "PreemptLowerPriority", "\(body)")
            (code, body) = await t.curl("POST", "/api/v1/namespaces/default/pods", body: String(format: pod, "q", "nope"))
            #expect(code == 403 && body.contains(#"pods \"q\" is forbidden: no PriorityClass with name nope was found"#), "\(body)")
            (code, body) = await t.curl("POST", "/api/v1/namespaces/default/pods", body: #"{"metadata":{"name":"r"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}"#)
            #expect(code == 201 && (parsed(body))[path: "spec", "priority"] == 0, "no default class: priority 0")

            r = await t.kubectl("patch", "priorityclass", "high", "-p", #"{"value":2000}"#)
            #expect(!r.ok && r.stderr.contains("value: Forbidden: may not be changed in an update."), "\(r.stderr)")
            r = await t.kubectl("apply", "-f", "-", stdin: "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: system-mine}\nvalue: 10\n")
            #expect(!r.ok && r.stderr.contains("priority class names with 'system-' prefix are reserved for system use only"), "\(r.stderr)")
            r = await t.kubectl("apply", "-f", "-", stdin: "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: first}\nvalue: 5\nglobalDefault: true\n")
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("apply", "-f", "-", stdin: "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: second}\nvalue: 6\nglobalDefault: true\n")
            #expect(!r.ok && r.stderr.contains("PriorityClass first is already marked as default. Only one default can exist"), "\(r.stderr)")
            (code, body) = await t.curl("POST", "/api/v1/namespaces/default/pods", body: #"{"metadata":{"name":"s"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}"#)
            let defaulted = try JSONValue.parse(body)
            #expect(defaulted[path: "spec", "priorityClassName"] == "first" && defaulted[path: "spec", "priority"] == 5, "\(body)")
        }
    }

    /// The PriorityClass REST refuses to delete the system classes; ValidatePriorityClass keeps their value and
    /// keeps them from becoming the global default; anything else about them may change.
    @Test func systemClassesCannotBeDeletedOrRevalued() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let refusal = #"priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: this is a system priority class and cannot be deleted"#
            var r = await t.kubectl("delete", "priorityclass", "system-node-critical")
            #expect(!r.ok && r.stderr.contains(refusal), "\(r.stderr)")
            var (code, body) = await t.curl("DELETE", "/apis/scheduling.k8s.io/v1/priorityclasses/system-cluster-critical")
            #expect(code == 403 && parsed(body)["reason"] == "Forbidden", "\(body)")
            r = await t.kubectl("patch", "priorityclass", "system-node-critical", "--type=merge", "-p", #"{"value":5}"#)
            #expect(!r.ok && r.stderr.contains("metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-node-critical PriorityClass must be 2000001000")
                    && r.stderr.contains("value: Forbidden: may not be changed in an update."), "\(r.stderr)")
            (code, body) = await t.curl("PATCH", "/apis/scheduling.k8s.io/v1/priorityclasses/system-node-critical", body: #"{"globalDefault":true}"#,
                                        contentType: "application/merge-patch+json")
            #expect(code == 422 && body.contains("globalDefault of system-node-critical PriorityClass must be false"), "\(body)")
            r = await t.kubectl("label", "priorityclass", "system-node-critical", "team=platform")
            #expect(r.ok, "labels may change: \(r.stderr)")
            r = await t.kubectl("get", "priorityclass", "system-node-critical", "system-cluster-critical", "-o", "name")
            #expect(r.stdout == "priorityclass.scheduling.k8s.io/system-node-critical\npriorityclass.scheduling.k8s.io/system-cluster-critical\n", "\(r.stdout)")
            // The oldest and newest kubectl releases installed see the same refusals and the same classes.
            for kubectl in try Prerequisite.kubectl127And133() {
                r = await t.kubectl(release: kubectl, "delete", "priorityclass", "system-cluster-critical")
                #expect(!r.ok && r.stderr.contains(refusal.replacingOccurrences(of: "system-node-critical", with: "system-cluster-critical")), "\(kubectl): \(r.stderr)")
                r = await t.kubectl(release: kubectl, "patch", "priorityclass", "system-cluster-critical", "--type=merge", "-p", #"{"value":5}"#)
                #expect(!r.ok && r.stderr.contains("value: Forbidden: may not be changed in an update."), "\(kubectl): \(r.stderr)")
                r = await t.kubectl(release: kubectl, "get", "priorityclasses")
                #expect(r.ok && r.stdout.contains("system-cluster-critical") && r.stdout.contains("2000000000"), "\(kubectl): \(r.stdout) \(r.stderr)")
            }
        }
    }
}
