import KubeCore

/// Assembles apiextensions.k8s.io/v1 CustomResourceDefinitions for Gantry's kinds.
public enum CRDBuilder {
    public static func crd(kind: String, plural: String, singular: String, shortNames: [String], namespaced: Bool,
                           description: String, spec: JSONValue, status: JSONValue,
                           printerColumns: [(name: String, type: String, path: String, priority: Int)],
                           scale: (specReplicas: String, statusReplicas: String, labelSelector: String)? = nil) -> JSONValue {
        let schema = Schema.object(description, [
            "apiVersion": Schema.string("Versioned schema of this object."),
            "kind": Schema.string("Kind of this object."),
            "metadata": ["type": "object"],
            "spec": spec,
            "status": status,
        ], required: ["spec"])
        let columns: [JSONValue] = printerColumns.map { c in
            var v: JSONValue = ["name": .string(c.name), "type": .string(c.type), "jsonPath": .string(c.path)]
            if c.priority > 0 { v["priority"] = .int(Int64(c.priority)) }
            return v
        }
        return [
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": ["name": .string("\(plural).\(GantryGroup.name)"),
                         "labels": ["app.kubernetes.io/name": "gantry", "app.kubernetes.io/part-of": "gantry"]],
            "spec": [
                "group": .string(GantryGroup.name),
                "scope": namespaced ? "Namespaced" : "Cluster",
                "names": [
                    "kind": .string(kind), "listKind": .string("\(kind)List"), "plural": .string(plural),
                    "singular": .string(singular), "shortNames": .array(shortNames.map(JSONValue.string)),
                    "categories": [.string(GantryGroup.category)],
                ],
                "versions": [[
                    "name": .string(GantryGroup.version), "served": true, "storage": true,
                    "schema": ["openAPIV3Schema": schema],
                    "subresources": subresources(scale),
                    "additionalPrinterColumns": .array(columns),
                ]],
            ],
        ]
    }

    /// `status`, and `scale` (`kubectl scale`, HorizontalPodAutoscaler) where the kind has replicas.
    static func subresources(_ scale: (specReplicas: String, statusReplicas: String, labelSelector: String)?) -> JSONValue {
        guard let scale else { return ["status": .emptyObject] }
        return ["status": .emptyObject, "scale": ["specReplicasPath": .string(scale.specReplicas), "statusReplicasPath": .string(scale.statusReplicas),
                                                 "labelSelectorPath": .string(scale.labelSelector)]]
    }

    /// Every CRD Gantry installs, in apply order.
    public static var all: [JSONValue] { [PlatformConfigSchema.crd, TrainingJobSchema.crd, InferenceServiceSchema.crd, NotebookSchema.crd, ExperimentSchema.crd] }
}
