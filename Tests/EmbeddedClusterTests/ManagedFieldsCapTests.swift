import Foundation
import GantryTestSupport
import KubeCore
import Testing
@testable import EmbeddedCluster

/// fieldmanager's cap: at most ten Update managers per object, the oldest merged per API version into
/// `ancient-changes` (ManagedFields/CapManagers.swift); through curl (libcurl) and kubectl.
struct ManagedFieldsCapTests {
    static let cms = "/api/v1/namespaces/default/configmaps"

    static func key(_ i: Int) -> String { String(format: "k%02d", i) }

    @Test func theOldestUpdateManagersMergeIntoAncientChanges() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var data: [String: JSONValue] = [:]
            for i in 1...10 { data[Self.key(i)] = "v" }
            var (code, text) = await t.curl("POST", Self.cms + "?fieldManager=creator",
                                            body: JSONValue.object(["metadata": ["name": "busy"], "data": .object(data)]).serialized())
            #expect(code == 201, "\(text)")
            // Ten Update managers with known times (oldest first), each owning one key: a client may write them.
            var object = parsed(text)
            object[path: "metadata", "managedFields"] = .array((1...10).map { i in
                ["manager": .string(String(format: "m%02d", i)), "operation": "Update", "apiVersion": "v1",
                 "time": .string(String(format: "2026-01-01T00:00:%02dZ", i)), "fieldsType": "FieldsV1",
                 "fieldsV1": ["f:data": .object([("f:" + Self.key(i)): .emptyObject])]]
            })
            (code, text) = await t.curl("PUT", Self.cms + "/busy", body: object.serialized())
            #expect(code == 200 && ManagedFieldsTests.entries(parsed(text)).count == 10, "\(text)")

            // An eleventh: the two oldest of v1 open the bucket, and ten Update managers remain.
            (code, text) = await t.curl("PATCH", Self.cms + "/busy?fieldManager=m11", body: #"{"data":{"k11":"v"}}"#,
                                        contentType: "application/merge-patch+json")
            let capped = parsed(text)
            #expect(code == 200, "\(text)")
            let managers = ManagedFieldsTests.entries(capped).compactMap { $0["manager"]?.stringValue }
            #expect(managers.count == 10 && Set(managers) == Set(["ancient-changes"] + (3...11).map { String(format: "m%02d", $0) }), "\(managers)")
            let bucket = try #require(ManagedFieldsTests.entry(capped, "ancient-changes", "Update"))
            #expect(bucket["fieldsV1"] == ["f:data": ["f:k01": .emptyObject, "f:k02": .emptyObject]], "\(bucket)")
            #expect(bucket["time"] == "2026-01-01T00:00:02Z" && bucket["apiVersion"] == "v1", "the latest merged entry's time: \(bucket)")

            // Apply managers are not counted: an apply keeps the Update entries as they are.
            (code, text) = await t.curl("PATCH", Self.cms + "/busy?fieldManager=applier", body: #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"busy"},"data":{"mine":"x"}}"#,
                                        contentType: "application/apply-patch+yaml")
            let afterApply = ManagedFieldsTests.entries(parsed(text)).map { "\($0["manager"]?.stringValue ?? "")/\($0["operation"]?.stringValue ?? "")" }
            #expect(code == 200 && afterApply.count == 11 && afterApply.contains("applier/Apply"), "\(afterApply) \(text)")
            let r = await t.kubectl("get", "configmap", "busy", "-o", "yaml", "--show-managed-fields")
            #expect(r.stdout.contains("manager: ancient-changes"), "\(r.stdout)\(r.stderr)")
        }
    }

    /// An existing bucket takes in the next old entry of its version (the version's first entry stays), with that
    /// entry's time; other versions and Apply entries are left alone.
    @Test func anExistingBucketTakesTheNextOldEntry() throws {
        func entry(_ manager: String, _ second: Int, _ field: String, operation: String = "Update", apiVersion: String = "v1") throws -> ManagedFieldsEntry {
            ManagedFieldsEntry(manager: manager, operation: operation, apiVersion: apiVersion, time: String(format: "2026-01-01T00:00:%02dZ", second),
                               fields: try #require(FieldSet(fieldsV1: ["f:" + field: .emptyObject])))
        }
        var entries = [try entry("ancient-changes", 5, "old"), try entry("applier", 0, "applied", operation: "Apply"),
                       try entry("other-version", 0, "beta", apiVersion: "v1beta1")]
        for i in [1, 2, 3, 4, 6, 7, 8, 9] { entries.append(try entry(String(format: "m%02d", i), i, "f\(i)")) }
        #expect(ManagedFields.capUpdateManagers(entries) == entries, "ten Update managers: nothing merged")
        entries.append(try entry("m10", 10, "f10"))
        let capped = ManagedFields.capUpdateManagers(entries)
        let bucket = try #require(capped.first { $0.manager == "ancient-changes" })
        #expect(bucket.fields == FieldSet(fieldsV1: ["f:old": .emptyObject, "f:f2": .emptyObject]) && bucket.time == "2026-01-01T00:00:02Z", "\(bucket)")
        #expect(Set(capped.map(\.manager)) == Set(entries.map(\.manager)).subtracting(["m02"]), "\(capped.map(\.manager))")
    }
}
