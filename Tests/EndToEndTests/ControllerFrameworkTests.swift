import Foundation
import Testing
import GantryAPI
import GantryControllers
import GantryTestSupport
import KubeClient
import KubeCore
import KubeRuntime

/// A kind that exists only in this test: its planner (a few lines) is all it writes; creating, correcting and
/// pruning its children, status writes and refusals come from the framework (issue #9).
enum WidgetKind: CustomResourceKind {
    struct Spec: Codable, Sendable, Hashable {
        var port: Int
        var items: [String]
    }
    struct Status: ConditionedStatus {
        var conditions: [Condition]?
        var observedGeneration: Int64?
        var items: Int?
    }
    static let resourceType = ResourceType(group: "test.gantry.dev", version: "v1", kind: "Widget", plural: "widgets", namespaced: true)
    static let emptyStatus = Status()
}

/// One Service on `spec.port`, a PodDisruptionBudget, one ConfigMap per item; Ready once every item's
/// ConfigMap exists.
struct WidgetPlanner: KindPlanner {
    typealias Kind = WidgetKind
    var childTypes: [ResourceType: FieldMask?] { [.services: nil, .configMaps: nil, .podDisruptionBudgets: nil] }

    func plan(_ o: Observation) -> KindPlan<WidgetKind.Status> {
        let widget = o.object
        var plan = KindPlan(status: widget.status)
        var service = Service(name: widget.name)
        ChildMetadata.stamp(&service, name: widget.name, owner: widget)
        service.spec.selector = ["app": widget.name]
        service.spec.ports = [Service.Port(name: "http", port: Int64(widget.spec.port))]
        plan.children.add(service)
        var budget = PodDisruptionBudget(name: widget.name)
        ChildMetadata.stamp(&budget, name: widget.name, owner: widget)
        budget.spec.selectorLabels = ["app": widget.name]
        budget.spec.maxUnavailable = 1
        plan.children.add(budget)
        for item in widget.spec.items {
            var config = ConfigMap(name: "\(widget.name)-\(item)")
            ChildMetadata.stamp(&config, name: "\(widget.name)-\(item)", owner: widget)
            config.data = ["item": item]
            plan.children.add(config)
        }
        plan.children.prune = [.services, .configMaps]
        let made = o.children(.configMaps).filter { c in widget.spec.items.contains { c.name == "\(widget.name)-\($0)" } }.count
        var conditions = StatusConditions(widget.status.conditions, generation: widget.generation, now: Timestamp.format(o.now))
        if made == widget.spec.items.count {
            conditions.markReady("Reconciled", "all \(made) items exist")
        } else {
            conditions.markReconciling("Creating", "\(made) of \(widget.spec.items.count) items exist")
        }
        plan.status.conditions = conditions.list
        plan.status.observedGeneration = widget.generation
        plan.status.items = made
        return plan
    }
}

@Suite(.serialized) struct ControllerFrameworkTests {
    static let crd = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: widgets.test.gantry.dev}
        spec:
          group: test.gantry.dev
          names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
          scope: Namespaced
          versions:
          - name: v1
            served: true
            storage: true
            subresources: {status: {}}
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    required: [port, items]
                    properties:
                      port: {type: integer}
                      items: {type: array, items: {type: string}}
                  status: {type: object, x-kubernetes-preserve-unknown-fields: true}
        """

    static func widget(_ name: String, port: Int, items: [String]) -> String {
        """
        apiVersion: test.gantry.dev/v1
        kind: Widget
        metadata: {name: \(name), namespace: default}
        spec: {port: \(port), items: [\(items.joined(separator: ", "))]}
        """
    }

    /// One worker: the queue is served in order, so a later object's children prove an earlier reconcile ran.
    static func withWidgets(_ body: (OperatorHarness) async throws -> Void) async throws {
        try await withOperator(workers: 1, kinds: [KindRegistration(WidgetPlanner())], manifests: crd, body)
    }

    static func ready(_ h: OperatorHarness, _ name: String, generation: Int64) async throws -> Bool {
        guard let w = try await h.get(WidgetKind.resourceType, "default", name) else { return false }
        let ready = w[path: "status", "conditions"]?.arrayValue?.first { $0["type"] == "Ready" }
        return ready?["status"] == "True" && w[path: "status", "observedGeneration"]?.intValue == generation
    }

    static func port(_ h: OperatorHarness, _ service: String) async throws -> Int64? {
        try await h.get(.services, "default", service)?[path: "spec", "ports"]?.arrayValue?.first?["port"]?.intValue
    }

    @Test func oneWatchPerResourceAndSelectorWhateverTheNumberOfControllers() async throws {
        try await Self.withWidgets { h in
            // TrainingJob reads 7 resources; InferenceService adds its kind and PodDisruptionBudgets (sharing pods,
            // Services, nodes and TrainingJobs), Notebook its kind, Secrets and claims, Experiment its kind (its
            // trials share the TrainingJob informer), the widget controller its kind (sharing Services, ConfigMaps
            // and budgets); the platform metrics share them all.
            #expect(h.manager.informers.count == 14)
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.widget("w", port: 80, items: ["a"]))
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.ready(h, "w", generation: 1) })
            let watches = h.cluster.cluster.requests().filter { $0.method == "GET" && $0.query.contains("watch=true") }
            let configMapWatches = watches.filter { $0.path == "/api/v1/configmaps" }
            let serviceWatches = watches.filter { $0.path == "/api/v1/services" }
            #expect(configMapWatches.count == 1, "one ConfigMap watch for two controllers, saw \(configMapWatches.count)")
            #expect(serviceWatches.count == 1, "one Service watch for two controllers, saw \(serviceWatches.count)")
            let trainingJobWatches = watches.filter { $0.path.hasSuffix("/trainingjobs") }
            #expect(trainingJobWatches.count == 1, "one TrainingJob watch for TrainingJob and Experiment, saw \(trainingJobWatches.map(\.path))")
        }
    }

    @Test func aKindRegisteredInATestGetsChildrenCreatedCorrectedPrunedAndItsStatus() async throws {
        try await Self.withWidgets { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.widget("w", port: 80, items: ["a", "b"]))
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.ready(h, "w", generation: 1) })
            #expect(try await Self.port(h, "w") == 80)
            #expect(try await h.get(.configMaps, "default", "w-a")?[path: "data", "item"] == "a")
            #expect(try await h.get(.configMaps, "default", "w-b") != nil)
            #expect(try await eventually(timeout: .seconds(10)) {
                try await h.get(.podDisruptionBudgets, "default", "w")?[path: "spec", "maxUnavailable"] == 1
            })

            // Converged: a reconcile (woken by a metadata edit) makes no request to the children.
            let before = Self.childWrites(h)
            _ = try await h.kubectl("annotate", "widget", "w", "touched=1")
            #expect(try await eventually(timeout: .seconds(10)) {
                try await h.get(WidgetKind.resourceType, "default", "w")?.annotations["touched"] == "1"
            })
            // A marker after the annotation: the widget controller's reconcile of w has run once the marker's own
            // child exists (one queue, events in order; status is written before children).
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.widget("marker", port: 81, items: []))
            #expect(try await eventually(timeout: .seconds(30)) { try await h.get(.services, "default", "marker") != nil })
            // The request log is written as the answer starts: wait for the marker's create to be in it.
            _ = try await eventually(timeout: .seconds(5)) { Self.childWrites(h).creates > before.creates }
            let after = Self.childWrites(h)
            #expect(after.creates == before.creates + 1, "only the marker's Service is created")
            #expect(after.others == before.others, "no update or delete of converged children")

            // Someone edits a field Gantry owns: corrected. A field Gantry does not set stays.
            _ = try await h.kubectl("patch", "service", "w", "--type=merge", "-p", #"{"spec":{"ports":[{"name":"http","port":9999}]},"metadata":{"labels":{"team":"x"}}}"#)
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.port(h, "w") == 80 })
            #expect(try await h.get(.services, "default", "w")?.labels["team"] == "x")

            // The spec changes: the Service is updated in place, an item no longer desired is deleted.
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.widget("w", port: 8080, items: ["a"]))
            #expect(try await eventually(timeout: .seconds(30)) {
                let port = try await Self.port(h, "w")
                let gone = try await h.get(.configMaps, "default", "w-b") == nil
                return port == 8080 && gone
            })
            #expect(try await Self.ready(h, "w", generation: 2))
            #expect(try await h.get(.configMaps, "default", "w-a") != nil)
        }
    }

    @Test func aChildTheServerRefusesStallsTheObjectAndLeavesNoHalfMadeSet() async throws {
        try await Self.withWidgets { h in
            // "Bad_Item" makes a ConfigMap name the API server refuses (422: not a DNS-1123 subdomain).
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.widget("v", port: 80, items: ["ok", "Bad_Item"]))
            #expect(try await eventually(timeout: .seconds(30)) {
                let w = try await h.get(WidgetKind.resourceType, "default", "v")
                let stalled = w?[path: "status", "conditions"]?.arrayValue?.first { $0["type"] == "Stalled" }
                return stalled?["status"] == "True" && stalled?["reason"] == "ChildRejected"
                    && (stalled?["message"]?.stringValue ?? "").contains("v-Bad_Item")
            })
            // The item made before the refused one was removed with it.
            #expect(try await eventually(timeout: .seconds(10)) { try await h.get(.configMaps, "default", "v-ok") == nil })
        }
    }

    @Test func anEditedTensorBoardServiceIsCorrected() async throws {
        try await withOperator { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: TrainingJobBehaviourTests.manifest(
                "board", script: "{exit: {code: 0, after: 600s}}", extra: "  tensorboard: {logDir: /runs/board}\n"))
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.port(h, "board-tensorboard") == 80 })
            _ = try await h.kubectl("patch", "service", "board-tensorboard", "--type=merge",
                                    "-p", #"{"spec":{"ports":[{"name":"http","port":81,"targetPort":"http"}]}}"#)
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.port(h, "board-tensorboard") == 80 })
        }
    }

    /// The operator's writes to Services and ConfigMaps of namespace default: creates (to the collection),
    /// and updates or deletes of widget w's children.
    static func childWrites(_ h: OperatorHarness) -> (creates: Int, others: Int) {
        let writes = h.cluster.cluster.requests().filter { r in
            ["POST", "PATCH", "PUT", "DELETE"].contains(r.method) && r.userAgent?.contains("kubectl") != true
                && (r.path.hasPrefix("/api/v1/namespaces/default/services") || r.path.hasPrefix("/api/v1/namespaces/default/configmaps"))
        }
        let mine = ["/services/w", "/configmaps/w-a", "/configmaps/w-b"]
        return (writes.count { $0.method == "POST" }, writes.count { r in r.method != "POST" && mine.contains { r.path.hasSuffix($0) } })
    }
}
