import GantryAPI
import KubeCore

/// Semantic checks the CRD schema cannot express: they need live nodes or the platform config.
/// Each problem names the field, the limit and the fix; an invalid job gets no children.
public struct ValidationProblem: Sendable, Hashable {
    public var reason: String
    public var message: String
}

public enum TrainingJobValidation {
    /// `nodeProblems`: the job's `NodeCheck` already answered (the reconciler asks the Node cache, which keeps one
    /// answer per question until a Node changes); nil to check `nodes` here.
    public static func problems(_ job: TrainingJob, placement: GPUPlacement, nodes: [JSONValue], platform: PlatformConfigSpec,
                                nodeProblems: [ValidationProblem]? = nil) -> [ValidationProblem] {
        var problems: [ValidationProblem] = []
        let spec = job.spec
        if spec.effectiveReplicas > 1 && spec.framework == .none {
            problems.append(.init(reason: "InvalidSpec", message: "spec.replicas is \(spec.effectiveReplicas) but spec.distributed.framework is none: set framework to pytorch, tensorflow or mpi, or replicas to 1"))
        }
        if let gpu = spec.gpu, gpu.effectiveSharing == .mig, (gpu.migProfile ?? "").isEmpty {
            problems.append(.init(reason: "InvalidSpec", message: "spec.gpu.migProfile is required when spec.gpu.sharing is MIG (e.g. 1g.10gb)"))
        }
        if spec.earlyStopping?.median != nil, job.labels[GantryLabels.experiment] == nil {
            problems.append(.init(reason: "InvalidSpec", message: "spec.earlyStopping.median compares jobs of one experiment: set the label \(GantryLabels.experiment) on the TrainingJob"))
        }
        // Against the nodes only until admitted: an admitted gang was placed (the checks read every node, and a
        // reconcile of each running job paid that on every pod event). A node pool shrinking later does not
        // make a running job's spec invalid.
        if job.status.conditions?.isTrue("Admitted") != true {
            problems += nodeProblems ?? NodeCheck(job, placement: placement).problems(nodes: nodes)
        }
        var byVariable: [String: [String]] = [:]
        for key in (spec.hyperparameters ?? [:]).keys.sorted() { byVariable["HP_" + TrainingPods.envName(key), default: []].append(key) }
        for (variable, keys) in byVariable.sorted(by: { $0.key < $1.key }) where keys.count > 1 {
            problems.append(.init(reason: "InvalidSpec", message: "spec.hyperparameters: keys \(keys.joined(separator: " and ")) both become the variable \(variable); rename all but one"))
        }
        let reserved = TrainingPods.reservedEnvNames(job, placement: placement)
        for (i, env) in (spec.env ?? []).enumerated() where reserved.contains(env.name) {
            problems.append(.init(reason: "InvalidSpec", message: "spec.env[\(i)].name: \(env.name) is set by Gantry for each replica (framework \(spec.framework.rawValue), hyperparameters); remove it from spec.env"))
        }
        problems += policyProblems(spec, policy: platform.effectivePodPolicy)
        let total = placement.countPerPod * spec.effectiveReplicas
        // Under Kueue (queue-name label) Kueue owns quota; Gantry's own quota does not apply.
        if job.labels[GantryLabels.kueueQueueName] == nil, let quota = platform.quota(for: job.namespace), total > quota {
            problems.append(.init(reason: "QuotaExceeded", message: "spec.replicas × spec.gpu.count = \(total) GPUs, more than the GPU quota of namespace \(job.namespace) (\(quota), PlatformConfig \(PlatformConfigSpec.singletonName) spec.quotas): the job could never be admitted. Lower spec.replicas or spec.gpu.count, or ask an admin to raise the quota"))
        }
        return problems
    }

    /// The PlatformConfig's pod policy: volume types and service accounts.
    static func policyProblems(_ spec: TrainingJobSpec, policy: PodPolicy) -> [ValidationProblem] {
        var problems: [ValidationProblem] = []
        let allowed = Set(policy.effectiveVolumeTypes)
        for (i, volume) in (spec.volumes ?? []).enumerated() {
            let types = (volume.objectValue ?? [:]).keys.filter { $0 != "name" }.sorted()
            for type in types where !allowed.contains(type) {
                problems.append(.init(reason: "PolicyViolation", message: "spec.volumes[\(i)] (\(volume["name"]?.stringValue ?? "unnamed")) is a \(type) volume, which PlatformConfig \(PlatformConfigSpec.singletonName) spec.podPolicy.allowedVolumeTypes does not allow (allowed: \(allowed.sorted().joined(separator: ", "))). Use an allowed type, or ask an admin"))
            }
        }
        if let accounts = policy.allowedServiceAccounts, let sa = spec.serviceAccountName, sa != "default", !accounts.contains(sa) {
            problems.append(.init(reason: "PolicyViolation", message: "spec.serviceAccountName: \(sa) is not in PlatformConfig \(PlatformConfigSpec.singletonName) spec.podPolicy.allowedServiceAccounts (\(accounts.joined(separator: ", "))). Use one of them, or ask an admin"))
        }
        return problems
    }

    static func describe(_ expressions: [JSONValue]) -> String {
        expressions.map { e in
            "\(e["key"]?.stringValue ?? "") \(e["operator"]?.stringValue ?? "") \(e["values"]?.arrayValue?.compactMap(\.stringValue).joined(separator: ",") ?? "")"
        }.joined(separator: " and ")
    }
}
