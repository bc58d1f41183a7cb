import KubeCore

/// One node of a structural schema (apiextensions' `Structural`): the type skeleton plus its value validations.
/// Immutable and shared between requests, hence a final class with only `let`s.
final class SchemaNode: Sendable {
    enum Additional: Sendable {
        case allowed(Bool)
        case schema(SchemaNode)
    }

    let type: String?
    let nullable: Bool
    let format: String?
    let intOrString: Bool
    let preserveUnknownFields: Bool
    let embeddedResource: Bool
    let properties: [String: SchemaNode]
    let additionalProperties: Additional?
    let items: SchemaNode?
    let required: [String]
    let enumValues: [JSONValue]?
    let minimum: Double?
    let maximum: Double?
    let exclusiveMinimum: Bool
    let exclusiveMaximum: Bool
    let multipleOf: Double?
    let minLength: Int64?
    let maxLength: Int64?
    let pattern: CompiledPattern?
    let minItems: Int64?
    let maxItems: Int64?
    let minProperties: Int64?
    let maxProperties: Int64?
    let listType: String?
    let listMapKeys: [String]
    let allOf: [SchemaNode]
    let anyOf: [SchemaNode]
    let oneOf: [SchemaNode]
    let not: SchemaNode?
    let defaultValue: JSONValue?
    let rules: [ValidationRule]

    init(
        type: String?, nullable: Bool, format: String?, intOrString: Bool, preserveUnknownFields: Bool,
        embeddedResource: Bool, properties: [String: SchemaNode], additionalProperties: Additional?,
        items: SchemaNode?, required: [String], enumValues: [JSONValue]?, minimum: Double?, maximum: Double?,
        exclusiveMinimum: Bool, exclusiveMaximum: Bool, multipleOf: Double?, minLength: Int64?, maxLength: Int64?,
        pattern: CompiledPattern?, minItems: Int64?, maxItems: Int64?, minProperties: Int64?,
        maxProperties: Int64?, listType: String?, listMapKeys: [String], allOf: [SchemaNode],
        anyOf: [SchemaNode], oneOf: [SchemaNode], not: SchemaNode?, defaultValue: JSONValue?,
        rules: [ValidationRule]
    ) {
        self.type = type
        self.nullable = nullable
        self.format = format
        self.intOrString = intOrString
        self.preserveUnknownFields = preserveUnknownFields
        self.embeddedResource = embeddedResource
        self.properties = properties
        self.additionalProperties = additionalProperties
        self.items = items
        self.required = required
        self.enumValues = enumValues
        self.minimum = minimum
        self.maximum = maximum
        self.exclusiveMinimum = exclusiveMinimum
        self.exclusiveMaximum = exclusiveMaximum
        self.multipleOf = multipleOf
        self.minLength = minLength
        self.maxLength = maxLength
        self.pattern = pattern
        self.minItems = minItems
        self.maxItems = maxItems
        self.minProperties = minProperties
        self.maxProperties = maxProperties
        self.listType = listType
        self.listMapKeys = listMapKeys
        self.allOf = allOf
        self.anyOf = anyOf
        self.oneOf = oneOf
        self.not = not
        self.defaultValue = defaultValue
        self.rules = rules
    }

    /// A copy carrying `rules` (rules are compiled against the finished node, so they come last).
    func with(rules: [ValidationRule]) -> SchemaNode {
        SchemaNode(
            type: type, nullable: nullable, format: format, intOrString: intOrString,
            preserveUnknownFields: preserveUnknownFields, embeddedResource: embeddedResource, properties: properties,
            additionalProperties: additionalProperties, items: items, required: required, enumValues: enumValues,
            minimum: minimum, maximum: maximum, exclusiveMinimum: exclusiveMinimum, exclusiveMaximum: exclusiveMaximum,
            multipleOf: multipleOf, minLength: minLength, maxLength: maxLength, pattern: pattern, minItems: minItems,
            maxItems: maxItems, minProperties: minProperties, maxProperties: maxProperties, listType: listType,
            listMapKeys: listMapKeys, allOf: allOf, anyOf: anyOf, oneOf: oneOf, not: not, defaultValue: defaultValue,
            rules: rules)
    }

    /// Whether this node or any node below it carries x-kubernetes-validations.
    var containsRules: Bool {
        !rules.isEmpty || properties.values.contains { $0.containsRules } || (additionalSchema?.containsRules ?? false)
            || (items?.containsRules ?? false)
    }

    /// The schema of a map value (`additionalProperties: {schema}`); `additionalProperties: true` has none.
    var additionalSchema: SchemaNode? {
        if case .schema(let s) = additionalProperties { return s }
        return nil
    }

    /// The type name kube-openapi reports and checks: int-or-string is `integer,string`
    /// (validation.go ConvertJSONSchemaProps sets `Type = {"integer", "string"}`).
    var typeNames: [String] {
        if intOrString { return ["integer", "string"] }
        if let type { return [type] }
        return []
    }

    /// The type CEL errors print as the bad value (`sts.Type`, empty for int-or-string).
    var celTypeName: String { type ?? "" }
}

/// A `pattern`, compiled once at schema load and shared by concurrent requests. `Regex<AnyRegexOutput>` is
/// not declared `Sendable` only because its output type is not; the regex itself is an immutable value whose
/// lazily lowered program is published atomically (string-processing's `Regex.Program`), so sharing it for
/// matching is safe.
struct CompiledPattern: @unchecked Sendable {
    let source: String
    let regex: Regex<AnyRegexOutput>

    /// Go's RE2 (which kube compiles patterns with) has no lookaround or backreferences: such patterns make
    /// kube reject the CRD, so they are refused here rather than honoured by Swift's richer engine.
    /// Matching runs on Unicode scalars with ASCII-only `\d \w \s`, as RE2 matches runes.
    init(_ source: String) throws {
        for unsupported in ["(?=", "(?!", "(?<=", "(?<!", "\\k<"] where source.contains(unsupported) {
            throw PatternError(message: "error parsing regexp: invalid or unsupported Perl syntax: `\(unsupported)`")
        }
        if source.contains(/\\[1-9]/) {
            throw PatternError(message: "error parsing regexp: invalid escape sequence (backreferences are not supported)")
        }
        self.source = source
        self.regex = try Regex(source).matchingSemantics(.unicodeScalar).asciiOnlyDigits().asciiOnlyWordCharacters()
            .asciiOnlyWhitespace()
    }

    struct PatternError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// Go's `regexp.MatchString`: unanchored search.
    func matches(_ s: String) -> Bool {
        (try? regex.firstMatch(in: s)) != nil
    }
}
