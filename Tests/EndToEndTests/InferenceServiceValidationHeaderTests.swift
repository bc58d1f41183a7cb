import Foundation
import Testing
import GantryAPI
import GantryTestSupport
import KubeCore

/// rollout.validation.requests[].headers through the real path: kubectl applies the guide's validation block, the
/// operator sends its requests with their headers through the API server's service proxy over libcurl, and the
/// simulated model server answers 200 only to a request carrying the key it asks for (issue #10).
@Suite(.serialized) struct InferenceServiceValidationHeaderTests {
    typealias IS = InferenceServiceTests

    /// The first block under "Validation before the swap" in docs/inferenceservice.md (a `rollout:` under spec).
    static func guideValidation() throws -> String {
        let shown = try guideBlock("inferenceservice.md", under: "## Validation before the swap")
        guard shown.hasPrefix("  rollout:\n"), shown.contains("name: X-Api-Key") else {
            throw TestFailure("the first block under Validation before the swap is not a rollout with an X-Api-Key header: \(shown)")
        }
        return shown
    }

    /// A server answering the guide's request as it expects, but only to one carrying every header of `requires`
    /// (anything else gets 401), validated by the guide's block.
    static func keyed(image: String, requires: String) throws -> String {
        let script = #"{readyAfter: 1s, http: {"/v1/models/sentiment:predict": [{status: 401, body: "missing credentials"}, "#
            + #"{ifHeaders: \#(requires), body: {predictions: [{label: positive, score: 0.93}]}}]}}"#
        return """
            apiVersion: gantry.dev/v1alpha1
            kind: InferenceService
            metadata: {name: sentiment, namespace: default}
            spec:
              image: \(image)
              replicas: 1
              podMetadata:
                annotations:
                  sim.gantry.dev/script: '\(script)'

            """ + (try guideValidation())
    }

    @Test func theKeyTheGuideSendsGetsTheCandidateSwappedInAndAMissingHeaderFailsIt() async throws {
        try await withOperator { h in
            let key = "{X-Api-Key: validation-key}"
            _ = try await h.kubectl("apply", "-f", "-", stdin: try Self.keyed(image: "acme/sentiment-serving:1", requires: key))
            #expect(try await eventually(timeout: .seconds(60)) { try await IS.ready(h, "sentiment") })

            // The validation request carries X-Api-Key: the candidate answers 200 and is swapped in.
            _ = try await h.kubectl("apply", "-f", "-", stdin: try Self.keyed(image: "acme/sentiment-serving:2", requires: key))
            #expect(try await eventually(timeout: .seconds(60)) { try await IS.selectedColor(h, "sentiment") == "green" })
            #expect(try await IS.status(h, "sentiment")[path: "activeRevision", "image"] == "acme/sentiment-serving:2")

            // A server that also wants X-Tenant, which the validation does not send: 401, the candidate fails and
            // green keeps serving.
            let both = "{X-Api-Key: validation-key, X-Tenant: acme}"
            _ = try await h.kubectl("apply", "-f", "-", stdin: try Self.keyed(image: "acme/sentiment-serving:3", requires: both))
            #expect(try await eventually(timeout: .seconds(60)) { try await IS.status(h, "sentiment")[path: "candidate", "phase"] == "Failed" })
            let status = try await IS.status(h, "sentiment")
            let validation = try #require(status[path: "candidate", "validation"])
            #expect(validation["passed"] == false, "\(validation)")
            let result = try #require(validation["results"]?.arrayValue?.first)
            #expect(result["request"] == "POST /v1/models/sentiment:predict" && result["code"] == 401 && result["passed"] == false, "\(result)")
            #expect(result["message"] == "status 401, expected 200", "\(result)")
            #expect(IS.condition(status, "Progressing")?["reason"] == "ValidationFailed")
            #expect(status["activeColor"] == "green")
            #expect(try await IS.selectedColor(h, "sentiment") == "green")
        }
    }

    /// Headers the API server consumes are refused at admission, naming the field and why; nothing is created.
    @Test func aHeaderTheProxyWouldNotPassOnIsRefusedNamingTheField() async throws {
        let cases = [
            ("{name: Authorization, value: Bearer abc}", "Authorization never reaches the model server"),
            ("{name: impersonate-user, value: admin}", "Impersonate-* headers ask the API server to act as another user"),
            ("{name: Transfer-Encoding, value: chunked}", "are hop-by-hop and Host and Content-Length are set by the proxy"),
            ("{name: X Api Key, value: k}", "name must be an HTTP header name"),
            (#"{name: X-Api-Key, value: "k\r\nX-Injected: 1"}"#, "value must not contain control characters"),
        ]
        try await withOperator { h in
            for (header, why) in cases {
                let manifest = try Self.keyed(image: "acme/sentiment-serving:1", requires: "{X-Api-Key: k}")
                    .replacingOccurrences(of: "        - {name: X-Api-Key, value: validation-key}", with: "        - \(header)")
                #expect(manifest.contains(header), "the guide's header line moved: \(manifest)")
                let refused = await h.cluster.kubectl(args: ["apply", "-f", "-"], stdin: manifest)
                #expect(!refused.ok)
                #expect(refused.stderr.contains("spec.rollout.validation.requests[0].headers[0]") && refused.stderr.contains(why),
                        "\(header): \(refused.stderr)")
                #expect(try await h.get(.inferenceServices, "default", "sentiment") == nil)
            }
        }
    }
}
