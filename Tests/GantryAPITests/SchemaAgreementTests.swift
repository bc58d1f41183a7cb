import Testing
import KubeCore
@testable import GantryAPI

/// One source of truth: the CRD schemas are written in Swift next to the Codable types; these tests prove the
/// two agree field by field, in both directions.
@Suite struct SchemaAgreementTests {
    /// A value exercising every property of a schema (first enum value, minimum where bounded).
    static func sample(_ schema: JSONValue) -> JSONValue {
        if schema["x-kubernetes-preserve-unknown-fields"] == true { return ["anything": 1] }
        switch schema["type"]?.stringValue {
        case "object":
            if let additional = schema["additionalProperties"] { return ["key": sample(additional)] }
            return .object((schema["properties"]?.objectValue ?? [:]).mapValues(sample))
        case "array": return [sample(schema["items"] ?? .null)]
        case "string":
            if let first = schema["enum"]?.arrayValue?.first { return first }
            if schema["pattern"]?.stringValue?.contains("gb") == true { return "1g.10gb" }
            if schema["pattern"] != nil { return "1" }
            return "x"
        case "integer": return .int(max(1, schema["minimum"]?.intValue ?? 1))
        case "number": return .double(1.5)
        case "boolean": return true
        default: return .null
        }
    }

    /// Paths of optionals left nil after decoding a complete sample: fields Swift has and the schema lacks.
    static func nilPaths(_ value: Any, path: String = "") -> [String] {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let child = mirror.children.first else { return [path] }
            return nilPaths(child.value, path: path)
        }
        guard mirror.displayStyle == .struct else { return [] }
        return mirror.children.flatMap { child in nilPaths(child.value, path: path + "." + (child.label ?? "?")) }
    }

    func check<T: Codable>(_ type: T.Type, schema: JSONValue) throws {
        let full = Self.sample(schema)
        let decoded = try full.decode(T.self)
        let roundTrip = try JSONValue(encoding: decoded).droppingNulls()
        #expect(roundTrip == full, "schema fields the Swift type does not carry: compare \(roundTrip) with \(full)")
        #expect(Self.nilPaths(decoded).isEmpty, "Swift fields missing from the schema: \(Self.nilPaths(decoded))")
    }

    @Test func trainingJobSpecAgrees() throws { try check(TrainingJobSpec.self, schema: TrainingJobSchema.spec) }
    @Test func trainingJobStatusAgrees() throws { try check(TrainingJobStatus.self, schema: TrainingJobSchema.status) }
    @Test func inferenceServiceSpecAgrees() throws { try check(InferenceServiceSpec.self, schema: InferenceServiceSchema.spec) }
    @Test func inferenceServiceStatusAgrees() throws { try check(InferenceServiceStatus.self, schema: InferenceServiceSchema.status) }
    @Test func notebookSpecAgrees() throws { try check(NotebookSpec.self, schema: NotebookSchema.spec) }
    @Test func notebookStatusAgrees() throws { try check(NotebookStatus.self, schema: NotebookSchema.status) }
    @Test func experimentSpecAgrees() throws { try check(ExperimentSpec.self, schema: ExperimentSchema.spec) }
    @Test func experimentStatusAgrees() throws { try check(ExperimentStatus.self, schema: ExperimentSchema.status) }
    @Test func platformConfigSpecAgrees() throws { try check(PlatformConfigSpec.self, schema: PlatformConfigSchema.spec) }

    @Test func everySchemaNodeHasADescription() {
        func missing(_ schema: JSONValue, _ path: String) -> [String] {
            var out: [String] = []
            if schema["description"] == nil && path != "" { out.append(path) }
            for (k, v) in schema["properties"]?.objectValue ?? [:] { out += missing(v, path + "." + k) }
            if let items = schema["items"], items["type"]?.stringValue == "object" { out += missing(items, path + "[]") }
            return out
        }
        for crd in CRDBuilder.all {
            let spec = crd[path: "spec", "versions"]?.arrayValue?.first?[path: "schema", "openAPIV3Schema", "properties", "spec"] ?? .null
            #expect(missing(spec, "spec").isEmpty, "\(crd.name ?? ""): \(missing(spec, "spec"))")
        }
    }

    @Test func crdsCarryPrinterColumnsShortNamesAndCategory() throws {
        let crd = TrainingJobSchema.crd
        #expect(crd[path: "spec", "names", "shortNames"] == ["gtj"])
        #expect(crd[path: "spec", "names", "categories"] == ["gantry"])
        let columns = crd[path: "spec", "versions"]?.arrayValue?.first?["additionalPrinterColumns"]?.arrayValue ?? []
        let names = columns.compactMap { $0["name"]?.stringValue }
        // BEST names its metric; QUEUE is the admission position (issue #8 item 8).
        #expect(Array(names.prefix(6)) == ["Phase", "Ready", "GPUs", "Metric", "Best", "Queue"])
        #expect(crd[path: "spec", "versions"]?.arrayValue?.first?[path: "subresources", "status"] == .emptyObject)
    }
}
