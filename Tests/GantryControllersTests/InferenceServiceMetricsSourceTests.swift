import Foundation
import Testing
import GantryAPI
import KubeCore
import KubeRuntime
@testable import GantryControllers

/// Pure parts of reading Prometheus for an InferenceService (the end-to-end behaviour with a real Prometheus is in
/// InferenceServicePrometheusTests), the validation pod's securityContext and the disruption budget.
@Suite struct InferenceServiceMetricsSourceTests {
    let planning = InferenceServicePlannerTests()
    static let start = InferenceServicePlannerTests.start

    @Test func anInstantQueryAnswersItsSamplesOrAScalarAndARefusalNamesPrometheusError() throws {
        let vector = try JSONValue.parse(#"""
            {"status":"success","data":{"resultType":"vector","result":[
              {"metric":{"code":"200"},"value":[1700000000.1,"70"]},{"metric":{"code":"500"},"value":[1700000000.1,"30"]},
              {"metric":{"code":"503"},"value":[1700000000.1,"NaN"]}]}}
            """#)
        #expect(try PrometheusQuery.values(vector) == [70, 30])
        #expect(try PrometheusQuery.values(["status": "success", "data": ["resultType": "vector", "result": []]]) == [])
        #expect(try PrometheusQuery.values(["status": "success", "data": ["resultType": "scalar", "result": [1, "4.5"]]]) == [4.5])
        #expect(throws: PrometheusQuery.Failure.self) { try PrometheusQuery.values(["status": "success", "data": ["resultType": "matrix", "result": []]]) }
        do {
            _ = try PrometheusQuery.values(["status": "error", "errorType": "bad_data", "error": "parse error at char 5"])
            Issue.record("a refused query must throw")
        } catch {
            #expect("\(error)".contains("parse error at char 5"))
        }
    }

    @Test func placeholdersAreFilledForTheRevisionRead() {
        let query = #"sum(http_requests_total{namespace="{{namespace}}", svc="{{name}}", gantry_dev_revision="{{revision}}", color="{{color}}"})"#
        #expect(PrometheusTemplate.expand(query, namespace: "team", name: "ranker", revision: "1x9k2f7a", color: "green")
                == #"sum(http_requests_total{namespace="team", svc="ranker", gantry_dev_revision="1x9k2f7a", color="green"})"#)
        #expect(PrometheusTemplate.expand("up{x=\"{{revision}}\"}", namespace: "n", name: "s", revision: nil, color: nil) == "up{x=\"\"}")
    }

    static let prometheusAnalysis: JSONValue = ["scaleDownDelaySeconds": 60, "analysis": [
        "source": "Prometheus", "windowSeconds": 30, "requestsQuery": "sum(r)", "errorsQuery": "sum(e)",
    ]]

    @Test func aSpecReadingPrometheusSaysWhereTheURLGoesUntilThePlatformNamesOne() throws {
        let service = try planning.service(image: "m:1", rollout: Self.prometheusAnalysis)
        let missing = planning.plan(service, pods: [], at: Self.start)
        let condition = try #require(missing.status.conditions?[type: "MetricsConfigured"])
        #expect(condition.status == .false && condition.reason == "PrometheusURLMissing" && condition.observedGeneration == 1)
        #expect(condition.message.contains(#"spec.rollout.analysis (source Prometheus) is read from Prometheus, but PlatformConfig "default" spec.prometheus.url is not set"#),
                "\(condition.message)")

        var platform = PlatformConfigSpec()
        platform.prometheus = PrometheusEndpoint(url: "http://prometheus.monitoring:9090")
        let set = planning.plan(service, pods: [], inputs: .init(platform: platform), at: Self.start)
        #expect(set.status.conditions?[type: "MetricsConfigured"]?.status == .true)
        #expect(set.status.conditions?[type: "MetricsConfigured"]?.message == "spec.rollout.analysis (source Prometheus) read from http://prometheus.monitoring:9090")

        // A spec that reads only its pods has no such condition.
        let pods = planning.plan(try planning.service(image: "m:1"), pods: [], inputs: .init(platform: platform), at: Self.start)
        #expect(pods.status.conditions?[type: "MetricsConfigured"] == nil)
    }

    @Test func aWindowWithoutASingleReadingIsInconclusiveNotPassed() throws {
        let first = planning.plan(try planning.service(image: "m:1", rollout: Self.prometheusAnalysis), pods: [], at: Self.start)
        let active = try #require(first.status.activeRevision)
        var status = first.status
        var record = AnalysisStatus(revision: active.hash, from: "0previous", phase: .running, startedAt: Timestamp.format(Self.start),
                                    until: Timestamp.format(Self.start.addingTimeInterval(30)))
        record.message = "spec.rollout.analysis.requestsQuery sum(r) answered no sample"
        status.analysis = record
        let blue = planning.readyPods(first, now: Self.start)
        let ended = planning.plan(try planning.service(image: "m:1", rollout: Self.prometheusAnalysis, status: status), pods: blue,
                                  inputs: .init(platform: PlatformConfigSpec(), analysis: .failure(.init(message: "still no sample"))),
                                  at: Self.start.addingTimeInterval(31))
        #expect(ended.status.analysis?.phase == .inconclusive)
        #expect(ended.status.analysis?.message?.hasPrefix("no reading in 30s: still no sample") == true, "\(ended.status.analysis?.message ?? "")")
        #expect(ended.events.contains { $0.reason == "AnalysisInconclusive" && $0.type == .warning })
        #expect(ended.status.activeRevision?.hash == active.hash, "nothing is swapped on missing data")
    }

    static let job = ValidationJob(template: ["spec": ["containers": [
        ["name": "eval", "image": "eval:1"],
        ["name": "root", "image": "tool:1", "securityContext": ["runAsUser": 0, "allowPrivilegeEscalation": true]],
    ]]])

    @Test func theValidationPodIsRestrictedWhereItsTemplateSaysNothing() throws {
        let service = try planning.service(image: "m:1")
        let revision = InferenceChildren.revision(service, color: .green)
        let pod = InferenceChildren.validationPod(service, revision, Self.job, security: .restricted).json
        #expect(pod[path: "spec", "securityContext"] == ["runAsNonRoot": true, "seccompProfile": ["type": "RuntimeDefault"]])
        let containers = pod[path: "spec", "containers"]?.arrayValue ?? []
        #expect(containers.first?["securityContext"] == ["allowPrivilegeEscalation": false, "capabilities": ["drop": ["ALL"]]])
        // The template's own fields win; what it leaves unset is still filled.
        #expect(containers.last?["securityContext"] == ["runAsUser": 0, "allowPrivilegeEscalation": true, "capabilities": ["drop": ["ALL"]]])

        var template = Self.job
        template.template[path: "spec", "securityContext"] = ["runAsNonRoot": false, "fsGroup": 100]
        let own = InferenceChildren.validationPod(service, revision, template, security: .restricted).json
        #expect(own[path: "spec", "securityContext"] == ["runAsNonRoot": false, "fsGroup": 100, "seccompProfile": ["type": "RuntimeDefault"]])

        // PlatformConfig podPolicy.securityContext None: Gantry sets nothing.
        let none = InferenceChildren.validationPod(service, revision, Self.job, security: .none).json
        #expect(none[path: "spec", "securityContext"] == nil && none[path: "spec", "containers"]?.arrayValue?.first?["securityContext"] == nil)
    }

    @Test func theBudgetKeepsAllButOneServingReplicaAsACountOfPods() throws {
        let service = try planning.service(image: "m:1")
        let budget = InferenceChildren.disruptionBudget(service, color: .blue, replicas: 3)
        #expect(budget.spec.minAvailable == 2 && budget.spec.maxUnavailable == .null)
        #expect(InferenceChildren.disruptionBudget(service, color: .blue, replicas: 1).spec.minAvailable == 0)
        #expect(InferenceChildren.disruptionBudget(service, color: .blue, replicas: 0).spec.minAvailable == 0)
    }
}
