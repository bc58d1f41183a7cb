import KubeCore

/// What a pod asks of a node, computed as the scheduler does
/// (k8s.io/component-helpers/resource.PodRequests): the sum over regular containers, then the entry-wise maximum
/// with each init container (init containers run one at a time before the others), plus `spec.overhead`.
/// Sidecar init containers (`restartPolicy: Always`) keep running, so they add to the sum instead.
/// A container with only `limits` for a resource requests that much (the API server defaults requests from limits).
enum PodRequests {
    static func containerRequests(_ container: JSONValue) -> ResourceList {
        let requests = ResourceList(json: container[path: "resources", "requests"])
        let limits = ResourceList(json: container[path: "resources", "limits"])
        return limits.merging(requests) { _, request in request }
    }

    static func of(_ pod: JSONValue) -> ResourceList {
        var sum: ResourceList = [:]
        for c in pod[path: "spec", "containers"]?.arrayValue ?? [] { sum = sum.adding(containerRequests(c)) }
        var initMax: ResourceList = [:]
        var sidecars: ResourceList = [:]
        for c in pod[path: "spec", "initContainers"]?.arrayValue ?? [] {
            let r = containerRequests(c)
            if c["restartPolicy"]?.stringValue == "Always" {
                sidecars = sidecars.adding(r)
                sum = sum.adding(r)
            } else {
                initMax = initMax.maxing(r.adding(sidecars))
            }
        }
        var total = sum.maxing(initMax)
        total = total.adding(ResourceList(json: pod[path: "spec", "overhead"]))
        return total.filter { $0.value > .zero }
    }
}
