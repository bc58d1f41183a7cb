import Foundation
import GantryAPI
import KubeCore
import KubeRuntime

/// `placement: perNode`: each colour is a DaemonSet (a replica on every matching node), and a colour is ready
/// when its DaemonSet's status says every desired node runs a ready, updated pod of the current generation, less
/// the nodes that can never hold a replica (`unfitNodes`). The rest of blue/green (swap, warm window, rollback,
/// validation) is the same as for replica pods.
extension InferencePlanning {
    /// How far a revision's replicas are.
    struct Readiness {
        var ready: Int
        var desired: Int
        var complete: Bool
        var summary: String
        /// perNode: the DaemonSet controller found no node for it, or none that can hold a replica.
        var noMatchingNodes = false
        /// perNode: nodes its DaemonSet counts that can never hold a replica (not in `desired`).
        var unfit: [InferenceServiceStatus.UnfitNode] = []
    }

    func readiness(of revision: Revision) -> Readiness {
        guard service.spec.perNode else {
            let ready = livePods(revision).filter { $0.ready(for: rollout.effectiveMinReadySeconds, at: now) }.count
            return Readiness(ready: ready, desired: replicas, complete: ready >= replicas, summary: "\(ready) of \(replicas) replicas ready")
        }
        let name = InferenceDaemonSets.name(service, revision)
        let ds = InferenceDaemonSets.Progress(daemonSets.first { $0.name == name })
        let unfit = ds.observed ? unfitNodes(revision) : []
        let desired = max(0, ds.desired - unfit.count)
        let summary: String
        if recreateWaits(revision) {
            summary = "DaemonSet \(name) waits until the previous revision's pods in \(revision.color.rawValue) are gone (spec.rollout.strategy Recreate)"
        } else if !ds.observed {
            summary = "DaemonSet \(name) not yet rolled out by the DaemonSet controller"
        } else if ds.desired == 0 {
            summary = "DaemonSet \(name): no node matches spec.nodeSelector, spec.tolerations and spec.gpu"
        } else if desired == 0 {
            summary = "DaemonSet \(name): none of its \(ds.desired) node(s) can hold a replica: \(Self.describe(unfit)); "
                + "lower spec.gpu.count or choose nodes with enough GPUs (spec.nodeSelector)"
        } else {
            summary = "DaemonSet \(name): \(ds.ready) of \(desired) nodes run a ready replica" + Self.notCounted(unfit)
        }
        return Readiness(ready: min(ds.ready, desired), desired: desired, complete: ds.observed && desired > 0 && ds.ready >= desired,
                         summary: summary, noMatchingNodes: ds.observed && desired == 0, unfit: unfit)
    }

    /// Nodes the revision's DaemonSet counts that can never hold one of its replicas: allocatable below one
    /// replica's GPU request. Kubernetes' DaemonSet controller chooses nodes by nodeName, node affinity and taints
    /// only (pkg/controller/daemon `predicates`), never by resources, so such a node is in desiredNumberScheduled
    /// and its pod stays Pending for ever; counted, it would keep the colour from being ready and fail every
    /// rollout at its deadline. Read from the revision's unbound pods and the node each is for.
    func unfitNodes(_ revision: Revision) -> [InferenceServiceStatus.UnfitNode] {
        guard let resource = placement.resourceName, placement.countPerPod > 0 else { return [] }
        let waiting = Set(livePods(revision).filter { $0.node == nil }.compactMap(\.targetNode))
        return waiting.sorted().compactMap { name in
            guard let node = nodes[name], !SchedulingRules.fits(placement.limits, node: Node(json: node)) else { return nil }
            let allocatable = GPUPlacement.capacity(of: node, resource: resource) ?? 0
            return .init(node: name, message: "\(allocatable) \(resource) allocatable, one replica needs \(placement.countPerPod)")
        }
    }

    static func describe(_ unfit: [InferenceServiceStatus.UnfitNode]) -> String {
        unfit.map { "\($0.node) (\($0.message))" }.joined(separator: ", ")
    }

    /// The nodes left out of a colour's size, as its messages end with them (nothing when there are none).
    static func notCounted(_ unfit: [InferenceServiceStatus.UnfitNode]) -> String {
        unfit.isEmpty ? "" : "; not counted, as no replica fits there (its pod stays Pending): \(describe(unfit))"
    }

    /// The DaemonSet of a live revision (its pods are made and replaced by the DaemonSet controller). Created
    /// once and never patched: its name and selector carry the revision, so a new template is a new DaemonSet
    /// (the operator's RBAC has no patch on daemonsets).
    mutating func addDaemonSet(_ revision: Revision) {
        plan.children.add(InferenceDaemonSets.serving(service, revision, placement: placement, productLabel: productLabel,
                                                      security: security, minReadySeconds: rollout.effectiveMinReadySeconds),
                          update: .createOnly)
    }

    /// `rollout.strategy: Recreate`: the revision's DaemonSet is not made while the previous revision's DaemonSet
    /// (deleted in the foreground, so it stays until its pods are gone) or pods remain in its colour.
    func recreateWaits(_ revision: Revision) -> Bool {
        guard rollout.effectiveStrategy == .recreate else { return false }
        let name = InferenceDaemonSets.name(service, revision)
        guard !daemonSets.contains(where: { $0.name == name && $0.deletionTimestamp == nil }) else { return false }
        return daemonSets.contains { $0.labels[GantryLabels.color] == revision.color.rawValue && $0.labels[GantryLabels.revision] != revision.hash }
            || pods.contains { $0.color == revision.color && $0.revision != revision.hash }
    }

    /// status.perNode (each live colour's nodes) and the serving size: the active DaemonSet's desired nodes. A
    /// node found unfit for a colour is a Warning Event once (status remembers it).
    mutating func reportNodes(_ revisions: [Revision], active: Revision) {
        status.perNode = revisions.map { revision in
            let r = readiness(of: revision)
            let known = service.status.perNode?.first { $0.revision == revision.hash && $0.color == revision.color }?.unfit ?? []
            let new = r.unfit.filter { !known.contains($0) }
            if !new.isEmpty {
                plan.events.append(PlannedEvent(.warning, "NodesTooSmall", "\(InferenceDaemonSets.name(service, revision)) has a pod on \(Self.describe(new)): "
                    + "it stays Pending and is not counted; lower spec.gpu.count or keep those nodes out with spec.nodeSelector"))
            }
            return .init(color: revision.color, revision: revision.hash, daemonSet: InferenceDaemonSets.name(service, revision),
                         desired: r.desired, ready: r.ready, unfit: r.unfit.isEmpty ? nil : r.unfit)
        }
        let serving = readiness(of: active)
        replicas = serving.desired
        status.replicas = serving.desired
        status.readyReplicas = serving.ready
    }

    /// How long a prepull may hold a candidate back: half its progress deadline, at most 5 minutes.
    var prepullTimeout: TimeInterval { Double(min(300, max(1, rollout.effectiveProgressDeadlineSeconds / 2))) }

    /// `spec.prepull`: whether the candidate's pods may be created. The first call starts the pull (phase
    /// Prepulling; planChildren adds the DaemonSet); it ends when the DaemonSet's every desired pod is ready, or
    /// after `prepullTimeout` with a Warning Event; then the candidate progresses and the DaemonSet is pruned.
    mutating func prepulled(_ candidate: inout InferenceServiceStatus.Candidate) -> Bool {
        guard service.spec.prepull == true else { return true }
        let name = InferenceDaemonSets.prepullName(service, candidate.revision)
        guard var pull = candidate.prepull else {
            candidate.prepull = .init(phase: .pulling, daemonSet: name, desired: 0, ready: 0, startedAt: nowText)
            candidate.phase = .prepulling
            candidate.message = "pulling \(service.spec.image) on the nodes before the candidate starts (spec.prepull)"
            plan.events.append(PlannedEvent(.normal, "Prepulling", "DaemonSet \(name) pulls \(service.spec.image) before candidate \(candidate.revision.hash) starts"))
            status.candidate = candidate
            plan.requeueAfter = min(plan.requeueAfter ?? .seconds(prepullTimeout), .seconds(prepullTimeout))
            return false
        }
        guard pull.phase == .pulling else { return true }
        let ds = InferenceDaemonSets.Progress(daemonSets.first { $0.name == name })
        pull.desired = ds.desired
        pull.ready = ds.ready
        let started = Timestamp.parse(pull.startedAt) ?? now
        if ds.observed && ds.ready >= ds.desired {
            // Every desired node pulled (none desired: nothing to pull).
            pull.phase = .pulled
            pull.finishedAt = nowText
            plan.events.append(PlannedEvent(.normal, "Prepulled", "\(service.spec.image) pulled on \(ds.ready) node(s) in \(Int(now.timeIntervalSince(started).rounded()))s; candidate \(candidate.revision.hash) starts"))
        } else if now >= started.addingTimeInterval(prepullTimeout) {
            pull.phase = .timedOut
            pull.finishedAt = nowText
            plan.events.append(PlannedEvent(.warning, "PrepullTimedOut", "prepull of \(service.spec.image) timed out after \(Int(prepullTimeout))s with \(ds.ready) of \(ds.desired) node(s) pulled; candidate \(candidate.revision.hash) starts anyway"))
        } else {
            candidate.prepull = pull
            candidate.message = "pulling \(service.spec.image): \(ds.ready) of \(ds.desired) node(s) done (spec.prepull)"
            status.candidate = candidate
            let left = started.addingTimeInterval(prepullTimeout).timeIntervalSince(now) + 0.1
            plan.requeueAfter = min(plan.requeueAfter ?? .seconds(left), .seconds(left))
            return false
        }
        candidate.prepull = pull
        candidate.phase = .progressing
        candidate.message = nil
        return true
    }
}
