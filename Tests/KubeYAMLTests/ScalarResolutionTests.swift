import KubeCore
import Testing

@testable import KubeYAML

/// Plain-scalar typing must match go-yaml v2 (what kubectl and the API machinery read manifests with).
@Suite struct ScalarResolutionTests {
    private func value(_ scalar: String) throws -> JSONValue? {
        try YAML.parse("v: \(scalar)\n")["v"]
    }

    @Test(arguments: ["true", "True", "TRUE", "yes", "Yes", "YES", "y", "Y", "on", "On", "ON"])
    func yamlOneOneTrue(_ s: String) throws {
        #expect(try value(s) == .bool(true))
    }

    @Test(arguments: ["false", "False", "FALSE", "no", "No", "NO", "n", "N", "off", "Off", "OFF"])
    func yamlOneOneFalse(_ s: String) throws {
        #expect(try value(s) == .bool(false))
    }

    @Test(arguments: ["tRUE", "yEs", "oN", "nO", "truee", "yes!", "Y1"])
    func mixedCaseIsAString(_ s: String) throws {
        #expect(try value(s) == .string(s))
    }

    @Test(arguments: ["~", "null", "Null", "NULL", ""])
    func nulls(_ s: String) throws {
        #expect(try value(s) == .null)
    }

    @Test func nullVariantsOutsideTheTableAreStrings() throws {
        #expect(try value("nULL") == .string("nULL"))
        #expect(try value("None") == .string("None"))
    }

    @Test(arguments: [
        ("0", 0), ("42", 42), ("-42", -42), ("+42", 42), ("0x1F", 31), ("0X1f", 31), ("-0x10", -16),
        ("0o17", 15), ("017", 15), ("0b101", 5), ("-0b101", -5), ("1_000", 1000), ("1__0_0", 100),
        ("0x_1F", 31), ("9223372036854775807", Int64.max), ("-9223372036854775808", Int64.min), ("00", 0),
    ] as [(String, Int64)])
    func integers(_ s: String, _ expected: Int64) throws {
        #expect(try value(s) == .int(expected))
    }

    @Test(arguments: [
        ("1.5", 1.5), ("-1.5", -1.5), ("+1.5", 1.5), ("1e3", 1000), ("1E3", 1000), ("1.5e-3", 0.0015),
        (".5", 0.5), ("-.5", -0.5), ("1.", 1), ("08", 8), ("09.5", 9.5), ("1_000.5", 1000.5),
        ("9223372036854775808", 9223372036854775808.0), ("99999999999999999999", 1e20), (".5_5", 0.55),
        (".5e3", 500),
    ] as [(String, Double)])
    func floats(_ s: String, _ expected: Double) throws {
        #expect(try value(s) == .double(expected))
    }

    @Test func specialFloats() throws {
        for s in [".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"] { #expect(try value(s) == .double(.infinity)) }
        for s in ["-.inf", "-.Inf", "-.INF"] { #expect(try value(s) == .double(-.infinity)) }
        for s in [".nan", ".NaN", ".NAN"] {
            guard case .double(let d)? = try value(s) else { Issue.record("\(s) is not a float"); continue }
            #expect(d.isNaN)
        }
    }

    /// Things that look numeric to a human but not to go-yaml v2.
    @Test(arguments: [
        "1.2.3", "0x", "0b", "1e", "1e+", "._5", ".5_", ".", "+", "-.nan", ".inf5", "1e999", "-1e999", ".1e999",
        "12:30", "2024-01-02", "2024-01-02T03:04:05Z", "1.0.0-beta", "v1", "0xZZ", "1 2", "_1", "inf", "nan",
        "0.0.0.0", "100m", "1Gi", "5s",
    ])
    func stringsThatLookNumeric(_ s: String) throws {
        #expect(try value(s) == .string(s))
    }

    @Test func quotedAndBlockScalarsStayStrings() throws {
        let doc = try YAML.parse(
            """
            a: "true"
            b: '123'
            c: "null"
            d: ''
            e: !!str 1.5
            f: !!str yes
            g: |
              42
            h: >
              true
            i: ! 12
            j: !custom 7
            k: "~"
            """)
        #expect(doc["a"] == "true")
        #expect(doc["b"] == "123")
        #expect(doc["c"] == "null")
        #expect(doc["d"] == "")
        #expect(doc["e"] == "1.5")
        #expect(doc["f"] == "yes")
        #expect(doc["g"] == "42\n")
        #expect(doc["h"] == "true\n")
        #expect(doc["i"] == "12")
        #expect(doc["j"] == "7")
        #expect(doc["k"] == "~")
    }

    @Test func explicitCoreTags() throws {
        let doc = try YAML.parse(
            """
            a: !!int "42"
            b: !!float 3
            c: !!bool 'yes'
            d: !!null ''
            e: !!float "1.5"
            """)
        #expect(doc["a"] == .int(42))
        #expect(doc["b"] == .double(3))
        #expect(doc["c"] == .bool(true))
        #expect(doc["d"] == .null)
        #expect(doc["e"] == .double(1.5))
        #expect(throws: YAMLError.self) { try YAML.parse("a: !!int abc") }
        #expect(throws: YAMLError.self) { try YAML.parse("a: !!int 1.5") }
        #expect(throws: YAMLError.self) { try YAML.parse("a: !!bool 1") }
    }

    @Test func nonStringKeysBecomeTheirStringForm() throws {
        let doc = try YAML.parse(
            """
            1: int
            0x10: hex
            true: bool
            no: bool2
            1.5: float
            1e6: big
            0.0001: small
            .inf: inf
            "quoted": s
            """)
        #expect(doc == [
            "1": "int", "16": "hex", "true": "bool", "false": "bool2", "1.5": "float", "1e+06": "big",
            "0.0001": "small", ".inf": "inf", "quoted": "s",
        ])
    }

    @Test func nullKeysAreRejected() {
        #expect(throws: YAMLError.self) { try YAML.parse("~: x") }
        #expect(throws: YAMLError.self) { try YAML.parse("? \n: x") }
        #expect(throws: YAMLError.self) { try YAML.parse("[a]: x") }
        #expect(throws: YAMLError.self) { try YAML.parse("? {a: 1}\n: x") }
    }

    @Test func goFloatKeyFormatting() {
        #expect(MapKey.goFormatFloat32(0) == "0")
        #expect(MapKey.goFormatFloat32(100) == "100")
        #expect(MapKey.goFormatFloat32(123456) == "123456")
        #expect(MapKey.goFormatFloat32(1234567) == "1.234567e+06")
        #expect(MapKey.goFormatFloat32(0.1) == "0.1")
        #expect(MapKey.goFormatFloat32(0.00001) == "1e-05")
        #expect(MapKey.goFormatFloat32(-2.5) == "-2.5")
        #expect(MapKey.goFormatFloat32(1e21) == "1e+21")
        #expect(MapKey.goFormatFloat32(.nan) == ".nan")
        #expect(MapKey.goFormatFloat32(-.infinity) == "-.inf")
    }
}
