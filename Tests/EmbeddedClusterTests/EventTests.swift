import GantryTestSupport
import Foundation
import KubeCore
import Testing
@testable import EmbeddedCluster

/// core/v1 and events.k8s.io/v1 Events: one stored object, two views (EventConversion.swift).
@Suite struct EventConversionTests {
    @Test func renamesRoundTrip() throws {
        let v1: JSONValue = [
            "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": ["name": "e", "namespace": "default"],
            "regarding": ["kind": "Pod", "name": "p"], "note": "hello", "reportingController": "gantry.dev/ctl",
            "reportingInstance": "ctl-0", "action": "Sync", "reason": "Synced", "type": "Normal",
            "eventTime": "2026-01-01T00:00:00.000000Z", "series": ["count": 3, "lastObservedTime": "2026-01-01T00:00:09.000000Z"],
        ]
        let core = EventConversion.toCore(v1)
        #expect(core["apiVersion"] == "v1")
        #expect(core[path: "involvedObject", "name"] == "p")
        #expect(core["message"] == "hello")
        #expect(core["reportingComponent"] == "gantry.dev/ctl")
        #expect(core["reportingInstance"] == "ctl-0")
        #expect(core[path: "series", "count"] == 3)  // the series stays a series; `count` is deprecatedCount
        #expect(core["count"] == nil && core["note"] == nil && core["regarding"] == nil)
        #expect(EventConversion.toEventsV1(core) == v1)
        let legacy: JSONValue = ["source": ["component": "kubelet", "host": "n1"], "count": 2,
                                 "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:05Z"]
        let view = EventConversion.toEventsV1(legacy)
        #expect(view[path: "deprecatedSource", "component"] == "kubelet")
        #expect(view["deprecatedCount"] == 2)
        #expect(view["deprecatedFirstTimestamp"] == "2026-01-01T00:00:00Z")
        #expect(view["deprecatedLastTimestamp"] == "2026-01-01T00:00:05Z")
    }

    @Test func fieldLabels() throws {
        let stored: JSONValue = ["involvedObject": ["name": "p", "kind": "Pod"], "reportingComponent": "ctl", "type": "Warning"]
        let core = try FieldQuery(parsing: "involvedObject.name=p,source=ctl,type=Warning", kind: "Event")
        #expect(core.matches(stored))
        let v1 = try FieldQuery(parsing: "regarding.kind=Pod,reportingController=ctl", kind: "events.k8s.io/Event")
        #expect(v1.matches(stored))
        #expect(throws: APIStatusError.self) { try FieldQuery(parsing: "regarding.name=p", kind: "Event") }
        #expect(throws: APIStatusError.self) { try FieldQuery(parsing: "involvedObject.name=p", kind: "events.k8s.io/Event") }
    }

    @Test func strictCreateValidation() {
        let fields = EventConversion.validateCreate(["metadata": ["namespace": "default"], "type": "Info", "note": .string(String(repeating: "é", count: 513)),
                                                     "deprecatedCount": 2]).map(\.field)
        #expect(fields == ["reportingController", "reportingInstance", "action", "reason", "message", "eventTime", "type", "count"])
    }
}

@Suite(.serialized)
struct EventAPITests {
    init() throws { try Prerequisite.kubectl() }

    static let v1Events = "/apis/events.k8s.io/v1/namespaces/default/events"
    static let coreEvents = "/api/v1/namespaces/default/events"

    /// Events expire one `--event-ttl` after they were last written, as kube-apiserver's (one hour by default):
    /// a repeat folded into a series (a patch moving `series.lastObservedTime` on) keeps its Event.
    @Test func eventsExpireOneTTLAfterTheirLastObservation() async throws {
        var options = DevClusterOptions()
        options.eventTTL = 3
        try await withCluster(TestCluster.bare(options)) { t async throws in
            func event(_ name: String) -> JSONValue {
                [
                    "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": ["name": .string(name)],
                    "regarding": ["apiVersion": "v1", "kind": "Pod", "name": "p", "namespace": "default"],
                    "eventTime": .string(Timestamp.formatMicro(Date())), "reportingController": "test", "reportingInstance": "test-0",
                    "action": "Test", "reason": "Tested", "type": "Normal", "note": .string(name),
                ]
            }
            let created = ContinuousClock.now
            for name in ["once", "repeated"] {
                let (code, body) = await t.curl("POST", Self.v1Events, body: event(name).serialized())
                #expect(code == 201, "\(body)")
            }
            // The recorder folds a repeat into the series, observed (here) well after the TTL would end.
            let series: JSONValue = ["series": ["count": 2, "lastObservedTime": .string(Timestamp.formatMicro(Date() + 60))]]
            let (patched, body) = await t.curl("PATCH", Self.v1Events + "/repeated", body: series.serialized(),
                                               contentType: "application/merge-patch+json")
            #expect(patched == 200, "\(body)")
            #expect(try await eventually { await t.curl("GET", Self.v1Events + "/once").0 == 404 })
            // Not before its TTL (creation times have second precision).
            #expect(ContinuousClock.now - created >= .seconds(2), "expired after \(ContinuousClock.now - created)")
            #expect(await t.curl("GET", Self.v1Events + "/repeated").0 == 200, "a repeat observed later keeps its Event")
            // `kubectl get events` (core/v1) and the events.k8s.io/v1 view no longer show it, with the installed
            // kubectl, 1.27 and 1.33.
            for kubectl in [TestCluster.kubectlPath] + (try Prerequisite.kubectl127And133()) {
                let listed = await t.kubectl(release: kubectl, "get", "events", "-o", "name")
                #expect(listed.ok && !listed.stdout.contains("/once") && listed.stdout.contains("/repeated"), "\(kubectl): \(listed.stdout) \(listed.stderr)")
                let table = await t.kubectl(release: kubectl, "get", "events.v1.events.k8s.io")
                #expect(table.ok && !table.stdout.contains("once") && table.stdout.contains("repeated"), "\(kubectl): \(table.stdout) \(table.stderr)")
                let gone = await t.kubectl(release: kubectl, "get", "event", "once")
                #expect(!gone.ok && gone.stderr.contains(#"events "once" not found"#), "\(kubectl): \(gone.stderr)")
            }
        }
    }

    /// An events.k8s.io/v1 Event regarding a custom resource shows in `kubectl get events` and `kubectl describe`.
    @Test func eventsK8sIoEventSeenThroughCoreAPI() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var r = await t.kubectl("apply", "-f", "-", stdin: trainingJobCRD)
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("wait", "--for=condition=Established", "crd/trainingjobs.gantry.dev", "--timeout=10s")
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("apply", "-f", "-", stdin: "apiVersion: gantry.dev/v1\nkind: TrainingJob\nmetadata: {name: resnet}\nspec: {replicas: 2}\n")
            #expect(r.ok, "\(r.stderr)")
            let job = try await t.json("/apis/gantry.dev/v1/namespaces/default/trainingjobs/resnet")
            let event: JSONValue = [
                "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": ["name": "resnet.1"],
                "regarding": ["apiVersion": "gantry.dev/v1", "kind": "TrainingJob", "name": "resnet", "namespace": "default",
                              "uid": job[path: "metadata", "uid"] ?? ""],
                "eventTime": .string(Timestamp.formatMicro(Date())), "reportingController": "gantry.dev/trainingjob-controller",
                "reportingInstance": "gantry-0", "action": "Reconcile", "reason": "PodsCreated", "type": "Normal",
                "note": "created 2 worker pods",
            ]
            var (code, body) = await t.curl("POST", Self.v1Events, body: event.serialized())
            #expect(code == 201, "\(body)")
            #expect(try JSONValue.parse(body)["note"] == "created 2 worker pods")

            r = await t.kubectl("get", "events")
            #expect(r.ok, "\(r.stderr)")
            #expect(r.stdout.contains("PodsCreated") && r.stdout.contains("trainingjob/resnet") && r.stdout.contains("created 2 worker pods"), "\(r.stdout)")
            r = await t.kubectl("describe", "trainingjob", "resnet")
            #expect(r.ok, "\(r.stderr)")
            let tail = r.stdout.components(separatedBy: "Events:").last ?? ""
            #expect(tail.contains("PodsCreated") && tail.contains("gantry.dev/trainingjob-controller") && tail.contains("created 2 worker pods"),
                    "\(r.stdout)")

            // `kubectl events --for` selects on involvedObject.kind, .apiVersion and .name.
            r = await t.kubectl("events", "--for", "trainingjob/resnet")
            #expect(r.ok && r.stdout.contains("PodsCreated"), "\(r.stdout) \(r.stderr)")
            r = await t.kubectl("events", "--for", "configmap/resnet")
            #expect(r.ok && !r.stdout.contains("PodsCreated"), "\(r.stdout) \(r.stderr)")

            // The core view, and its field selectors (the ones kubectl describe sends).
            let core = try await t.json(Self.coreEvents + "/resnet.1")
            #expect(core["apiVersion"] == "v1")
            #expect(core["message"] == "created 2 worker pods")
            #expect(core["reportingComponent"] == "gantry.dev/trainingjob-controller")
            let selected = try await t.json(Self.coreEvents + "?fieldSelector=involvedObject.kind%3DTrainingJob,involvedObject.name%3Dresnet,type%3DNormal,reason%3DPodsCreated,source%3Dgantry.dev%2Ftrainingjob-controller")
            #expect(selected["items"]?.arrayValue?.count == 1)
            let none = try await t.json(Self.coreEvents + "?fieldSelector=involvedObject.uid%3Dother")
            #expect(none["items"]?.arrayValue?.isEmpty == true)

            // A series update through events.k8s.io is seen through core/v1 (and `kubectl describe` counts it).
            (code, body) = await t.curl("PATCH", Self.v1Events + "/resnet.1",
                                        body: #"{"series":{"count":3,"lastObservedTime":"\#(Timestamp.formatMicro(Date()))"}}"#,
                                        contentType: "application/merge-patch+json")
            #expect(code == 200, "\(body)")
            #expect(try await t.json(Self.coreEvents + "/resnet.1")[path: "series", "count"] == 3)
            r = await t.kubectl("describe", "trainingjob", "resnet")
            #expect(r.stdout.contains("(x3 over"), "\(r.stdout)")

            // Strict validation of the new API (API-SEMANTICS rule 21).
            (code, body) = await t.curl("POST", Self.v1Events, body: #"{"metadata":{"name":"bad"},"type":"Info","reason":"R"}"#)
            #expect(code == 422, "\(body)")
            #expect(body.contains("reportingController: Required value") && body.contains("eventTime: Required value"), "\(body)")
        }
    }

    /// A core/v1 Event is listed, watched and patched through events.k8s.io/v1.
    @Test func coreEventSeenThroughEventsK8sIo() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var r = await t.kubectl("create", "configmap", "settings", "--from-literal=a=b")
            #expect(r.ok, "\(r.stderr)")
            let cm = try await t.json("/api/v1/namespaces/default/configmaps/settings")
            let before = await t.cluster.store.currentRevision
            let event: JSONValue = [
                "apiVersion": "v1", "kind": "Event", "metadata": ["name": "settings.1"],
                "involvedObject": ["apiVersion": "v1", "kind": "ConfigMap", "name": "settings", "namespace": "default",
                                   "uid": cm[path: "metadata", "uid"] ?? ""],
                "reason": "Rotated", "message": "keys rotated", "type": "Warning", "count": 2,
                "source": ["component": "rotator", "host": "node-1"],
                "firstTimestamp": .string(Timestamp.format(Date())), "lastTimestamp": .string(Timestamp.format(Date())),
            ]
            var (code, body) = await t.curl("POST", Self.coreEvents, body: event.serialized())
            #expect(code == 201, "\(body)")

            let v1 = try await t.json(Self.v1Events + "/settings.1")
            #expect(v1["apiVersion"] == "events.k8s.io/v1")
            #expect(v1["note"] == "keys rotated")
            #expect(v1[path: "regarding", "name"] == "settings")
            #expect(v1["deprecatedCount"] == 2)
            #expect(v1[path: "deprecatedSource", "component"] == "rotator")
            let list = try await t.json(Self.v1Events + "?fieldSelector=regarding.name%3Dsettings,type%3DWarning")
            #expect(list["kind"] == "EventList" && list["apiVersion"] == "events.k8s.io/v1")
            #expect(list["items"]?.arrayValue?.first?["note"] == "keys rotated")
            (code, body) = await t.curl("GET", Self.v1Events + "?fieldSelector=involvedObject.name%3Dsettings")
            #expect(code == 400, "\(body)")

            // Watch through events.k8s.io from before the create: the ADDED object is in the events.k8s.io form.
            (code, body) = await t.curl("GET", Self.v1Events + "?watch=true&resourceVersion=\(before)&timeoutSeconds=1")
            #expect(code == 200)
            let added = body.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }.first { $0["type"] == "ADDED" }
            #expect(added?[path: "object", "note"] == "keys rotated", "\(body)")
            #expect(added?[path: "object", "apiVersion"] == "events.k8s.io/v1")

            // Patched through events.k8s.io (merge and JSON patch), read through core/v1.
            (code, body) = await t.curl("PATCH", Self.v1Events + "/settings.1", body: #"{"note":"keys rotated twice"}"#,
                                        contentType: "application/merge-patch+json")
            #expect(code == 200, "\(body)")
            (code, body) = await t.curl("PATCH", Self.v1Events + "/settings.1", body: #"[{"op":"replace","path":"/deprecatedCount","value":3}]"#,
                                        contentType: "application/json-patch+json")
            #expect(code == 200, "\(body)")
            let core = try await t.json(Self.coreEvents + "/settings.1")
            #expect(core["message"] == "keys rotated twice" && core["count"] == 3 && core["note"] == nil)

            r = await t.kubectl("get", "events.v1.events.k8s.io")
            #expect(r.stdout.contains("Rotated") && r.stdout.contains("configmap/settings"), "\(r.stdout) \(r.stderr)")
            r = await t.kubectl("describe", "configmap", "settings")
            #expect(r.stdout.contains("Rotated") && r.stdout.contains("keys rotated twice") && r.stdout.contains("rotator"), "\(r.stdout)")
            // Deleting through one API deletes the one object.
            r = await t.kubectl("delete", "events.v1.events.k8s.io", "settings.1")
            #expect(r.ok, "\(r.stderr)")
            (code, _) = await t.curl("GET", Self.coreEvents + "/settings.1")
            #expect(code == 404)
        }
    }
}
