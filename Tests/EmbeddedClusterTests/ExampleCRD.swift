import GantryTestSupport
import KubeCore

/// The CRD the custom-resource tests install: `<plural>.example.com`, namespaced, one version `v1` served and
/// stored, with a status subresource. `properties` is the YAML of its openAPIV3Schema's properties, written from
/// column 0; each test gives only the schema it is about.
enum ExampleCRD {
    static func yaml(plural: String, kind: String, properties: String) -> String {
        let indented = properties.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "" : String(repeating: " ", count: 10) + $0 }
            .joined(separator: "\n")
        return """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: \(plural).example.com}
            spec:
              group: example.com
              scope: Namespaced
              names: {plural: \(plural), singular: \(kind.lowercased()), kind: \(kind)}
              versions:
              - name: v1
                served: true
                storage: true
                subresources: {status: {}}
                schema:
                  openAPIV3Schema:
                    type: object
                    properties:
            \(indented)
            """
    }
}

extension TestCluster {
    /// The object stored at `path` with `edit` applied, as a PUT body (its resourceVersion pins the write).
    func edited(_ path: String, _ edit: (inout JSONValue) -> Void) async throws -> String {
        var object = try await json(path)
        edit(&object)
        return object.serialized()
    }
}
