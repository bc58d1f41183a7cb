/// A location inside a custom resource, printable in the two spellings kube-apiserver mixes:
/// kube-openapi's validator names map entries `a.key` (object_validator.go: `o.Path+"."+key`) while
/// apimachinery's `field.Path`, used by CEL, list-type and embedded-resource checks, writes them `a[key]`.
struct FieldPath: Sendable, Hashable {
    enum Element: Sendable, Hashable {
        case field(String)
        case key(String)
        case index(Int)
    }

    var elements: [Element] = []

    static let root = FieldPath()

    func child(_ name: String) -> FieldPath { appending(.field(name)) }
    func key(_ name: String) -> FieldPath { appending(.key(name)) }
    func index(_ i: Int) -> FieldPath { appending(.index(i)) }

    func appending(_ e: Element) -> FieldPath {
        var copy = self
        copy.elements.append(e)
        return copy
    }

    /// kube-openapi's name: `spec.containers[0].env.FOO`; the root is the empty string.
    var openAPI: String {
        var out = ""
        for e in elements {
            switch e {
            case .field(let n), .key(let n): out += out.isEmpty ? n : "." + n
            case .index(let i): out += "[\(i)]"
            }
        }
        return out
    }

    /// `field.Path.String()`: `spec.labels[foo]`; a nil path (the resource root) prints `<nil>`.
    var fieldPath: String {
        if elements.isEmpty { return "<nil>" }
        var out = ""
        for e in elements {
            switch e {
            case .field(let n): out += out.isEmpty ? n : "." + n
            case .key(let n): out += "[\(n)]"
            case .index(let i): out += "[\(i)]"
            }
        }
        return out
    }

    /// The `field` of an error built from a kube-openapi result: `fldPath.Child(name)`, nil at the root
    /// (validation.go kubeOpenAPIResultToFieldErrors).
    var openAPIField: String {
        let name = openAPI
        return name.isEmpty ? "<nil>" : name
    }
}
