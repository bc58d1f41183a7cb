@testable import EmbeddedCluster
import KubeCore

extension FuzzEntry {
    /// A pod's container-script annotation (JSON, YAML flow or block YAML); the curve expressions it holds are
    /// evaluated against an environment, as the simulated kubelet does when it writes the log.
    public static let containerScript = FuzzEntry(name: "ContainerScript") { bytes in
        outcome {
            let script = try PodScript.parse(bytes.text)
            let env = ["HP_LR": "0.01", "HP_BATCH": "64"]
            for container in [script.all].compactMap({ $0 }) + script.perContainer.values {
                for case .series(let series) in container.logs {
                    for curve in series.curves.values { _ = curve.resolved(env) }
                }
            }
        }
    }

    /// The schema the CEL target's rules sit on: a few fields of each type, so field references type-check.
    private static let celSchema: JSONValue = [
        "type": "object",
        "properties": [
            "name": ["type": "string"],
            "replicas": ["type": "integer"],
            "ratio": ["type": "number"],
            "enabled": ["type": "boolean"],
            "tags": ["type": "array", "items": ["type": "string"]],
            "labels": ["type": "object", "additionalProperties": ["type": "string"]],
        ],
    ]

    /// One `x-kubernetes-validations` rule as a CRD brings it: lexed, parsed, type-checked against the schema
    /// above and its `matches` patterns compiled (what the API server does when the CRD is created).
    public static let cel = FuzzEntry(name: "CEL") { bytes in
        outcome {
            // Loaded per input, not kept in a global: LeakSanitizer cannot follow a pointer stored in a Swift
            // multi-payload enum (`additionalProperties`), so a node alive at exit reads as a leak.
            let node = try SchemaLoader.load(celSchema)
            // A message, so that a rule with line breaks (comments) is parsed rather than refused for lacking one.
            _ = try ValidationRule.parse(.object(["rule": .string(bytes.text), "message": "fuzzed rule"]), path: "rule", node: node,
                                         isRoot: false, uncorrelatable: nil)
        }
    }
}
