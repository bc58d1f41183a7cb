import Foundation
import GantryAPI
import KubeCore
import KubeRuntime

/// The stores of the shared informers Gantry's controllers read, by name. Child kinds are cached only where
/// Gantry labels them (`app.kubernetes.io/managed-by=gantry`), never every Pod or ConfigMap of the cluster; each
/// store keeps the union of the fields its readers declared (TrainingJobWatches).
public struct OperatorCaches: Sendable {
    public let trainingJobs: Store
    public let pods: Store
    public let services: Store
    public let configMaps: Store
    public let nodes: Store
    public let platformConfigs: Store
    public let daemonSets: Store

    /// The informer keys of the stores above.
    public struct Keys: Sendable {
        public var trainingJobs, pods, services, configMaps, nodes, platformConfigs, daemonSets: SharedInformers.Key
    }

    public init(_ informers: SharedInformers, _ keys: Keys) throws {
        func store(_ key: SharedInformers.Key) throws -> Store {
            guard let informer = informers[key] else { throw InformerError.undeclared(key.description) }
            return informer.store
        }
        trainingJobs = try store(keys.trainingJobs)
        pods = try store(keys.pods)
        services = try store(keys.services)
        configMaps = try store(keys.configMaps)
        nodes = try store(keys.nodes)
        platformConfigs = try store(keys.platformConfigs)
        daemonSets = try store(keys.daemonSets)
    }

    public static let childSelector = "\(GantryLabels.managedBy)=\(GantryLabels.managedByValue)"

    /// The effective PlatformConfig (`default`), or built-in defaults when there is none or it does not decode.
    public func platform() async -> PlatformConfigSpec { await Self.platform(from: platformConfigs) }

    public static func platform(from platformConfigs: Store) async -> PlatformConfigSpec {
        guard let object = await platformConfigs.get(ObjectKey(namespace: nil, name: PlatformConfigSpec.singletonName)),
              let spec = try? (object["spec"] ?? .emptyObject).decode(PlatformConfigSpec.self) else { return PlatformConfigSpec() }
        return spec
    }

    /// What the controller counted (GPU-hours per namespace, idle pods), or nil when there is no PlatformConfig
    /// or its status does not decode.
    public static func platformStatus(from platformConfigs: Store) async -> PlatformConfigStatus? {
        guard let object = await platformConfigs.get(ObjectKey(namespace: nil, name: PlatformConfigSpec.singletonName)) else { return nil }
        return try? (object["status"] ?? .emptyObject).decode(PlatformConfigStatus.self)
    }

    /// Set when `namespace` used its GPU-hour budget this month (BudgetStanding).
    public static func exhaustedBudget(_ namespace: String, from platformConfigs: Store, now: Date) async -> BudgetStanding? {
        BudgetStanding.exhausted(namespace, spec: await platform(from: platformConfigs), status: await platformStatus(from: platformConfigs), now: now)
    }
}
