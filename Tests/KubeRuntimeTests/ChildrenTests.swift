import Testing
import KubeCore
import KubeRuntime

@Suite struct ChildrenTests {
    @Test func aChildAsDesiredNeedsNoPatchAndADriftedOneGetsOnlyWhatDiffers() throws {
        var service = Service(name: "s", namespace: "ns")
        service.labels = ["app.kubernetes.io/managed-by": "gantry"]
        service.spec.selector = ["app": "s"]
        service.spec.ports = [Service.Port(name: "http", port: 80)]
        var observed = service.json
        observed[path: "metadata", "resourceVersion"] = "7"
        observed[path: "metadata", "labels", "team"] = "x"  // someone else's label
        observed[path: "spec", "clusterIP"] = "10.0.0.9"  // server default
        observed[path: "spec", "ports"] = [["name": "http", "port": 80, "protocol": "TCP", "targetPort": 80]]
        #expect(ChildApplier.correction(service.json, observed: observed) == nil)

        observed[path: "spec", "ports"] = [["name": "http", "port": 9999, "protocol": "TCP", "targetPort": 9999]]
        let patch = try #require(ChildApplier.correction(service.json, observed: observed))
        #expect(patch["spec"] == service.json["spec"])  // the section Gantry sets, whole (lists are replaced)
        #expect(patch[path: "metadata", "labels"] == nil)  // labels already as desired: not sent
        #expect(patch[path: "metadata", "resourceVersion"] == "7")  // a concurrent edit answers 409
    }

    /// A create answered 409: the object under the name is the child when this owner owns it, or when nobody
    /// owns it and it carries every label the child would (a Notebook's retained workspace); anything else is a
    /// conflict (a user's Service, another owner's child).
    @Test func aNameHeldByAnotherObjectIsOursOnlyWhenOwnedOrLeftUnownedWithEveryLabelOfTheChild() throws {
        var claim = ConfigMap(name: "nb-workspace", namespace: "ns")
        claim.labels = ["app.kubernetes.io/managed-by": "gantry", "app.kubernetes.io/instance": "nb"]
        var plan = ChildPlan()
        plan.add(claim)
        let child = try #require(plan.desired.first)

        var left = claim.json
        left[path: "metadata", "labels", "team"] = "x"
        #expect(ChildApplier.isOurs(left, child: child, ownerUID: "u1"), "unowned, with every label of the child")
        left[path: "metadata", "labels", "app.kubernetes.io/instance"] = "other"
        #expect(!ChildApplier.isOurs(left, child: child, ownerUID: "u1"), "another instance's")

        var users = ConfigMap(name: "nb-workspace", namespace: "ns").json
        #expect(!ChildApplier.isOurs(users, child: child, ownerUID: "u1"), "a user's object, no labels")
        users[path: "metadata", "ownerReferences"] = [["apiVersion": "gantry.dev/v1alpha1", "uid": "u1", "kind": "Notebook", "name": "nb"]]
        #expect(ChildApplier.isOurs(users, child: child, ownerUID: "u1"), "owned by this owner")
        var another = claim.json
        another[path: "metadata", "ownerReferences"] = [["apiVersion": "gantry.dev/v1alpha1", "uid": "u2", "kind": "Notebook", "name": "nb"]]
        #expect(!ChildApplier.isOurs(another, child: child, ownerUID: "u1"), "another owner's child, labels alike")
    }

    /// A name held by an object on its way out is waited for without a Warning: one being deleted, or the child of
    /// an earlier owner of the same kind and name (a job deleted and applied again, its Service not yet collected).
    @Test func aNameHeldByAnEarlierOwnersChildIsReleasingAndAUsersIsNot() throws {
        var service = Service(name: "job", namespace: "ns")
        var plan = ChildPlan()
        plan.add(service)
        var child = try #require(plan.desired.first)
        child.object[path: "metadata", "ownerReferences"] = [["apiVersion": "gantry.dev/v1alpha1", "uid": "new", "kind": "TrainingJob", "name": "job", "controller": true]]

        var earlier = service.json
        earlier[path: "metadata", "ownerReferences"] = [["apiVersion": "gantry.dev/v1alpha1", "uid": "old", "kind": "TrainingJob", "name": "job", "controller": true]]
        #expect(ChildApplier.isReleasing(earlier, child: child))
        earlier[path: "metadata", "ownerReferences"] = [["apiVersion": "gantry.dev/v1alpha1", "uid": "old", "kind": "TrainingJob", "name": "other", "controller": true]]
        #expect(!ChildApplier.isReleasing(earlier, child: child), "another job's Service is a conflict")
        service.labels = ["team": "x"]
        var users = service.json
        #expect(!ChildApplier.isReleasing(users, child: child), "a user's Service is a conflict")
        users[path: "metadata", "deletionTimestamp"] = "2026-12-05T00:00:00Z"
        #expect(ChildApplier.isReleasing(users, child: child), "being deleted")
    }

    @Test func childrenAreAddressedByTheirModelsType() {
        var plan = ChildPlan()
        plan.add(PodDisruptionBudget(name: "b", namespace: "ns"))
        plan.add(ConfigMap(name: "c", namespace: "ns"), update: .createOnly)
        #expect(plan.desired.map(\.type) == [.podDisruptionBudgets, .configMaps])
        #expect(plan.desired.map(\.update) == [.correct, .createOnly])
    }

    @Test func markOperationsKeepTheKstatusGroupConsistent() {
        var c = StatusConditions(nil, generation: 3, now: "2026-01-01T00:00:00Z")
        c.markStalled("Bad", "spec.x is wrong", reconciling: "waiting for a corrected spec")
        #expect(c.isTrue("Stalled") && !c.isTrue("Ready") && !c.isTrue("Reconciling"))
        #expect(c["Reconciling"]?.message == "waiting for a corrected spec")
        #expect(c.list.allSatisfy { $0.observedGeneration == 3 })
        let stalledSince = c["Ready"]?.lastTransitionTime

        var later = StatusConditions(c.list, generation: 4, now: "2026-01-01T00:05:00Z")
        later.markReconciling("Starting", "pods are starting")
        #expect(later["Ready"]?.lastTransitionTime == stalledSince)  // still False: no transition
        #expect(later.isTrue("Reconciling") && later["Reconciling"]?.lastTransitionTime == "2026-01-01T00:05:00Z")
        later.markReady("Running", "all running")
        #expect(later.isTrue("Ready") && !later.isTrue("Reconciling") && later["Stalled"] == nil)
        later.markIdle("Suspended", "spec.suspend is true")
        #expect(!later.isTrue("Ready") && !later.isTrue("Reconciling") && later["Stalled"] == nil)
    }
}
