import Foundation
import GantryAPI
import KubeClient
import KubeCore
import KubeRuntime
import Logging
import Metrics

/// Counts GPU-hours per namespace (budgets) and finds idle GPUs, for every Gantry pod holding GPUs, and keeps
/// both in the PlatformConfig's status; runs under the leader beside the controllers, only while a PlatformConfig
/// `default` exists. Each crossing is announced once: the status records it before the Event and notification go
/// (a write refused as stale (409) announces nothing and the next period tries again from the fresh object).
public struct GPUAccountant: Sendable {
    public struct Keys: Sendable { public var pods, platformConfigs: SharedInformers.Key }

    /// What accounting and idle detection read of pods.
    static let podFields: FieldMask = .object(keys: [
        "metadata": .keys("name", "namespace", "labels", "ownerReferences"),
        "spec": .object(keys: ["nodeName": .all, "containers": .elements(.keys("resources"))]),
        "status": .keys("phase", "startTime"),
    ])

    public static func declare(into requests: inout InformerRequests, source: SourceFactory) -> Keys {
        Keys(pods: requests.request(source(.pods, true), fields: podFields, packing: TrainingJobWatches.podPacking), platformConfigs: requests.request(source(.platformConfigs, false)))
    }

    let client: KubeClient
    let pods: Store
    let platformConfigs: Store
    let events: EventRecorder
    let notifier: Notifier
    let clock: any RuntimeClock
    let factory: any MetricsFactory
    /// Queries a Prometheus server (libcurl, outside the API server); nil when libcurl could not start.
    let prometheus: WebhookPoster?
    let logger = Logger(label: "gantry.gpu-accounting")

    public init(client: KubeClient, _ shared: SharedInformers, _ keys: Keys, events: EventRecorder, notifier: Notifier,
                clock: any RuntimeClock, factory: any MetricsFactory = MetricsSystem.factory) throws {
        guard let pods = shared[keys.pods]?.store else { throw InformerError.undeclared(keys.pods.description) }
        guard let platformConfigs = shared[keys.platformConfigs]?.store else { throw InformerError.undeclared(keys.platformConfigs.description) }
        self.client = client
        self.pods = pods
        self.platformConfigs = platformConfigs
        self.events = events
        self.notifier = notifier
        self.clock = clock
        self.factory = factory
        prometheus = try? WebhookPoster(userAgent: "gantry/0.1 (linux) idle-gpu-check")
    }

    /// Accounts and checks until cancelled, then removes its gauges.
    public func run() async {
        await pods.waitUntilSynced()
        await platformConfigs.waitUntilSynced()
        var gauges = BudgetGauges(factory: factory)
        var last: (account: Duration?, check: Duration?) = (nil, nil)
        var written: (replaced: String?, object: JSONValue)?
        while !Task.isCancelled {
            // Settings are read each time round: a shorter period set in the PlatformConfig applies within 5 s.
            var wait: Duration = .seconds(5)
            if var object = await platformConfigs.get(ObjectKey(namespace: nil, name: PlatformConfigSpec.singletonName)) {
                // The cache may not show our last write yet: continue from what we wrote, not from before it.
                if let written, object.resourceVersion == written.replaced { object = written.object }
                let spec = (try? (object["spec"] ?? .emptyObject).decode(PlatformConfigSpec.self)) ?? PlatformConfigSpec()
                let now = clock.now
                let accounting = Duration.seconds(spec.budgets?.effectiveAccountingPeriodSeconds ?? 60)
                let checking = spec.idleGPUs.map { Duration.seconds($0.effectiveCheckPeriodSeconds) }
                func due(_ at: Duration?, _ period: Duration) -> Duration { at.map { max(.zero, $0 + period - now) } ?? .zero }
                let checkIdle = checking.map { due(last.check, $0) == .zero } ?? false
                if due(last.account, accounting) == .zero || checkIdle {
                    last.account = now
                    if checkIdle { last.check = now }
                    if let (result, holding) = await account(object, spec: spec, checkIdle: checkIdle) {
                        written = (object.resourceVersion, result)
                        gauges.publish(result, spec: spec, holding: holding)
                    }
                }
                wait = min(wait, due(last.account, accounting), checking.map { due(last.check, $0) } ?? wait)
            } else {
                gauges.clear()
            }
            guard (try? await clock.sleep(for: max(wait, .milliseconds(100)))) != nil else { break }
        }
        gauges.clear()
    }

    /// One accounting (and idle check when due): the status written, or nil when the write failed.
    func account(_ object: JSONValue, spec: PlatformConfigSpec, checkIdle: Bool) async -> (JSONValue, [GPUPod])? {
        let now = clock.wallNow
        let status: PlatformConfigStatus
        do {
            status = try (object["status"] ?? .emptyObject).decode(PlatformConfigStatus.self)
        } catch {
            // Never overwrite a status that does not decode: the month's figures would be lost.
            logger.error("the PlatformConfig's status does not decode; GPU-hours are not counted", metadata: ["error": "\(error)"])
            return nil
        }
        // Finished pods hold no GPU: packed ones (finished, by the packing this reader declared) are skipped unread.
        let holding = GPUPod.holding(await pods.list(includingSettled: false), gpu: spec.effectiveGPU)
        var (next, notices) = GPUAccounting.advance(status, pods: holding, spec: spec, now: now)
        var newlyIdle: [IdleGPUPod] = []
        if let settings = spec.idleGPUs {
            if checkIdle {
                let read = if let prometheus = settings.prometheus { await readings(holding, from: prometheus) } else {
                    await readings(holding, source: settings.effectivePodMetrics)
                }
                let result = IdleGPUTracking.check(previous: status.idleGPUs ?? [], pods: holding, readings: read, settings: settings, now: now)
                next.idleGPUs = result.idleGPUs.isEmpty ? nil : result.idleGPUs
                next.utilization = result.utilization.isEmpty ? nil : result.utilization
                newlyIdle = result.newlyIdle
            }
        } else {
            next.idleGPUs = nil
            next.utilization = nil
        }
        var updated = object
        do {
            updated["status"] = try JSONValue(encoding: next).droppingNulls()
            if updated != object { updated = try await client.updateStatus(.platformConfigs, updated) }
        } catch {
            logger.info("GPU-hours not written this period; counted again from the stored status next period", metadata: ["error": "\(error)"])
            return nil
        }
        for notice in notices {
            await events.record(regarding: updated, type: "Warning", reason: notice.reason, note: notice.note, action: "Account")
            notifier.send(updated, PlannedEvent(.warning, notice.reason, notice.note))
        }
        for pod in newlyIdle {
            let note = IdleGPUTracking.note(pod, settings: spec.idleGPUs ?? IdleGPUSettings())
            guard let owner = holding.first(where: { $0.namespace == pod.namespace && $0.name == pod.pod }).map(Self.regarding) else { continue }
            await events.record(regarding: owner, type: "Warning", reason: IdleGPUTracking.reason, note: note, action: "CheckUtilization")
            notifier.send(owner, PlannedEvent(.warning, IdleGPUTracking.reason, note))
        }
        return (updated, holding)
    }

    /// The per-GPU utilisation of each pod that answered, by `namespace/name`; a pod that did not is left out
    /// (logged), so its idle state is kept as it was.
    func readings(_ holding: [GPUPod], source: PodMetricsSource) async -> [String: [Double]] {
        guard let selector = PrometheusSelector(source.effectiveMetric) else { return [:] }
        var result: [String: [Double]] = [:]
        for pod in holding {
            do {
                let response = try await client.proxy(.pods, namespace: pod.namespace, name: pod.name, port: String(source.effectivePort), path: source.effectivePath)
                let values = PrometheusText.values(selector, in: response.bodyText)
                guard response.status == 200, !values.isEmpty else {
                    logger.debug("no GPU utilisation from a pod", metadata: ["pod": "\(pod.namespace)/\(pod.name)", "status": "\(response.status)"])
                    continue
                }
                result["\(pod.namespace)/\(pod.name)"] = values
            } catch {
                logger.debug("GPU utilisation not readable", metadata: ["pod": "\(pod.namespace)/\(pod.name)", "error": "\(error)"])
            }
        }
        return result
    }

    /// The per-GPU utilisation of the pods holding GPUs, from one Prometheus query; a failed query reads nothing
    /// (every pod keeps its state) and is logged as a warning, since it blinds the whole check.
    func readings(_ holding: [GPUPod], from source: PrometheusSource) async -> [String: [Double]] {
        guard let prometheus else { return [:] }
        do {
            let all = try PrometheusQuery.readings(try await PrometheusQuery.run(source.effectiveQuery, base: source.url, with: prometheus))
            let wanted = Set(holding.map { "\($0.namespace)/\($0.name)" })
            return all.filter { wanted.contains($0.key) }
        } catch {
            logger.warning("GPU utilisation not read from Prometheus", metadata: ["url": "\(source.url)", "error": "\(error)"])
            return [:]
        }
    }

    /// The owner of an idle pod (the TrainingJob, Notebook or InferenceService) as the Event's `regarding`; the
    /// pod itself when it has no controller.
    static func regarding(_ pod: GPUPod) -> JSONValue {
        var object: JSONValue = ["kind": .string(pod.owner?.kind ?? "Pod"), "apiVersion": .string(pod.owner?.apiVersion ?? "v1"),
                                 "metadata": ["name": .string(pod.owner?.name ?? pod.name), "namespace": .string(pod.namespace)]]
        if let uid = pod.owner?.uid { object[path: "metadata", "uid"] = .string(uid) }
        return object
    }
}
