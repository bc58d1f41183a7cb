import KubeCore
import Testing

@testable import EmbeddedCluster

/// A schema whose `spec` carries the given properties and rules.
private func celSchema(_ properties: String, rules: String, specExtra: String = "") throws -> StructuralSchema {
    let text = #"{"type":"object","properties":{"spec":{"type":"object","properties":"# + properties
        + #","x-kubernetes-validations":"# + rules + specExtra + "}}}"
    return try StructuralSchema(json: try JSONValue.parse(text))
}

private func spec(_ json: String) throws -> JSONValue {
    try JSONValue.parse(#"{"apiVersion":"gantry.dev/v1","kind":"TrainingJob","metadata":{"name":"a"},"spec":"# + json + "}")
}

private func loadError(_ body: () throws -> StructuralSchema) -> SchemaError? {
    do {
        _ = try body()
        return nil
    } catch let e as SchemaError {
        return e
    } catch {
        return nil
    }
}

@Suite struct SchemaCELTests {
    @Test func comparisonWithMessage() throws {
        let s = try celSchema(#"{"minReplicas":{"type":"integer"},"maxReplicas":{"type":"integer"}}"#,
            rules: #"[{"rule":"self.minReplicas <= self.maxReplicas","message":"minReplicas must not exceed maxReplicas"}]"#)
        #expect(s.validate(try spec(#"{"minReplicas":1,"maxReplicas":3}"#)).isEmpty)
        #expect(s.validate(try spec(#"{"minReplicas":4,"maxReplicas":3}"#)) == [
            FieldError(field: "spec", reason: "FieldValueInvalid",
                message: #"Invalid value: "object": minReplicas must not exceed maxReplicas"#)
        ])
    }

    @Test func defaultMessageNamesTheRule() throws {
        let s = try celSchema(#"{"framework":{"type":"string"},"replicas":{"type":"integer"}}"#,
            rules: #"[{"rule":"self.framework != 'none' || self.replicas == 1"}]"#)
        #expect(s.validate(try spec(#"{"framework":"none","replicas":1}"#)).isEmpty)
        #expect(s.validate(try spec(#"{"framework":"jax","replicas":4}"#)).isEmpty)
        #expect(s.validate(try spec(#"{"framework":"none","replicas":2}"#)).first?.message
            == #"Invalid value: "object": failed rule: self.framework != 'none' || self.replicas == 1"#)
    }

    @Test func hasGuardsOptionalFields() throws {
        let s = try celSchema(#"{"tensorboard":{"type":"object","properties":{"logDir":{"type":"string"}}}}"#,
            rules: #"[{"rule":"!has(self.tensorboard) || self.tensorboard.logDir != ''","message":"logDir must be set"}]"#)
        #expect(s.validate(try spec("{}")).isEmpty)
        #expect(s.validate(try spec(#"{"tensorboard":{"logDir":"/x"}}"#)).isEmpty)
        #expect(s.validate(try spec(#"{"tensorboard":{"logDir":""}}"#)).first?.message == #"Invalid value: "object": logDir must be set"#)
    }

    @Test func absentFieldIsARuntimeErrorWordedAsKube() throws {
        let s = try celSchema(#"{"tensorboard":{"type":"object","properties":{"logDir":{"type":"string"}}}}"#,
            rules: #"[{"rule":"self.tensorboard.logDir != ''"}]"#)
        #expect(s.validate(try spec("{}")) == [
            FieldError(field: "spec", reason: "FieldValueInvalid",
                message: #"Invalid value: "object": no such key: tensorboard evaluating rule: self.tensorboard.logDir != ''"#)
        ])
    }

    @Test func transitionRuleImmutability() throws {
        let text = #"{"type":"object","properties":{"spec":{"type":"object","properties":{"framework":{"type":"string","x-kubernetes-validations":[{"rule":"self == oldSelf","message":"framework is immutable"}]}}}}}"#
        let s = try StructuralSchema(json: try JSONValue.parse(text))
        let old = try spec(#"{"framework":"jax"}"#)
        #expect(s.validate(try spec(#"{"framework":"pytorch"}"#)).isEmpty, "transition rules do not run on create")
        #expect(s.validateUpdate(try spec(#"{"framework":"jax"}"#), old: old).isEmpty)
        #expect(s.validateUpdate(try spec(#"{"framework":"pytorch"}"#), old: old) == [
            FieldError(field: "spec.framework", reason: "FieldValueInvalid", message: #"Invalid value: "string": framework is immutable"#)
        ])
        #expect(s.validateUpdate(try spec(#"{"framework":"pytorch"}"#), old: try spec("{}")).isEmpty,
            "no old value to compare with")
    }

    @Test func quantifiersOverMapsAndLists() throws {
        let s = try celSchema(#"{"labels":{"type":"object","additionalProperties":{"type":"string"},"x-kubernetes-validations":[{"rule":"self.all(k, k.startsWith('x'))"}]},"ports":{"type":"array","items":{"type":"integer"},"x-kubernetes-validations":[{"rule":"self.exists(p, p == 80)","messageExpression":"'ports must include 80'"}]}}"#,
            rules: "[]")
        #expect(s.validate(try spec(#"{"labels":{"xa":"1","xb":"2"},"ports":[443,80]}"#)).isEmpty)
        let errors = s.validate(try spec(#"{"labels":{"xa":"1","b":"2"},"ports":[443]}"#))
        #expect(errors.map(\.field) == ["spec.labels", "spec.ports"])
        #expect(errors.map(\.message) == [
            #"Invalid value: "object": failed rule: self.all(k, k.startsWith('x'))"#,
            #"Invalid value: "array": ports must include 80"#,
        ])
    }

    @Test func stringFunctionsSizeInAndTernary() throws {
        let s = try celSchema(#"{"name":{"type":"string"},"mode":{"type":"string"},"n":{"type":"integer"},"tags":{"type":"array","items":{"type":"string"}}}"#,
            rules: #"""
            [{"rule":"self.name.endsWith('-job') && self.name.contains('train') && self.name.matches('^[a-z-]+$')"},
             {"rule":"self.mode in ['fast', 'slow']"},
             {"rule":"size(self.tags) <= 2 && self.tags.size() >= 0"},
             {"rule":"(self.mode == 'fast' ? self.n * 2 : self.n) < 10"},
             {"rule":"self.n >= 0.5 && self.n != null && 1.0 == 1"}]
            """#)
        #expect(s.validate(try spec(#"{"name":"train-job","mode":"fast","n":4,"tags":["a"]}"#)).isEmpty)
        let bad = s.validate(try spec(#"{"name":"Train-job","mode":"medium","n":12,"tags":["a","b","c"]}"#))
        #expect(bad.count == 4)
    }

    @Test func messageExpressionReasonAndFieldPath() throws {
        let s = try celSchema(#"{"replicas":{"type":"integer"},"gpus":{"type":"integer"}}"#,
            rules: #"[{"rule":"self.gpus <= self.replicas * 8","messageExpression":"'at most 8 gpus per replica, replicas=' + self.replicas","reason":"FieldValueForbidden","fieldPath":".gpus"}]"#)
        // messageExpression fails at run time (string + int has no overload): the default message is used.
        #expect(s.validate(try spec(#"{"replicas":1,"gpus":9}"#)) == [
            FieldError(field: "spec.gpus", reason: "FieldValueForbidden", message: "Forbidden: failed rule: self.gpus <= self.replicas * 8")
        ])
        let s2 = try celSchema(#"{"name":{"type":"string"}}"#,
            rules: #"[{"rule":"self.name != ''","messageExpression":"'name of ' + self.name + ' must not be empty'","reason":"FieldValueRequired","fieldPath":".name"}]"#)
        #expect(s2.validate(try spec(#"{"name":""}"#)) == [
            FieldError(field: "spec.name", reason: "FieldValueRequired", message: "Required value: name of  must not be empty")
        ])
    }

    @Test func rulesOnTheRootUseTheNilPath() throws {
        let text = #"{"type":"object","x-kubernetes-validations":[{"rule":"self.metadata.name.startsWith('a')","message":"name must start with a"}],"properties":{"spec":{"type":"object"}}}"#
        let s = try StructuralSchema(json: try JSONValue.parse(text))
        #expect(s.validate(try spec("{}")).isEmpty)
        let other = try JSONValue.parse(#"{"apiVersion":"a/v1","kind":"K","metadata":{"name":"b"},"spec":{}}"#)
        #expect(s.validate(other) == [FieldError(field: "<nil>", reason: "FieldValueInvalid", message: #"Invalid value: "object": name must start with a"#)])
    }

    @Test func errorsAbsorbedByLogicalOperators() throws {
        let s = try celSchema(#"{"a":{"type":"object","properties":{"b":{"type":"integer"}}}}"#,
            rules: #"[{"rule":"self.a.b > 0 || true"},{"rule":"false && self.a.b > 0 || true"}]"#)
        #expect(s.validate(try spec("{}")).isEmpty)
    }

    @Test func integerOverflowIsAnError() throws {
        let s = try celSchema(#"{"n":{"type":"integer"}}"#, rules: #"[{"rule":"self.n + 1 > 0"}]"#)
        #expect(s.validate(try spec(#"{"n":9223372036854775807}"#)).first?.message
            == #"Invalid value: "object": integer overflow evaluating rule: self.n + 1 > 0"#)
    }

    @Test func unsupportedRulesAreRejectedAtLoad() {
        let props = #"{"name":{"type":"string"},"items":{"type":"array","items":{"type":"object","properties":{"v":{"type":"string","x-kubernetes-validations":[{"rule":"self == oldSelf"}]}}}}}"#
        for (rule, fragment) in [
            ("self.name.lowerAscii() == 'a'", "function 'lowerAscii'"),
            ("self.name.map(x, x)", "function 'map'"),
            ("{'a': 1}['a'] == 1", "map and message literals"),
            ("self.nope == 1", "undefined field 'nope'"),
            ("other.name == 1", "undeclared reference to 'other'"),
            ("self.name ==", "unexpected end of input"),
            ("b'abc' == self.name", "bytes"),
            ("1u == 1", "unsigned"),
            ("self.name.size() > 0 && self.name.startsWith('a') && size(self.name) < 3 && self.size() > 0", "no error"),
            ("self.n.startsWith('1')", "found no matching overload for 'startsWith' applied to 'int'"),
            ("size(self.n) > 1", "found no matching overload for 'size' applied to 'int'"),
            ("self.name.matches('(?=a)')", "invalid regular expression"),
        ] {
            let e = loadError { try celSchema(#"{"name":{"type":"string"},"n":{"type":"integer"}}"#, rules: #"[{"rule":"# + GoFormat.quote(rule) + "}]") }
            if fragment == "no error" {
                #expect(e == nil, "\(rule): \(e?.message ?? "")")
                continue
            }
            #expect(e?.path == "openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule", "\(rule)")
            #expect(e?.message.contains(fragment) == true, "\(rule): \(e?.message ?? "no error")")
        }
        // oldSelf inside items of a list that is not list-type map cannot correlate.
        let e = loadError { try celSchema(props, rules: "[]") }
        #expect(e?.path == "openAPIV3Schema.properties[spec].properties[items].items.properties[v].x-kubernetes-validations[0].rule")
        #expect(loadError { try celSchema(#"{"name":{"type":"string"}}"#, rules: #"[{"rule":"true","reason":"Nope"}]"#) }?.path
            == "openAPIV3Schema.properties[spec].x-kubernetes-validations[0].reason")
        #expect(loadError { try celSchema(#"{"name":{"type":"string"}}"#, rules: #"[{"rule":"true","fieldPath":".missing"}]"#) }?.path
            == "openAPIV3Schema.properties[spec].x-kubernetes-validations[0].fieldPath")
    }

    @Test func mapsInFieldPathAndDynamicOverloads() throws {
        let s = try celSchema(#"{"limits":{"type":"object","additionalProperties":{"type":"integer"}},"port":{"x-kubernetes-int-or-string":true}}"#,
            rules: #"""
            [{"rule":"'gpu' in self.limits && self.limits.exists(k, k == 'cpu')","fieldPath":".limits['gpu']","message":"gpu and cpu limits are required"},
             {"rule":"!has(self.port) || self.port > 0"}]
            """#)
        #expect(s.validate(try spec(#"{"limits":{"gpu":1,"cpu":2},"port":80}"#)).isEmpty)
        #expect(s.validate(try spec(#"{"limits":{"gpu":1}}"#)) == [
            FieldError(field: "spec.limits[gpu]", reason: "FieldValueInvalid", message: #"Invalid value: "object": gpu and cpu limits are required"#)
        ])
        // int-or-string is dynamic: comparing a string with an int fails at run time, worded as kube words it.
        #expect(s.validate(try spec(#"{"limits":{"gpu":1,"cpu":1},"port":"http"}"#)).map(\.message) == [
            #"Invalid value: "object": 'no such overload': call arguments did not match a supported operator, function or macro signature for rule: !has(self.port) || self.port > 0"#
        ])
    }

    @Test func deeplyNestedRulesAreRefusedNotCrashing() {
        // cel-go builds `&&`/`||` chains as balanced trees: a long one is an ordinary rule.
        let conjunction = Array(repeating: "self.a == 'x'", count: 500).joined(separator: " && ")
        #expect(loadError { try celSchema(#"{"a":{"type":"string"}}"#, rules: #"[{"rule":"# + GoFormat.quote(conjunction) + "}]") } == nil)
        // An arithmetic chain nests one level per term (cel-go counts each toward its recursion limit).
        let chain = "size(self.a)" + String(repeating: " + 1", count: 500) + " > 0"
        #expect(loadError { try celSchema(#"{"a":{"type":"string"}}"#, rules: #"[{"rule":"# + GoFormat.quote(chain) + "}]") }?.message
            .hasSuffix("expression nested too deeply") == true)
        let parens = String(repeating: "(", count: 300) + "true" + String(repeating: ")", count: 300)
        #expect(loadError { try celSchema(#"{"a":{"type":"string"}}"#, rules: #"[{"rule":"# + GoFormat.quote(parens) + "}]") } != nil)
    }

    @Test func rulesAreSkippedAfterBlockingErrors() throws {
        let s = try celSchema(#"{"replicas":{"type":"integer"},"name":{"type":"string","maxLength":3}}"#,
            rules: #"[{"rule":"self.replicas > 0"}]"#)
        #expect(s.validate(try spec(#"{"replicas":"x"}"#)).map(\.message) == [
            #"Invalid value: "string": spec.replicas in body must be of type integer: "string""#,
            #"Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"#,
        ])
        #expect(s.validate(try spec(#"{"replicas":0}"#)).map(\.message) == [#"Invalid value: "object": failed rule: self.replicas > 0"#])
    }

    @Test func ruleMessagesAreCheckedAtLoad() {
        let props = #"{"a":{"type":"string"}}"#
        #expect(loadError { try celSchema(props, rules: #"[{"rule":"true","message":"  "}]"#) }?.path
            == "openAPIV3Schema.properties[spec].x-kubernetes-validations[0].message")
        #expect(loadError { try celSchema(props, rules: #"[{"rule":"true &&\ntrue"}]"#) }?.message
            == "Required value: message must be specified if rule contains line breaks")
        #expect(loadError { try celSchema(props, rules: #"[{"rule":" "}]"#) }?.message == "Required value: rule is not specified")
        #expect(loadError { try celSchema(props, rules: #"[{"rule":"true","optionalOldSelf":true}]"#) } != nil)
        let nested = #"{"l":{"type":"array","items":{"type":"string","x-kubernetes-validations":[{"rule":"self == oldSelf"}]}}}"#
        #expect(loadError { try celSchema(nested, rules: "[]") }?.message
            == #"Invalid value: "self == oldSelf": oldSelf cannot be used on the uncorrelatable portion of the schema within openAPIV3Schema.properties[spec].properties[l]"#)
    }

    @Test func listMapItemsCorrelateForTransitionRules() throws {
        let text = #"{"type":"object","properties":{"spec":{"type":"object","properties":{"workers":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],"items":{"type":"object","required":["name"],"properties":{"name":{"type":"string"},"image":{"type":"string","x-kubernetes-validations":[{"rule":"self == oldSelf","message":"image is immutable"}]}}}}}}}}"#
        let s = try StructuralSchema(json: try JSONValue.parse(text))
        let old = try spec(#"{"workers":[{"name":"a","image":"x"},{"name":"b","image":"y"}]}"#)
        #expect(s.validateUpdate(try spec(#"{"workers":[{"name":"b","image":"y"},{"name":"a","image":"x"},{"name":"c","image":"z"}]}"#), old: old).isEmpty)
        #expect(s.validateUpdate(try spec(#"{"workers":[{"name":"a","image":"z"}]}"#), old: old).map(\.field) == ["spec.workers[0].image"])
    }
}
