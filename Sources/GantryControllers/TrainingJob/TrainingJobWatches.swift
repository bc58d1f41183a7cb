import Foundation
import GantryAPI
import KubeCore
import KubeRuntime

/// What the TrainingJob controller watches, and which fields of each kind it reads: the store of a shared
/// informer keeps the union of what its readers declare here, so a field read but not declared reads nothing.
public enum TrainingJobWatches {
    /// Pods: identity, labels, owner, the node, the containers' resources (admission counts the GPUs that the
    /// other kinds' pods hold), and status phase, the conditions the planner reads and the container facts it keeps
    /// in status (budget: docs/benchmarks.md). Gantry's own annotations only: others can be large (scripts,
    /// sidecar configs).
    public static let podFields: FieldMask = .object(keys: [
        "metadata": .object(keys: ["name": .all, "namespace": .all, "uid": .all, "resourceVersion": .all, "labels": .all,
                                   "ownerReferences": .all, "deletionTimestamp": .all, "creationTimestamp": .all,
                                   "annotations": .object(keys: [:], prefixes: ["gantry.dev/": .all])]),
        "spec": .object(keys: ["nodeName": .all, "containers": .elements(.keys("resources"))]),
        "status": .object(keys: [
            "phase": .all, "reason": .all, "message": .all,
            // Without timestamps and probe times: half the cost of a Pod.
            "conditions": .elements(.keys("type", "status", "reason", "message"), filterKey: "type",
                                    values: ["Ready", "PodScheduled", "DisruptionTarget"]),
            "containerStatuses": .elements(.object(keys: [
                "name": .all, "imageID": .all,
                "state": .object(keys: ["terminated": .keys("exitCode", "reason", "message"), "waiting": .keys("reason", "message")]),
            ])),
        ]),
    ])

    /// ConfigMaps (records, hostfiles): presence is what the reconciler checks; data is never read from the cache.
    public static let configMapFields: FieldMask = .keys("metadata")

    /// Finished pods hold no GPU and are read only by their own job's reconcile: the store may keep them packed,
    /// and admission skips them unread (`list(includingSettled: false)`).
    public static let podPacking: Store.Packing = { pod in
        let phase = pod[path: "status", "phase"]?.stringValue
        return phase == "Succeeded" || phase == "Failed"
    }

    /// Finished jobs compete for nothing: packed, and skipped unread by admission and the dataset-cache sweep.
    public static let trainingJobPacking: Store.Packing = { job in
        job[path: "status", "phase"]?.stringValue.flatMap(TrainingJobStatus.Phase.init(rawValue:))?.isFinished == true
    }

    /// ConfigMaps (records, hostfiles) are only checked for presence (`Store.contains`): all packed.
    public static let configMapPacking: Store.Packing = { _ in true }

    /// Nodes: what admission and validation read (labels, taints, capacity, readiness), not heartbeats or images.
    public static let nodeFields: FieldMask = .object(keys: [
        "metadata": .keys("name", "labels", "resourceVersion"),
        "spec": .keys("taints", "unschedulable"),
        "status": .keys("allocatable", "capacity", "conditions"),
    ])

    /// How long pod events of a job are gathered before it is reconciled (upstream's `syncJobBatchPeriod`).
    public static let podBatchPeriod: Duration = .seconds(1)

    /// Declares the informers this controller reads.
    public static func declare(into requests: inout InformerRequests, source: SourceFactory) -> OperatorCaches.Keys {
        OperatorCaches.Keys(
            trainingJobs: requests.request(source(.trainingJobs, false), packing: trainingJobPacking),
            pods: requests.request(source(.pods, true), fields: podFields, packing: podPacking),
            services: requests.request(source(.services, true)),
            configMaps: requests.request(source(.configMaps, true), fields: configMapFields, packing: configMapPacking),
            nodes: requests.request(source(.nodes, false), fields: nodeFields),
            platformConfigs: requests.request(source(.platformConfigs, false)),
            daemonSets: requests.request(source(.daemonSets, true)))
    }

    /// The controller's watches over the shared informers: its own kind, its owned children, records (no owner:
    /// their annotation names the job), dataset caches (shared by the jobs of a dataset), and the nodes and
    /// platform config every admission decision depends on.
    public static func watches(_ informers: SharedInformers, _ keys: OperatorCaches.Keys, caches: OperatorCaches,
                               admission: AdmissionLedger) throws -> [WatchSpec] {
        func informer(_ key: SharedInformers.Key) throws -> Informer {
            guard let informer = informers[key] else { throw InformerError.undeclared(key.description) }
            return informer
        }
        return [
            WatchSpec(informer: try informer(keys.trainingJobs)) { event in
                await admission.observe(event)
                // Its own status write needs no reconcile: the one that wrote it acted on it already, and the
                // pods it created wake the next (API economy: docs/benchmarks.md).
                return event.isStatusOnlyUpdate ? [] : [event.object.objectKey]
            },
            // Pod events in batches, as the Job controller does: replicas starting one after another make one
            // status write. Queued jobs do not wait on it: they recheck admission on their own timer.
            WatchSpec.owned(try informer(keys.pods), ownerKind: "TrainingJob", ownerGroup: GantryGroup.name)
                .batched(podBatchPeriod),
            .owned(try informer(keys.services), ownerKind: "TrainingJob", ownerGroup: GantryGroup.name),
            WatchSpec(informer: try informer(keys.configMaps)) { event in
                guard let job = event.object.annotations[GantryLabels.trainingJob] ?? event.object.labels[GantryLabels.trainingJob] else { return [] }
                return [ObjectKey(namespace: event.object.namespace, name: job)]
            },
            WatchSpec(informer: try informer(keys.daemonSets)) { event in
                guard let uri = event.object.annotations[DatasetCache.uriAnnotation], let ns = event.object.namespace else { return [] }
                return await caches.trainingJobs.list(namespace: ns).filter { $0[path: "spec", "dataset", "uri"]?.stringValue == uri }.map(\.objectKey)
            },
            WatchSpec(informer: try informer(keys.nodes)) { event in
                await admission.observeNode(event)
                return []
            },
            // Only a change of what admission reads requeues every job: the GPU-hours the status counts move on
            // every accounting period.
            WatchSpec(informer: try informer(keys.platformConfigs)) { event in
                guard await admission.observePlatform(event, now: Date().timeIntervalSince1970) else { return [] }
                return await caches.trainingJobs.keys
            },
        ]
    }
}
