import KubeCore

/// The OpenAPI v2 document in protobuf (gnostic `openapi.v2.Document`, google/gnostic openapiv2/OpenAPIv2.proto).
/// kubectl 1.27 and 1.28 check `fieldValidation` support on the PATCH operation of each kind here before validating
/// on the server, so each kind's path carries its PATCH operation with its query parameters and the
/// `x-kubernetes-group-version-kind` extension (no other operations); the definitions of every built-in kind and
/// every CRD version (OpenAPIv2Definitions.swift) serve `kubectl explain --output plaintext-openapiv2` and kubectl
/// 1.27's patch metadata.
enum OpenAPIv2 {
    /// kube-apiserver answers `application/com.github.proto-openapi.spec.v2.v1.0+protobuf`; the `@v1.0` form kubectl
    /// asks for is not a parseable media type for Go.
    static let contentType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

    struct Writer {
        var bytes: [UInt8] = []
        mutating func varint(_ value: UInt64) {
            var v = value
            while v >= 0x80 {
                bytes.append(UInt8(v & 0x7f) | 0x80)
                v >>= 7
            }
            bytes.append(UInt8(v))
        }
        mutating func string(_ field: Int, _ s: String) { data(field, Array(s.utf8)) }
        mutating func bool(_ field: Int, _ b: Bool) {
            varint(UInt64(field << 3))
            varint(b ? 1 : 0)
        }
        mutating func data(_ field: Int, _ d: [UInt8]) {
            varint(UInt64(field << 3 | 2))
            varint(UInt64(d.count))
            bytes.append(contentsOf: d)
        }
        mutating func message(_ field: Int, _ build: (inout Writer) -> Void) {
            var sub = Writer()
            build(&sub)
            data(field, sub.bytes)
        }
    }

    /// `crdSchemas`: each CRD version's `openAPIV3Schema`, by `OpenAPI.schemaName`.
    static func document(_ served: [ResourceInfo], crdSchemas: [String: JSONValue]) -> [UInt8] {
        var doc = Writer()
        doc.string(1, "2.0")                                   // swagger
        doc.message(2) { info in                               // info
            info.string(1, "Kubernetes")
            info.string(2, "v1.32.0")
        }
        doc.message(8) { paths in                              // paths
            for info in served {
                let base = info.groupVersionPath + (info.namespaced ? "/namespaces/{namespace}" : "") + "/\(info.plural)/{name}"
                paths.message(2) { named in                    // NamedPathItem
                    named.string(1, base)
                    named.message(2) { item in                 // PathItem
                        item.message(8) { op in                // patch: Operation
                            op.string(5, "patch\(info.kind)")
                            for name in ["dryRun", "fieldManager", "fieldValidation", "force"] {
                                op.message(8) { pi in          // ParametersItem
                                    pi.message(1) { p in       // Parameter
                                        p.message(2) { nb in   // NonBodyParameter
                                            nb.message(3) { q in  // QueryParameterSubSchema
                                                q.string(2, "query")
                                                q.string(4, name)
                                                q.string(6, "string")
                                            }
                                        }
                                    }
                                }
                            }
                            op.message(13) { ext in            // NamedAny
                                ext.string(1, "x-kubernetes-group-version-kind")
                                ext.message(2) { any in
                                    any.string(2, "group: \"\(info.group)\"\nkind: \(info.kind)\nversion: \(info.version)\n")
                                }
                            }
                        }
                    }
                }
            }
        }
        var custom = Writer()
        for info in served where info.isCustom {
            OpenAPIv2Definitions.customResource(info, schema: crdSchemas[OpenAPI.schemaName(info)], into: &custom)
        }
        doc.data(9, OpenAPIv2Definitions.builtin + custom.bytes)   // definitions: Definitions
        return doc.bytes
    }
}
