import Foundation
import GantryTestSupport
import KubeCore
import Testing
@testable import EmbeddedCluster

/// Built-in kinds decoded against their vendored upstream schemas (issue #12, API-SEMANTICS rule 27): unknown fields
/// dropped with kube-apiserver's warning, refused under `fieldValidation=Strict`, for every write verb; wrong types
/// refused; the schemas served in `/openapi/v3`.
struct BuiltinSchemaTests {
    static let configMaps = "/api/v1/namespaces/default/configmaps"
    static let pods = "/api/v1/namespaces/default/pods"

    static func send(_ t: TestCluster, _ method: String, _ path: String, _ body: String,
                     contentType: String = "application/json") async -> (code: Int, headers: String, body: String) {
        let (code, headers, text) = await EmbeddedClusterDocumentedTests.curlWithHeaders(t, method, path, body: body, contentType: contentType)
        return (code, headers, text)
    }

    static func message(_ body: String) -> String { (try? JSONValue.parse(body))?["message"]?.stringValue ?? body }

    // MARK: The vendored file

    @Test func theVendoredSchemasLoadAndCoverEveryServedBuiltinKind() {
        let schemas = BuiltinSchemas.vendored
        #expect(schemas.loadError == nil)
        #expect(schemas.kubernetesVersion == "v1.33.0")
        let missing = BuiltinKinds.all.filter { schemas.definitionName($0) == nil }.map { "\($0.apiVersion)/\($0.kind)" }
        #expect(missing.isEmpty, "served kinds without a vendored schema (add them to scripts/vendor-openapi.sh and rerun it): \(missing)")
        // Every reference resolves inside the file, and the file holds nothing the kinds do not reference.
        func references(_ x: JSONValue) -> [String] {
            switch x {
            case .object(let o): return o.flatMap { entry -> [String] in
                // JSONSchemaProps has a property named `$ref`: only a string is a reference.
                if entry.key == "$ref", let ref = entry.value.stringValue { return [ref] }
                return references(entry.value)
            }
            case .array(let a): return a.flatMap(references)
            default: return []
            }
        }
        let dangling = Set(schemas.schemas.values.flatMap(references).map(BuiltinSchemas.referencedName)).subtracting(schemas.schemas.keys)
        #expect(dangling.isEmpty, "\(dangling)")
        #expect(schemas.closure(Array(schemas.kinds.values)).count == schemas.schemas.count)
        #expect(schemas.closure(["io.k8s.api.core.v1.Pod"])["io.k8s.api.core.v1.ResourceRequirements"] != nil)
    }

    // MARK: Decoding, on its own

    static func decode(_ json: String, as root: String) throws -> (JSONValue, BuiltinDecoding) {
        var obj = try JSONValue.parse(json)
        var decoding = BuiltinDecoding(schemas: BuiltinSchemas.vendored)
        decoding.decode(&obj, as: root)
        return (obj, decoding)
    }

    @Test func aMisspeltContainerFieldIsNamedAsTheStrictDecoderAndServerSideApplyNameIt() throws {
        let (pod, found) = try Self.decode(#"""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"a":"b"},"bogusMeta":1},
             "spec":{"containers":[{"name":"main","image":"x","imagePullPolicyy":"Always",
                                    "resources":{"limits":{"cpu":"1","memory":1073741824}},
                                    "ports":[{"containerPort":80}],
                                    "livenessProbe":{"httpGet":{"port":"http","path":"/"}}}]}}
            """#, as: "io.k8s.api.core.v1.Pod")
        #expect(found.unknown.map(\.path) == ["metadata.bogusMeta", "spec.containers[0].imagePullPolicyy"])
        #expect(found.unknown.map(\.applyPath) == [".metadata.bogusMeta", #".spec.containers[name="main"].imagePullPolicyy"#])
        #expect(found.typeError == nil)
        // Dropped; everything declared kept, quantities and int-or-strings as given.
        #expect(pod[path: "spec", "containers"]?.arrayValue?.first?["imagePullPolicyy"] == nil)
        #expect(pod[path: "metadata", "bogusMeta"] == nil && pod[path: "metadata", "labels", "a"] == "b")
        #expect(pod[path: "spec", "containers"]?.arrayValue?.first?[path: "resources", "limits", "memory"] == 1073741824)
        #expect(pod[path: "spec", "containers"]?.arrayValue?.first?[path: "livenessProbe", "httpGet", "port"] == "http")
    }

    @Test func aValueOfTheWrongTypeIsReportedAsGoDoes() throws {
        let (_, found) = try Self.decode(#"{"spec":{"replicas":"three","selector":{"matchLabels":{"a":"b"}}}}"#,
                                         as: "io.k8s.api.apps.v1.Deployment")
        #expect(found.typeError == "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32")
        let (_, list) = try Self.decode(#"{"spec":{"containers":{"name":"c"}}}"#, as: "io.k8s.api.core.v1.Pod")
        #expect(list.typeError == "json: cannot unmarshal object into Go struct field PodSpec.spec.containers of type []v1.Container")
    }

    @Test func strategicMergePatchTakesItsListKeysAndStrategiesFromTheSchema() throws {
        func merge(_ target: String, _ patch: String, _ definition: String) throws -> JSONValue {
            try StrategicMerge.apply(JSONValue.parse(patch), to: JSONValue.parse(target), definition: definition)
        }
        // A Service's ports merge by `port` (a container's by `containerPort`).
        let service = try merge(#"{"spec":{"ports":[{"name":"http","port":80,"targetPort":8080},{"name":"grpc","port":9000}]}}"#,
                                #"{"spec":{"ports":[{"port":80,"targetPort":9090}]}}"#, "io.k8s.api.core.v1.Service")
        #expect(service[path: "spec", "ports"]?.arrayValue?.count == 2)
        #expect(service[path: "spec", "ports"]?.arrayValue?.first?["targetPort"] == 9090)
        // Tolerations have no merge strategy: the patch's list replaces the stored one.
        let pod = try merge(#"{"metadata":{"finalizers":["a"]},"spec":{"tolerations":[{"key":"a"}],"containers":[{"name":"c","ports":[{"containerPort":80}]}]}}"#,
                            #"{"metadata":{"finalizers":["b"]},"spec":{"tolerations":[{"key":"b"}],"containers":[{"name":"c","ports":[{"containerPort":81}]}]}}"#,
                            "io.k8s.api.core.v1.Pod")
        #expect(pod[path: "spec", "tolerations"] == [["key": "b"]])
        #expect(pod.finalizers == ["a", "b"])
        #expect(pod[path: "spec", "containers"]?.arrayValue?.first?["ports"]?.arrayValue?.count == 2)
        // A budget's selector has `patchStrategy: replace`: replaced whole, not merged.
        let budget = try merge(#"{"spec":{"selector":{"matchLabels":{"a":"1"}}}}"#, #"{"spec":{"selector":{"matchLabels":{"b":"2"}}}}"#,
                               "io.k8s.api.policy.v1.PodDisruptionBudget")
        #expect(budget[path: "spec", "selector", "matchLabels"] == ["b": "2"])
    }

    // MARK: Through the server

    @Test func aConfigMapsUnknownFieldIsDroppedWithAWarningRefusedUnderStrictAndSilentUnderIgnore() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let body = #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"NAME"},"data":{"a":"b"},"bogus":1}"#
            // Warn is the server's default: created, the field named in a Warning header, not stored.
            var r = await Self.send(t, "POST", Self.configMaps, body.replacingOccurrences(of: "NAME", with: "warned"))
            #expect(r.code == 201, "\(r.body)")
            #expect(r.headers.contains(#"warning: 299 - "unknown field \"bogus\"""#), "\(r.headers)")
            #expect(try JSONValue.parse(r.body)["bogus"] == nil)
            #expect(await t.cluster.store.get("configmaps", namespace: "default", name: "warned")?["bogus"] == nil)
            // Strict: 400 with the strict decoder's words; nothing created.
            r = await Self.send(t, "POST", Self.configMaps + "?fieldValidation=Strict", body.replacingOccurrences(of: "NAME", with: "strict"))
            #expect(r.code == 400, "\(r.body)")
            #expect(Self.message(r.body) == #"ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus""#)
            #expect(await t.cluster.store.get("configmaps", namespace: "default", name: "strict") == nil)
            // Ignore: dropped without a word.
            r = await Self.send(t, "POST", Self.configMaps + "?fieldValidation=Ignore", body.replacingOccurrences(of: "NAME", with: "ignored"))
            #expect(r.code == 201 && !r.headers.contains("warning:"), "\(r.headers)")
            // PUT decodes the same way.
            r = await Self.send(t, "PUT", Self.configMaps + "/warned?fieldValidation=Strict", body.replacingOccurrences(of: "NAME", with: "warned"))
            #expect(r.code == 400 && Self.message(r.body).hasSuffix(#"strict decoding error: unknown field "bogus""#), "\(r.body)")
            // Every unknown field seen is on record, whatever became of it.
            #expect(t.cluster.unknownFieldReports().map(\.fields) == [["bogus"], ["bogus"], ["bogus"], ["bogus"]])
        }
    }

    @Test func everyPatchTypeDropsAMisspeltPodFieldAndStrictRefusesItOnThePatchField() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var r = await Self.send(t, "POST", Self.pods, #"{"metadata":{"name":"p"},"spec":{"containers":[{"name":"main","image":"x"}]}}"#)
            #expect(r.code == 201, "\(r.body)")
            let patches = [
                ("application/merge-patch+json", #"{"metadata":{"labels":{"a":"b"}},"spec":{"bogus":1}}"#),
                ("application/strategic-merge-patch+json", #"{"spec":{"containers":[{"name":"main","imagePullPolicyy":"Always"}]}}"#),
                ("application/json-patch+json", #"[{"op":"add","path":"/spec/bogus","value":1}]"#),
            ]
            for (type, patch) in patches {
                r = await Self.send(t, "PATCH", Self.pods + "/p?fieldValidation=Strict", patch, contentType: type)
                #expect(r.code == 422, "\(type): \(r.body)")
                let status = try JSONValue.parse(r.body)
                #expect(status["reason"] == "Invalid", "\(type): \(r.body)")
                #expect(status[path: "details", "causes"]?.arrayValue?.first?["field"] == "patch", "\(type): \(r.body)")
                #expect(Self.message(r.body).hasPrefix(#" "" is invalid: patch: Invalid value: ""#), "\(type): \(r.body)")
                #expect(Self.message(r.body).contains("strict decoding error: unknown field"), "\(type): \(r.body)")
                r = await Self.send(t, "PATCH", Self.pods + "/p", patch, contentType: type)
                #expect(r.code == 200, "\(type): \(r.body)")
                #expect(r.headers.contains("warning: 299 - \"unknown field"), "\(type): \(r.headers)")
            }
            // The strategic merge patch's error prints the patch as Go prints a map.
            r = await Self.send(t, "PATCH", Self.pods + "/p?fieldValidation=Strict", patches[1].1, contentType: patches[1].0)
            #expect(Self.message(r.body).contains(#"Invalid value: "map[spec:map[containers:[map[imagePullPolicyy:Always name:main]]]]": strict decoding error: unknown field "spec.containers[0].imagePullPolicyy""#),
                    "\(r.body)")
            let stored = await t.cluster.store.get("pods", namespace: "default", name: "p")
            #expect(stored?[path: "spec", "bogus"] == nil)
            #expect(stored?[path: "spec", "containers"]?.arrayValue?.first?["imagePullPolicyy"] == nil)
            #expect(stored?.labels["a"] == "b")
        }
    }

    @Test func serverSideApplyRefusesAnUndeclaredFieldAsKubeApiserverDoes() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let r = await Self.send(t, "PATCH", Self.configMaps + "/applied?fieldManager=test",
                                    #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"applied"},"data_error":{"a":"b"}}"#,
                                    contentType: "application/apply-patch+yaml")
            // kube-apiserver answers 500 without a reason here (kubernetes/kubernetes#122480).
            #expect(r.code == 500, "\(r.body)")
            #expect(Self.message(r.body) == "failed to create typed patch object (default/applied; /v1, Kind=ConfigMap): .data_error: field not declared in schema")
            #expect(await t.cluster.store.get("configmaps", namespace: "default", name: "applied") == nil)
        }
    }

    @Test func aValueOfTheWrongTypeIsRefusedWhateverTheValidationDirective() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let r = await Self.send(t, "POST", "/apis/apps/v1/namespaces/default/deployments?fieldValidation=Ignore",
                                    #"{"metadata":{"name":"d"},"spec":{"replicas":"three","selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}"#)
            #expect(r.code == 400, "\(r.body)")
            #expect(Self.message(r.body) == #"Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"#)
        }
    }

    @Test func strictFieldValidationMakesEveryWriteStrictAndKeepsTheReport() async throws {
        var options = DevClusterOptions()
        options.strictFieldValidation = true
        try await withCluster(TestCluster.bare(options)) { t async throws in
            let r = await Self.send(t, "POST", Self.configMaps + "?fieldValidation=Ignore",
                                    #"{"metadata":{"name":"c"},"data":{"a":"b"},"bogus":1}"#)
            #expect(r.code == 400, "\(r.body)")
            let report = t.cluster.unknownFieldReports()
            #expect(report.count == 1 && report.first?.fields == ["bogus"] && report.first?.kind == "ConfigMap", "\(report)")
            #expect(report.first?.userAgent?.hasPrefix("curl/") == true)
        }
    }

    @Test func builtinKindsAreServedInOpenAPIv3WithTheirReferencedDefinitions() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let index = try await t.json("/openapi/v3")
            let core = try #require(index[path: "paths", "api/v1", "serverRelativeURL"]?.stringValue)
            #expect(index[path: "paths", "apis/apps/v1", "serverRelativeURL"]?.stringValue?.contains("?hash=") == true)
            let doc = try await t.json(core)
            let schemas = try #require(doc[path: "components", "schemas"]?.objectValue)
            let pod = try #require(schemas["io.k8s.api.core.v1.Pod"])
            #expect(pod["x-kubernetes-group-version-kind"]?.arrayValue?.first?["kind"] == "Pod")
            #expect(schemas["io.k8s.api.core.v1.ResourceRequirements"]?[path: "properties", "limits", "additionalProperties", "$ref"]
                    == "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity")
            #expect(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"] != nil)
            // Only what the group-version's kinds reference: no apps/v1 kinds in the core document.
            #expect(schemas["io.k8s.api.apps.v1.Deployment"] == nil)
            #expect(doc[path: "paths", "/api/v1/namespaces/{namespace}/pods/{name}", "patch", "x-kubernetes-group-version-kind", "kind"] == "Pod")
            // The same document (and hash) on every request.
            #expect(try await t.json("/openapi/v3") == index)
        }
    }
}
