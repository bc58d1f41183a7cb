import KubeCore
import Testing

@testable import EmbeddedCluster

/// Builds a schema from JSON text; the root wraps `spec` so paths read like real resources.
private func schema(_ specJSON: String, extra: String = "") throws -> StructuralSchema {
    let text = #"{"type":"object","properties":{"apiVersion":{"type":"string"},"kind":{"type":"string"},"metadata":{"type":"object"},"spec":"# + specJSON + "}" + extra + "}"
    return try StructuralSchema(json: try JSONValue.parse(text))
}

private func object(_ specJSON: String) throws -> JSONValue {
    try JSONValue.parse(#"{"apiVersion":"gantry.dev/v1","kind":"TrainingJob","metadata":{"name":"a"},"spec":"# + specJSON + "}")
}

private func only(_ errors: [FieldError]) -> FieldError? {
    errors.count == 1 ? errors[0] : nil
}

@Suite struct SchemaValidationTests {
    let replicas = #"{"type":"object","properties":{"replicas":{"type":"integer","minimum":1,"maximum":10}}}"#

    @Test func typeMismatchIsTypeInvalidWordedAsKube() throws {
        let e = only(try schema(replicas).validate(try object(#"{"replicas":"three"}"#)))
        #expect(e == FieldError(field: "spec.replicas", reason: "FieldValueTypeInvalid",
            message: #"Invalid value: "string": spec.replicas in body must be of type integer: "string""#))
    }

    @Test func minimumAndMaximum() throws {
        let s = try schema(replicas)
        #expect(only(s.validate(try object(#"{"replicas":0}"#))) == FieldError(field: "spec.replicas",
            reason: "FieldValueInvalid", message: "Invalid value: 0: spec.replicas in body should be greater than or equal to 1"))
        #expect(only(s.validate(try object(#"{"replicas":11}"#)))?.message
            == "Invalid value: 11: spec.replicas in body should be less than or equal to 10")
        #expect(s.validate(try object(#"{"replicas":10}"#)).isEmpty)
        #expect(s.validate(try object(#"{"replicas":1.0}"#)).isEmpty, "an integral float is an integer")
        #expect(only(s.validate(try object(#"{"replicas":1.5}"#)))?.message
            == #"Invalid value: "number": spec.replicas in body must be of type integer: "number""#)
    }

    @Test func exclusiveBoundsAndFloats() throws {
        let s = try schema(#"{"type":"object","properties":{"lr":{"type":"number","minimum":0,"exclusiveMinimum":true,"maximum":0.5,"exclusiveMaximum":true},"big":{"type":"number","maximum":1000000}}}"#)
        #expect(only(s.validate(try object(#"{"lr":0.0}"#)))?.message == "Invalid value: 0: spec.lr in body should be greater than 0")
        // kube's quirk: an integer value meets a number field's bound truncated to int64 (0.5 → 0).
        #expect(s.validate(try object(#"{"lr":0}"#)).map(\.message) == [
            "Invalid value: 0: spec.lr in body should be less than 0", "Invalid value: 0: spec.lr in body should be greater than 0",
        ])
        let i = try schema(#"{"type":"object","properties":{"n":{"type":"integer","minimum":0.5},"m":{"type":"integer","format":"int32"}}}"#)
        #expect(only(i.validate(try object(#"{"n":0}"#)))?.message == "Invalid value: 0: spec.n in body should be greater than or equal to 0.5")
        #expect(only(i.validate(try object(#"{"m":3000000000}"#))) == FieldError(field: "<nil>", reason: "FieldValueInvalid",
            message: #"Invalid value: "": Checked value must be of type integer with format int32 in spec.m"#))
        #expect(only(s.validate(try object(#"{"lr":0.5}"#)))?.message == "Invalid value: 0.5: spec.lr in body should be less than 0.5")
        #expect(only(s.validate(try object(#"{"big":2000000.5}"#)))?.message
            == "Invalid value: 2.0000005e+06: spec.big in body should be less than or equal to 1e+06")
        #expect(s.validate(try object(#"{"lr":0.25}"#)).isEmpty)
    }

    @Test func multipleOf() throws {
        let s = try schema(#"{"type":"object","properties":{"n":{"type":"integer","multipleOf":4},"f":{"type":"number","multipleOf":0.5}}}"#)
        #expect(only(s.validate(try object(#"{"n":6}"#)))?.message == "Invalid value: 6: spec.n in body should be a multiple of 4")
        #expect(only(s.validate(try object(#"{"f":0.3}"#)))?.message == "Invalid value: 0.3: spec.f in body should be a multiple of 0.5")
        #expect(s.validate(try object(#"{"n":8,"f":1.5}"#)).isEmpty)
    }

    @Test func stringLengthsAndPattern() throws {
        let s = try schema(#"{"type":"object","properties":{"name":{"type":"string","minLength":2,"maxLength":5,"pattern":"^[a-z]+$"}}}"#)
        #expect(only(s.validate(try object(#"{"name":"abcdef"}"#))) == FieldError(field: "spec.name",
            reason: "FieldValueTooLong", message: "Too long: may not be more than 5 bytes"))
        #expect(only(s.validate(try object(#"{"name":"a"}"#)))?.message
            == #"Invalid value: "a": spec.name in body should be at least 2 chars long"#)
        #expect(only(s.validate(try object(#"{"name":"AB"}"#)))?.message
            == #"Invalid value: "AB": spec.name in body should match '^[a-z]+$'"#)
        #expect(s.validate(try object(#"{"name":"éé"}"#)).count == 1, "lengths count runes; é is not [a-z]")
    }

    @Test func invalidPatternIsRejectedAtLoad() {
        do {
            _ = try schema(#"{"type":"string","pattern":"([a-z"}"#)
            Issue.record("expected an error")
        } catch let e as SchemaError {
            #expect(e.path == "openAPIV3Schema.properties[spec].pattern")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func patternsFollowRE2() throws {
        #expect(throws: SchemaError.self) { _ = try schema(#"{"type":"string","pattern":"^(?!x).*$"}"#) }
        #expect(throws: SchemaError.self) { _ = try schema(#"{"type":"string","pattern":"(a)\\1"}"#) }
        let s = try schema(#"{"type":"object","properties":{"d":{"type":"string","pattern":"^\\d+$"}}}"#)
        #expect(s.validate(try object(#"{"d":"42"}"#)).isEmpty)
        #expect(s.validate(try object(#"{"d":"٤٢"}"#)).count == 1, "RE2's \\d is ASCII only")
    }

    @Test func enumIsNotSupported() throws {
        let s = try schema(#"{"type":"object","properties":{"fw":{"type":"string","enum":["pytorch","jax"]},"n":{"type":"integer","enum":[1,2]}}}"#)
        #expect(only(s.validate(try object(#"{"fw":"tf"}"#))) == FieldError(field: "spec.fw",
            reason: "FieldValueNotSupported", message: #"Unsupported value: "tf": supported values: "pytorch", "jax""#))
        #expect(only(s.validate(try object(#"{"n":3}"#)))?.message == #"Unsupported value: 3: supported values: "1", "2""#)
        #expect(s.validate(try object(#"{"fw":"jax","n":2}"#)).isEmpty)
    }

    @Test func requiredFields() throws {
        let s = try schema(#"{"type":"object","required":["image"],"properties":{"image":{"type":"string"}}}"#,
            extra: #","required":["spec"]"#)
        #expect(only(s.validate(try object("{}"))) == FieldError(field: "spec.image", reason: "FieldValueRequired", message: "Required value"))
        let noSpec = try JSONValue.parse(#"{"apiVersion":"a/v1","kind":"K","metadata":{}}"#)
        #expect(only(s.validate(noSpec)) == FieldError(field: "spec", reason: "FieldValueRequired", message: "Required value"))
    }

    @Test func itemCounts() throws {
        let s = try schema(#"{"type":"object","properties":{"l":{"type":"array","minItems":1,"maxItems":2,"items":{"type":"string"}}}}"#)
        #expect(only(s.validate(try object(#"{"l":[]}"#)))?.message == "Invalid value: 0: spec.l in body should have at least 1 items")
        #expect(only(s.validate(try object(#"{"l":["a","b","c"]}"#))) == FieldError(field: "spec.l",
            reason: "FieldValueTooMany", message: "Too many: 3: must have at most 2 items"))
        #expect(only(s.validate(try object(#"{"l":["a",1]}"#)))?.field == "spec.l[1]")
    }

    @Test func propertyCounts() throws {
        let s = try schema(#"{"type":"object","properties":{"m":{"type":"object","minProperties":1,"maxProperties":2,"additionalProperties":{"type":"string"}}}}"#)
        #expect(only(s.validate(try object(#"{"m":{}}"#)))?.message == "Invalid value: 0: spec.m in body should have at least 1 properties")
        #expect(only(s.validate(try object(#"{"m":{"a":"1","b":"2","c":"3"}}"#)))?.message == "Too many: 3: must have at most 2 items")
        #expect(only(s.validate(try object(#"{"m":{"a":1}}"#)))?.message
            == #"Invalid value: "integer": spec.m.a in body must be of type string: "integer""#)
    }

    @Test func uniqueItemsIsForbiddenLikeV1CRDs() {
        #expect(throws: SchemaError.self) {
            _ = try schema(#"{"type":"array","uniqueItems":true,"items":{"type":"string"}}"#)
        }
    }

    @Test func listTypeSetAndMapDuplicates() throws {
        let s = try schema(#"{"type":"object","properties":{"tags":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string"}},"ports":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],"items":{"type":"object","required":["name"],"properties":{"name":{"type":"string"},"port":{"type":"integer"}}}}}}"#)
        #expect(s.validate(try object(#"{"tags":["a","b","a","a"]}"#)) == [
            FieldError(field: "spec.tags[2]", reason: "FieldValueDuplicate", message: #"Duplicate value: "a""#)
        ])
        #expect(s.validate(try object(#"{"ports":[{"name":"x","port":1},{"name":"x","port":2}]}"#)) == [
            FieldError(field: "spec.ports[1]", reason: "FieldValueDuplicate",
                message: #"Duplicate value: map[string]interface {}{"name":"x"}"#)
        ])
        #expect(s.validate(try object(#"{"tags":["a","b"],"ports":[{"name":"x"},{"name":"y"}]}"#)).isEmpty)
    }

    @Test func listMapNeedsKeyProperties() {
        #expect(throws: SchemaError.self) {
            _ = try schema(#"{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["id"],"items":{"type":"object","properties":{"name":{"type":"string"}}}}"#)
        }
    }

    @Test func listTypeRulesFromV1CRDValidation() {
        func path(_ json: String) -> String? {
            do {
                _ = try schema(json)
                return nil
            } catch let e as SchemaError {
                return e.path
            } catch {
                return "unexpected"
            }
        }
        let base = "openAPIV3Schema.properties[spec]"
        #expect(path(#"{"type":"array","x-kubernetes-list-type":"set","items":{"type":"object","properties":{"a":{"type":"string"}}}}"#)
            == base + ".items.x-kubernetes-map-type")
        #expect(path(#"{"type":"array","x-kubernetes-list-type":"set","items":{"type":"object","x-kubernetes-map-type":"atomic","properties":{"a":{"type":"string"}}}}"#) == nil)
        #expect(path(#"{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],"items":{"type":"object","properties":{"name":{"type":"string"}}}}"#)
            == base + ".items.properties[name].default")
        #expect(path(#"{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],"items":{"type":"object","properties":{"name":{"type":"string","default":"x"}}}}"#) == nil)
        #expect(path(#"{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string","nullable":true}}"#) == base + ".items.nullable")
        #expect(path(#"{"type":"string","x-kubernetes-list-type":"set"}"#) == base + ".type")
        #expect(path(#"{"type":"null"}"#) == base + ".type")
    }

    @Test func additionalPropertiesTrueBesideProperties() throws {
        let s = try schema(#"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":true}"#)
        #expect(s.validate(try object(#"{"a":"x","b":1}"#)).isEmpty)
        var o = try object(#"{"a":"x","b":1,"c":{"d":2}}"#)
        // No schema for the extra values: kube keeps scalars and prunes inside objects.
        #expect(s.prune(&o) == ["spec.c.d"])
        #expect(o["spec"] == ["a": "x", "b": 1, "c": [:]])
    }

    @Test func nullable() throws {
        let s = try schema(#"{"type":"object","properties":{"a":{"type":"string","nullable":true},"b":{"type":"string"}}}"#)
        #expect(s.validate(try object(#"{"a":null}"#)).isEmpty)
        #expect(only(s.validate(try object(#"{"b":null}"#)))?.message
            == #"Invalid value: "null": spec.b in body must be of type string: "null""#)
        // kube-openapi never matches null against an enum, even a nullable one listing null.
        let e = try schema(#"{"type":"object","properties":{"a":{"type":"string","nullable":true,"enum":["x",null]}}}"#)
        #expect(only(e.validate(try object(#"{"a":null}"#)))?.message == #"Unsupported value: "null": supported values: "x", "null""#)
    }

    @Test func intOrString() throws {
        let s = try schema(#"{"type":"object","properties":{"port":{"x-kubernetes-int-or-string":true}}}"#)
        #expect(s.validate(try object(#"{"port":8080}"#)).isEmpty)
        #expect(s.validate(try object(#"{"port":"http"}"#)).isEmpty)
        #expect(only(s.validate(try object(#"{"port":true}"#)))?.message
            == #"Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean""#)
    }

    @Test func controllerGenQuantityShape() throws {
        // What controller-gen emits for resource.Quantity / intstr.IntOrString fields.
        let s = try schema(#"""
        {"type":"object","properties":{"memory":{"anyOf":[{"type":"integer"},{"type":"string"}],
         "pattern":"^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$",
         "x-kubernetes-int-or-string":true}}}
        """#)
        #expect(s.validate(try object(#"{"memory":"16Gi"}"#)).isEmpty)
        #expect(s.validate(try object(#"{"memory":1024}"#)).isEmpty)
        #expect(only(s.validate(try object(#"{"memory":"lots"}"#)))?.reason == "FieldValueInvalid")
        #expect(s.validate(try object(#"{"memory":1.5}"#)).first?.reason == "FieldValueTypeInvalid")
    }

    @Test func formats() throws {
        let s = try schema(#"{"type":"object","properties":{"t":{"type":"string","format":"date-time"},"b":{"type":"string","format":"byte"},"n":{"type":"integer","format":"int32"},"x":{"type":"string","format":"whatever"}}}"#)
        #expect(s.validate(try object(#"{"t":"2026-12-01T13:00:00Z","b":"aGk=","n":5,"x":"?"}"#)).isEmpty)
        #expect(s.validate(try object(#"{"t":"2026-12-01T13:00:00.123+02:00"}"#)).isEmpty)
        #expect(only(s.validate(try object(#"{"t":"yesterday"}"#))) == FieldError(field: "spec.t",
            reason: "FieldValueTypeInvalid", message: #"Invalid value: "yesterday": spec.t in body must be of type date-time: "yesterday""#))
        #expect(only(s.validate(try object(#"{"b":"not base64!"}"#)))?.field == "spec.b")
    }

    @Test func embeddedResourceNeedsApiVersionAndKind() throws {
        let s = try schema(#"{"type":"object","properties":{"template":{"type":"object","x-kubernetes-embedded-resource":true,"x-kubernetes-preserve-unknown-fields":true}}}"#)
        #expect(s.validate(try object(#"{"template":{"apiVersion":"v1","kind":"Pod","spec":{}}}"#)).isEmpty)
        #expect(s.validate(try object(#"{"template":{"apiVersion":"v1"}}"#)) == [
            FieldError(field: "spec.template.kind", reason: "FieldValueRequired", message: "Required value")
        ])
        #expect(only(s.validate(try object(#"{"template":{"apiVersion":"","kind":"Pod"}}"#)))?.message
            == #"Invalid value: "": must not be empty"#)
    }

    @Test func junctors() throws {
        let s = try schema(#"{"type":"object","properties":{"a":{"type":"integer","anyOf":[{"minimum":10},{"maximum":0}]},"b":{"type":"string","not":{"enum":["x"]}},"c":{"type":"integer","allOf":[{"minimum":1},{"maximum":5}]},"d":{"type":"integer","oneOf":[{"minimum":1},{"minimum":2}]}}}"#)
        #expect(s.validate(try object(#"{"a":11,"b":"y","c":3,"d":1}"#)).isEmpty)
        let any = s.validate(try object(#"{"a":5}"#))
        #expect(any.first == FieldError(field: "<nil>", reason: "FieldValueInvalid",
            message: #"Invalid value: "": "spec.a" must validate at least one schema (anyOf)"#))
        #expect(any.count == 2)
        #expect(only(s.validate(try object(#"{"b":"x"}"#)))?.message
            == #"Invalid value: "": "spec.b" must not validate the schema (not)"#)
        let all = s.validate(try object(#"{"c":7}"#))
        #expect(all.map(\.message) == [
            "Invalid value: 7: spec.c in body should be less than or equal to 5",
            #"Invalid value: "": "spec.c" must validate all the schemas (allOf)"#,
        ])
        #expect(only(s.validate(try object(#"{"d":3}"#)))?.message
            == #"Invalid value: "": "spec.d" must validate one and only one schema (oneOf). Found 2 valid alternatives"#)
    }

    @Test func nonStructuralSchemasAreRejectedWithTheirPath() {
        func loadError(_ json: String) -> SchemaError? {
            do {
                _ = try StructuralSchema(json: try JSONValue.parse(json))
                return nil
            } catch let e as SchemaError {
                return e
            } catch {
                return nil
            }
        }
        #expect(loadError(#"{"type":"string"}"#)?.path == "openAPIV3Schema.type")
        #expect(loadError(#"{"type":"object","properties":{"spec":{"properties":{}}}}"#)?.path
            == "openAPIV3Schema.properties[spec].type")
        #expect(loadError(#"{"type":"object","properties":{"m":{"type":"object","properties":{},"additionalProperties":{"type":"string"}}}}"#)?.path
            == "openAPIV3Schema.properties[m].additionalProperties")
        #expect(loadError(#"{"type":"object","properties":{"a":{"type":"array"}}}"#)?.path == "openAPIV3Schema.properties[a].items")
        #expect(loadError(##"{"type":"object","properties":{"a":{"$ref":"#/x"}}}"##)?.path == "openAPIV3Schema.properties[a].$ref")
        #expect(loadError(#"{"type":"object","properties":{"a":{"type":"string","allOf":[{"type":"string"}]}}}"#)?.path
            == "openAPIV3Schema.properties[a].allOf[0].type")
        #expect(loadError(#"{"type":"object","properties":{"a":{"type":"integer","default":"x"}}}"#)?.path
            == "openAPIV3Schema.properties[a].default")
    }
}

@Suite struct SchemaDefaultingTests {
    let s: StructuralSchema

    init() throws {
        s = try schema(#"""
        {"type":"object","properties":{
          "replicas":{"type":"integer","default":1},
          "framework":{"type":"string","default":"pytorch"},
          "resources":{"type":"object","default":{},"properties":{"gpus":{"type":"integer","default":0}}},
          "tensorboard":{"type":"object","properties":{"logDir":{"type":"string","default":"/logs"}}},
          "workers":{"type":"array","items":{"type":"object","properties":{"image":{"type":"string","default":"busybox"}}}},
          "env":{"type":"object","additionalProperties":{"type":"object","properties":{"value":{"type":"string","default":"v"}}}},
          "note":{"type":"string","nullable":true,"default":"n"},
          "plain":{"type":"string"}
        }}
        """#)
    }

    @Test func defaultsApplyWhereTheParentExists() throws {
        var o = try object(#"{"workers":[{},{"image":"x"}],"env":{"A":{}}}"#)
        s.applyDefaults(to: &o)
        #expect(o["spec"] == (try JSONValue.parse(#"""
        {"replicas":1,"framework":"pytorch","resources":{"gpus":0},"workers":[{"image":"busybox"},{"image":"x"}],
         "env":{"A":{"value":"v"}},"note":"n"}
        """#)))
    }

    @Test func noDefaultsInsideAnAbsentObject() throws {
        var o = try JSONValue.parse(#"{"apiVersion":"a/v1","kind":"K","metadata":{}}"#)
        let before = o
        s.applyDefaults(to: &o)
        #expect(o == before, "spec is absent: nothing is created")
        var withSpec = try object("{}")
        s.applyDefaults(to: &withSpec)
        #expect(withSpec["spec"]?["tensorboard"] == nil, "tensorboard has no default, so logDir is not applied")
    }

    @Test func mapValueNullsGetTheValueDefault() throws {
        let m = try schema(#"{"type":"object","properties":{"env":{"type":"object","additionalProperties":{"type":"string","default":"unset"}}}}"#)
        var o = try object(#"{"env":{"A":null,"B":"b"}}"#)
        m.applyDefaults(to: &o)
        #expect(o["spec"]?["env"] == ["A": "unset", "B": "b"])
    }

    @Test func nullsOfNonNullableFields() throws {
        var o = try object(#"{"replicas":null,"plain":null,"note":null}"#)
        s.applyDefaults(to: &o)
        #expect(o["spec"]?["replicas"] == .int(1), "non-nullable null with a default gets the default")
        #expect(o["spec"]?["plain"] == nil, "non-nullable null without a default is dropped")
        #expect(o["spec"]?["note"] == .null, "nullable null stays null")
    }
}

@Suite struct SchemaPruningTests {
    @Test func unknownFieldsAreRemovedAndReported() throws {
        let s = try schema(#"{"type":"object","properties":{"a":{"type":"string"},"list":{"type":"array","items":{"type":"object","properties":{"x":{"type":"integer"}}}},"m":{"type":"object","additionalProperties":{"type":"object","properties":{"k":{"type":"string"}}}}}}"#)
        var o = try JSONValue.parse(#"{"apiVersion":"a/v1","kind":"K","metadata":{"name":"n","bogus":1},"spec":{"a":"x","foo":1,"list":[{"x":1,"y":2}],"m":{"e":{"k":"v","z":true}}},"status":{}}"#)
        let removed = s.prune(&o)
        #expect(removed == ["metadata.bogus", "spec.foo", "spec.list[0].y", "spec.m.e.z", "status"])
        #expect(o == (try JSONValue.parse(#"{"apiVersion":"a/v1","kind":"K","metadata":{"name":"n"},"spec":{"a":"x","list":[{"x":1}],"m":{"e":{"k":"v"}}}}"#)))
    }

    @Test func preserveUnknownFieldsKeepsUnknownButPrunesSpecifiedChildren() throws {
        let s = try schema(#"{"type":"object","x-kubernetes-preserve-unknown-fields":true,"properties":{"known":{"type":"object","properties":{"a":{"type":"string"}}}}}"#)
        var o = try object(#"{"anything":{"deep":1},"known":{"a":"x","b":"y"}}"#)
        #expect(s.prune(&o) == ["spec.known.b"])
        #expect(o["spec"]?["anything"] == ["deep": 1])
    }

    @Test func embeddedResourcesKeepTypeMetaAndPruneMetadata() throws {
        let s = try schema(#"{"type":"object","properties":{"template":{"type":"object","x-kubernetes-embedded-resource":true,"properties":{"spec":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}}"#)
        var o = try object(#"{"template":{"apiVersion":"v1","kind":"Pod","metadata":{"labels":{"a":"b"},"junk":1},"spec":{"containers":[]},"extra":1}}"#)
        #expect(s.prune(&o) == ["spec.template.extra", "spec.template.metadata.junk"])
        #expect(o["spec"]?["template"] == (try JSONValue.parse(#"{"apiVersion":"v1","kind":"Pod","metadata":{"labels":{"a":"b"}},"spec":{"containers":[]}}"#)))
    }
}

@Suite struct GoFormatTests {
    @Test func floatsPrintLikeGo() {
        #expect(GoFormat.float(1) == "1")
        #expect(GoFormat.float(0.5) == "0.5")
        #expect(GoFormat.float(123456) == "123456")
        #expect(GoFormat.float(1_000_000) == "1e+06")
        #expect(GoFormat.float(1_234_567) == "1.234567e+06")
        #expect(GoFormat.float(0.0001) == "0.0001")
        #expect(GoFormat.float(0.00001) == "1e-05")
        #expect(GoFormat.float(-2.5) == "-2.5")
    }

    @Test func quoting() {
        #expect(GoFormat.quote("a\"b\n") == #""a\"b\n""#)
    }
}
