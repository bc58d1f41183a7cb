import KubeCore
import Testing

@testable import KubeYAML

@Suite struct DocumentTests {
    @Test func multiDocumentStreamSkipsEmptyDocuments() throws {
        let text = """
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: a}
            ---
            # only a comment
            ---
            apiVersion: v1
            kind: Secret
            metadata:
              name: b
            ---
            ...
            ---
            """
        let docs = try YAML.parseDocuments(text)
        #expect(docs.count == 2)
        #expect(docs.first?[path: "metadata", "name"] == "a")
        #expect(docs.last?["kind"] == "Secret")
    }

    @Test func emptyStreams() throws {
        #expect(try YAML.parseDocuments("") == [])
        #expect(try YAML.parseDocuments("# nothing\n") == [])
        #expect(try YAML.parseDocuments("---\n---\n") == [])
        #expect(try YAML.parse("") == .null)
        #expect(try YAML.parse("   \n# c\n") == .null)
        #expect(try YAML.parse("a: 1\n---\n") == ["a": 1])
    }

    @Test func parseRejectsSeveralDocuments() {
        do {
            _ = try YAML.parse("a: 1\n---\nb: 2\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 2)
            #expect(error.message.contains("single"))
        }
    }

    @Test func scalarAndSequenceRoots() throws {
        #expect(try YAML.parse("hello") == "hello")
        #expect(try YAML.parse("- 1\n- two\n- [3, {four: 4}]") == [1, "two", [3, ["four": 4]]])
        #expect(try YAML.parseDocuments("--- 1\n--- 2\n") == [1, 2])
    }

    @Test func anchorsAndAliases() throws {
        let doc = try YAML.parse(
            """
            base: &base
              image: nginx
              ports: [80, 443]
            copy: *base
            list:
              - &x 1
              - *x
            key: &k name
            *k : value
            """)
        #expect(doc["copy"] == doc["base"])
        #expect(doc["list"] == [1, 1])
        #expect(doc["name"] == "value")
    }

    @Test func mergeKeys() throws {
        let doc = try YAML.parse(
            """
            defaults: &defaults
              adapter: postgres
              host: localhost
              port: 5432
            other: &other
              host: remote
              pool: 5
            single:
              <<: *defaults
              host: override
            list:
              <<: [*other, *defaults]
              name: x
            inline:
              <<: {a: 1, b: 2}
              b: 3
            after:
              host: explicit
              <<: *defaults
            quoted:
              "<<": not a merge
            """)
        #expect(doc["single"] == ["adapter": "postgres", "host": "override", "port": 5432])
        #expect(doc["list"] == ["adapter": "postgres", "host": "remote", "pool": 5, "port": 5432, "name": "x"])
        #expect(doc["inline"] == ["a": 1, "b": 3])
        // As kubectl (go-yaml v2) reads it: a merge overwrites the keys written before it.
        #expect(doc["after"] == ["adapter": "postgres", "host": "localhost", "port": 5432])
        #expect(doc["quoted"] == ["<<": "not a merge"])
    }

    @Test func mergeOfANonMapIsAnError() {
        #expect(throws: YAMLError.self) { try YAML.parse("a: &s x\nb:\n  <<: *s\n") }
        #expect(throws: YAMLError.self) { try YAML.parse("b:\n  <<: [1, 2]\n") }
    }

    @Test func unknownAndSelfReferencingAliasesAreErrors() {
        #expect(throws: YAMLError.self) { try YAML.parse("a: *nope") }
        #expect(throws: YAMLError.self) { try YAML.parse("a: &a [1, *a]") }
    }

    @Test func aliasBombIsRejectedQuickly() {
        var lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        for i in 1...9 {
            let refs = Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ")
            lines.append("a\(i): &a\(i) [\(refs)]")
        }
        do {
            _ = try YAML.parse(lines.joined(separator: "\n"))
            Issue.record("expected the alias bomb to be rejected")
        } catch {
            #expect(error.message.contains("expands to more than"))
            #expect(error.line >= 6)
        }
    }

    @Test func moderateAliasUseIsFine() throws {
        var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in 1...3 {
            lines.append("a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]")
        }
        let doc = try YAML.parse(lines.joined(separator: "\n"))
        #expect(doc["a3"]?.arrayValue?.count == 10)
    }

    @Test func duplicateKeysNameTheKeyAndLines() {
        let text = """
            apiVersion: v1
            kind: Pod
            metadata:
              name: a
              labels: {}
              name: b
            """
        do {
            _ = try YAML.parse(text)
            Issue.record("expected a duplicate key error")
        } catch {
            #expect(error.line == 6)
            #expect(error.column == 3)
            #expect(error.message.contains("\"name\""))
            #expect(error.message.contains("line 4"))
        }
        // Keys that only collide after becoming strings collide too.
        #expect(throws: YAMLError.self) { try YAML.parse("1: a\n\"1\": b\n") }
        #expect(throws: YAMLError.self) { try YAML.parse("{a: 1, a: 2}") }
    }

    @Test func syntaxErrorCarriesLineAndColumn() {
        let broken = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              replicas: 3
               selector: {}
            """
        do {
            _ = try YAML.parse(broken)
            Issue.record("expected a syntax error")
        } catch {
            #expect(error.line == 7)
            #expect(error.column >= 1)
            #expect(!error.message.isEmpty)
            #expect(error.description.hasPrefix("yaml: line 7, column"))
        }
    }

    @Test func otherSyntaxErrors() {
        for (text, line) in [
            ("a: [1, 2\nb: 3\n", 2), ("a: 'unterminated\n", 2), ("key: value\n\t- tab\n", 2),
            ("a:\n  - 1\n  b: 2\n", 3), ("a: \"bad \\q escape\"", 1),
        ] {
            do {
                _ = try YAML.parse(text)
                Issue.record("expected an error for \(text)")
            } catch {
                #expect(error.line == line, "\(text): \(error)")
            }
        }
    }

    @Test func controlCharacterIsAReaderErrorWithPosition() {
        do {
            _ = try YAML.parse("a: 1\nb: x\u{07}y\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 2)
            #expect(error.column == 5)
        }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)
        #expect(throws: YAMLError.self) { try YAML.parse(deep) }
        let ok = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect((try? YAML.parse(ok)) != nil)
    }

    @Test func kubeconfig() throws {
        let text = """
            apiVersion: v1
            kind: Config
            current-context: dev
            preferences: {}
            clusters:
            - cluster:
                certificate-authority-data: LS0tLS1CRUdJTi==
                server: https://127.0.0.1:6443
                insecure-skip-tls-verify: false
              name: dev
            contexts:
            - context:
                cluster: dev
                namespace: gantry-system
                user: admin
              name: dev
            users:
            - name: admin
              user:
                exec:
                  apiVersion: client.authentication.k8s.io/v1
                  command: aws
                  args: ["eks", "get-token", "--cluster-name", "dev"]
                  env: null
                  provideClusterInfo: yes
            """
        let config = try YAML.parse(text)
        #expect(config["current-context"] == "dev")
        #expect(config["preferences"] == .emptyObject)
        let cluster = config["clusters"]?.arrayValue?.first?["cluster"]
        #expect(cluster?["server"] == "https://127.0.0.1:6443")
        #expect(cluster?["insecure-skip-tls-verify"] == false)
        let exec = config["users"]?.arrayValue?.first?[path: "user", "exec"]
        #expect(exec?["args"] == ["eks", "get-token", "--cluster-name", "dev"])
        #expect(exec?["env"] == .null)
        #expect(exec?["provideClusterInfo"] == true)
        #expect(config["contexts"]?.arrayValue?.first?[path: "context", "namespace"] == "gantry-system")
    }

    @Test func crdWithNestedArrays() throws {
        let text = """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata:
              name: trainingjobs.gantry.dev
            spec:
              group: gantry.dev
              names: {kind: TrainingJob, plural: trainingjobs, shortNames: [tj], categories: [gantry]}
              scope: Namespaced
              versions:
              - name: v1alpha1
                served: true
                storage: true
                subresources:
                  status: {}
                additionalPrinterColumns:
                - {name: Phase, type: string, jsonPath: .status.phase}
                - name: Age
                  type: date
                  jsonPath: .metadata.creationTimestamp
                schema:
                  openAPIV3Schema:
                    type: object
                    properties:
                      spec:
                        type: object
                        required: [image, gpus]
                        properties:
                          gpus: {type: integer, minimum: 0, maximum: 64}
                          learningRate: {type: number, default: 1e-3}
                          image: {type: string, pattern: '^[a-z0-9./:-]+$'}
                          matrix:
                            type: array
                            items:
                              type: array
                              items: {type: array, items: {type: integer}}
                          example:
                            default: [[[1, 2], [3]], [[]], []]
            """
        let crd = try YAML.parse(text)
        #expect(crd[path: "spec", "names", "shortNames"] == ["tj"])
        let version = crd[path: "spec", "versions"]?.arrayValue?.first
        #expect(version?["served"] == true)
        #expect(version?["additionalPrinterColumns"]?.arrayValue?.count == 2)
        let spec = version?[path: "schema", "openAPIV3Schema", "properties", "spec"]
        #expect(spec?["required"] == ["image", "gpus"])
        #expect(spec?[path: "properties", "gpus", "maximum"] == 64)
        #expect(spec?[path: "properties", "learningRate", "default"] == .double(0.001))
        #expect(spec?[path: "properties", "image", "pattern"] == "^[a-z0-9./:-]+$")
        #expect(spec?[path: "properties", "matrix", "items", "items", "items", "type"] == "integer")
        #expect(spec?[path: "properties", "example", "default"] == [[[1, 2], [3]], [[]], []])
    }

    @Test func unicodeAndEscapes() throws {
        let doc = try YAML.parse("a: \"é\\t\\u00e9\\U0001F600\\n\"\nb: 日本語\nc: 😀\n")
        #expect(doc["a"] == "é\té😀\n")
        #expect(doc["b"] == "日本語")
        #expect(doc["c"] == "😀")
    }

    @Test func blockScalarChomping() throws {
        let doc = try YAML.parse("a: |\n  x\n  y\n\nb: |-\n  x\nc: |+\n  x\n\nd: >\n  x\n  y\n")
        #expect(doc["a"] == "x\ny\n")
        #expect(doc["b"] == "x")
        #expect(doc["c"] == "x\n\n")
        #expect(doc["d"] == "x y\n")
    }
}

@Suite struct MoreDocumentTests {
    @Test func binaryScalarsAreDecoded() throws {
        let doc = try YAML.parse("a: !!binary aGVsbG8=\nb: !!binary |\n  aGVs\n  bG8gd29y\n  bGQ=\nc: !!binary \"\"\n")
        #expect(doc == ["a": "hello", "b": "hello world", "c": ""])
        #expect(throws: YAMLError.self) { try YAML.parse("a: !!binary not*base64") }
        #expect(throws: YAMLError.self) { try YAML.parse("a: !!binary aGVsbG8") }
    }

    @Test func longAliasedStringIsCappedByBytes() {
        let big = String(repeating: "x", count: 1 << 20)
        let refs = Array(repeating: "*s", count: 100).joined(separator: ", ")
        do {
            _ = try YAML.parse("s: &s \(big)\nl: [\(refs)]\n")
            Issue.record("expected the expansion cap")
        } catch {
            #expect(error.message.contains("bytes"))
        }
    }

    @Test func windowsLineEndingsAndByteOrderMark() throws {
        let text = "\u{FEFF}apiVersion: v1\r\nkind: ConfigMap\r\ndata:\r\n  script: |\r\n    a\r\n    b\r\n"
        #expect(try YAML.parse(text) == ["apiVersion": "v1", "kind": "ConfigMap", "data": ["script": "a\nb\n"]])
    }

    @Test func errorPositionsCountCharactersNotBytes() {
        do {
            _ = try YAML.parse("é: [1,\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 2)
        }
        do {
            _ = try YAML.parse("日本: 1\n日本: 2\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 2)
            #expect(error.column == 1)
        }
    }
}
