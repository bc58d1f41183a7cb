import Foundation
import GantryTestSupport
import KubeCore
import Testing
@testable import EmbeddedCluster

/// What kube-apiserver fills into Services (SetDefaults_Service and the Service REST's IP families on a
/// single-stack IPv4 cluster), through curl (libcurl) and kubectl: without them `kubectl diff` and GitOps tools
/// would see drift a real cluster does not show.
struct ServiceDefaultsTests {
    static let svcs = "/api/v1/namespaces/default/services"

    func create(_ t: TestCluster, _ body: String) async -> (Int, JSONValue) {
        let (code, text) = await t.curl("POST", Self.svcs, body: body)
        return (code, parsed(text))
    }

    @Test func aClusterIPServiceGetsUpstreamsDefaults() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let (code, s) = await create(t, #"{"metadata":{"name":"web"},"spec":{"selector":{"app":"web"},"ports":[{"port":80}]}}"#)
            #expect(code == 201, "\(s)")
            let spec = s["spec"] ?? .null
            let ip = spec["clusterIP"]?.stringValue ?? ""
            #expect(ip.hasPrefix("10.96.") && spec["clusterIPs"] == [.string(ip)], "\(spec)")
            #expect(spec["type"] == "ClusterIP" && spec["sessionAffinity"] == "None" && spec["internalTrafficPolicy"] == "Cluster", "\(spec)")
            #expect(spec["ipFamilyPolicy"] == "SingleStack" && spec["ipFamilies"] == ["IPv4"], "\(spec)")
            #expect(spec["ports"] == [["port": 80, "protocol": "TCP", "targetPort": 80]], "\(spec)")
            #expect(spec["externalTrafficPolicy"] == nil && spec["sessionAffinityConfig"] == nil, "only for NodePort/LoadBalancer, ClientIP")

            // A replace that leaves out every default (an old client, a GitOps tool's manifest) keeps them.
            var replacement: JSONValue = ["metadata": ["name": "web"], "spec": ["selector": ["app": "web"], "ports": [["port": 80]]]]
            replacement[path: "metadata", "resourceVersion"] = s[path: "metadata", "resourceVersion"]
            let (putCode, putText) = await t.curl("PUT", Self.svcs + "/web", body: replacement.serialized())
            let put = parsed(putText)
            #expect(putCode == 200 && put["spec"] == spec, "\(putText)")
        }
    }

    @Test func headlessExternalNameAndExposedServices() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var (code, s) = await create(t, #"{"metadata":{"name":"headless"},"spec":{"clusterIP":"None","selector":{"app":"db"},"ports":[{"port":5432}]}}"#)
            #expect(code == 201 && s[path: "spec", "clusterIPs"] == ["None"] && s[path: "spec", "ipFamilyPolicy"] == "SingleStack"
                    && s[path: "spec", "ipFamilies"] == ["IPv4"] && s[path: "spec", "internalTrafficPolicy"] == "Cluster", "\(s)")
            // Headless without selector: upstream's special case defaults to dual-stack, even on a single-stack cluster.
            (code, s) = await create(t, #"{"metadata":{"name":"manual"},"spec":{"clusterIP":"None","ports":[{"port":80}]}}"#)
            #expect(code == 201 && s[path: "spec", "ipFamilyPolicy"] == "RequireDualStack" && s[path: "spec", "ipFamilies"] == ["IPv4", "IPv6"], "\(s)")
            (code, s) = await create(t, #"{"metadata":{"name":"ext"},"spec":{"type":"ExternalName","externalName":"db.example.com"}}"#)
            #expect(code == 201 && s[path: "spec", "sessionAffinity"] == "None", "\(s)")
            for field in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy"] {
                #expect(s[path: "spec", field] == nil, "an ExternalName Service has no \(field): \(s)")
            }
            (code, s) = await create(t, #"{"metadata":{"name":"lb"},"spec":{"type":"LoadBalancer","sessionAffinity":"ClientIP","selector":{"a":"b"},"ports":[{"port":443,"targetPort":"https"}]}}"#)
            #expect(code == 201 && s[path: "spec", "externalTrafficPolicy"] == "Cluster" && s[path: "spec", "allocateLoadBalancerNodePorts"] == true
                    && s[path: "spec", "sessionAffinityConfig", "clientIP", "timeoutSeconds"] == 10800
                    && s[path: "spec", "ports"]?.arrayValue?.first?["targetPort"] == "https", "\(s)")
        }
    }

    @Test func dualStackIsRefusedNamingTheField() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var (code, text) = await t.curl("POST", Self.svcs, body: #"{"metadata":{"name":"dual"},"spec":{"ipFamilyPolicy":"RequireDualStack","selector":{"a":"b"},"ports":[{"port":80}]}}"#)
            #expect(code == 422 && text.contains(#"spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services"#), "\(text)")
            (code, text) = await t.curl("POST", Self.svcs, body: #"{"metadata":{"name":"six"},"spec":{"ipFamilies":["IPv6"],"selector":{"a":"b"},"ports":[{"port":80}]}}"#)
            #expect(code == 422 && text.contains(#"spec.ipFamilies[0]: Invalid value: \"IPv6\": not configured on this cluster"#), "\(text)")
            (code, text) = await t.curl("POST", Self.svcs, body: #"{"metadata":{"name":"odd"},"spec":{"ipFamilyPolicy":"Sometimes","ports":[{"port":80}]}}"#)
            #expect(code == 422 && text.contains(#"spec.ipFamilyPolicy: Unsupported value: \"Sometimes\": supported values: \"PreferDualStack\", \"RequireDualStack\", \"SingleStack\""#), "\(text)")
            (code, text) = await t.curl("POST", Self.svcs, body: #"{"metadata":{"name":"prefer"},"spec":{"ipFamilyPolicy":"PreferDualStack","selector":{"a":"b"},"ports":[{"port":80}]}}"#)
            #expect(code == 201 && parsed(text)[path: "spec", "ipFamilies"] == ["IPv4"], "PreferDualStack gets the one family there is: \(text)")
            #expect(await t.kubectl("get", "service", "dual").stderr.contains("NotFound"), "nothing half-created")
        }
    }

    /// A cluster IP the client chooses must be a valid address in the service range that no other Service holds;
    /// the allocator steps over the chosen ones.
    @Test func chosenClusterIPsAreInTheRangeAndFree() async throws {
        _ = try Prerequisite.kubectl()
        try await withCluster(TestCluster.bare()) { t async throws in
            func service(_ name: String, _ ip: String?) -> String {
                "{\"metadata\":{\"name\":\"\(name)\"},\"spec\":{" + (ip.map { "\"clusterIP\":\"\($0)\"," } ?? "") + "\"ports\":[{\"port\":80}]}}"
            }
            var (code, s) = await create(t, service("auto", nil))
            let octets = (s[path: "spec", "clusterIP"]?.stringValue ?? "").split(separator: ".").compactMap { Int($0) }
            #expect(code == 201 && octets.count == 4, "\(s)")
            let next = "10.96.\((octets.last ?? 0) == 255 ? (octets[2] + 1) : octets[2]).\(((octets.last ?? 0) + 1) % 256)"
            (code, s) = await create(t, service("chosen", next))
            #expect(code == 201 && s[path: "spec", "clusterIPs"] == [.string(next)], "\(s)")
            (code, s) = await create(t, service("after", nil))
            #expect(code == 201 && s[path: "spec", "clusterIP"] != .string(next), "the allocator skips a chosen IP: \(s)")
            var text: String
            (code, text) = await t.curl("POST", Self.svcs, body: service("twin", next))
            #expect(code == 422 && text.contains(#"spec.clusterIPs: Invalid value: []string{\"\#(next)\"}: failed to allocate IP \#(next): provided IP is already allocated"#), "\(text)")
            (code, text) = await t.curl("POST", Self.svcs, body: service("bad", "10.96.1"))
            #expect(code == 422 && text.contains(#"spec.clusterIPs[0]: Invalid value: \"10.96.1\": must be a valid IP address"#), "\(text)")
            let r = await t.kubectl("create", "service", "clusterip", "outside", "--clusterip", "1.1.1.1", "--tcp=80:80")
            #expect(!r.ok && r.stderr.contains(#"spec.clusterIPs: Invalid value: []string{"1.1.1.1"}: failed to allocate IP 1.1.1.1: the provided IP (1.1.1.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12"#), "\(r.stderr)")
        }
    }

    /// kube-apiserver's ValidateServiceUpdate: the allocated cluster IP may not change (a replace that leaves it
    /// out keeps it, as the defaults test shows), through curl and kubectl (the installed one, 1.27 and 1.33).
    @Test func anAllocatedClusterIPMayNotChange() async throws {
        _ = try Prerequisite.kubectl()
        try await withCluster(TestCluster.bare()) { t async throws in
            let (code, s) = await create(t, #"{"metadata":{"name":"fixed"},"spec":{"ports":[{"port":80}]}}"#)
            let ip = s[path: "spec", "clusterIP"]?.stringValue ?? ""
            #expect(code == 201 && ip.hasPrefix("10.96."), "\(s)")
            let other = ip == "10.96.200.200" ? "10.96.200.201" : "10.96.200.200"
            let (patchCode, text) = await t.curl("PATCH", Self.svcs + "/fixed", body: #"{"spec":{"clusterIP":"\#(other)","clusterIPs":["\#(other)"]}}"#,
                                                 contentType: "application/merge-patch+json")
            #expect(patchCode == 422 && text.contains(#"spec.clusterIPs[0]: Invalid value: \"\#(other)\": may not change once set"#), "\(text)")
            for kubectl in [TestCluster.kubectlPath] + (try Prerequisite.kubectl127And133()) {
                let r = await t.kubectl(release: kubectl, "patch", "service", "fixed", "--type=merge", "-p", #"{"spec":{"clusterIP":"\#(other)","clusterIPs":["\#(other)"]}}"#)
                #expect(!r.ok && r.stderr.contains(#"The Service "fixed" is invalid: spec.clusterIPs[0]: Invalid value: "\#(other)": may not change once set"#), "\(kubectl): \(r.stderr)")
            }
            let (_, after) = await t.curl("GET", Self.svcs + "/fixed")
            #expect(parsed(after)[path: "spec", "clusterIP"] == .string(ip), "unchanged: \(after)")
        }
    }

    /// `kubectl diff` of the manifest just applied shows nothing (exit 0), for a client-side and a server-side apply.
    @Test func kubectlDiffSeesNoDrift() async throws {
        _ = try Prerequisite.kubectl()
        try await withCluster(TestCluster.bare()) { t async throws in
            let manifest = """
                apiVersion: v1
                kind: Service
                metadata: {name: web, namespace: default}
                spec:
                  selector: {app: web}
                  ports: [{name: http, port: 80, targetPort: 8080}]
                """
            var r = await t.kubectl(args: ["apply", "-f", "-"], stdin: manifest)
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl(args: ["diff", "-f", "-"], stdin: manifest)
            #expect(r.status == 0 && r.stdout.isEmpty, "\(r.stdout)\(r.stderr)")
            r = await t.kubectl(args: ["apply", "--server-side", "--field-manager=gitops", "-f", "-"], stdin: manifest.replacingOccurrences(of: "name: web", with: "name: api"))
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl(args: ["diff", "--server-side", "--field-manager=gitops", "-f", "-"], stdin: manifest.replacingOccurrences(of: "name: web", with: "name: api"))
            #expect(r.status == 0 && r.stdout.isEmpty, "\(r.stdout)\(r.stderr)")
            r = await t.kubectl("get", "service", "api", "-o", "jsonpath={.spec.ipFamilyPolicy} {.spec.ipFamilies} {.spec.internalTrafficPolicy}")
            #expect(r.stdout == #"SingleStack ["IPv4"] Cluster"#, "\(r.stdout)\(r.stderr)")
        }
    }
}
