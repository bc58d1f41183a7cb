import KubeCore

/// JSON patch, RFC 6902 (add, remove, replace, move, copy, test) with JSON pointers (RFC 6901).
/// Errors are worded after evanphx/json-patch, which kube-apiserver uses.
enum JSONPatch {
    struct Failure: Error { var message: String }

    static func apply(_ patch: JSONValue, to target: JSONValue) throws(Failure) -> JSONValue {
        guard let ops = patch.arrayValue else { throw Failure(message: "json: cannot unmarshal object into Go value of type jsonpatch.Patch") }
        var doc = target
        for op in ops {
            guard let name = op["op"]?.stringValue else { throw Failure(message: "Unexpected kind: <nil>") }
            guard let pathText = op["path"]?.stringValue else { throw Failure(message: "operation missing path") }
            let path = try pointer(pathText)
            switch name {
            case "add":
                guard let value = op["value"] else { throw Failure(message: "add operation does not apply: doc is missing value") }
                doc = try add(doc, path, value)
            case "remove":
                doc = try remove(doc, path, pathText).0
            case "replace":
                guard let value = op["value"] else { throw Failure(message: "replace operation does not apply: missing value") }
                guard get(doc, path) != nil else {
                    throw Failure(message: "replace operation does not apply: doc is missing key: \(pathText)")
                }
                doc = try set(doc, path, value, insert: false)
            case "move":
                guard let fromText = op["from"]?.stringValue else { throw Failure(message: "move operation missing from") }
                let (d, v) = try remove(doc, try pointer(fromText), fromText)
                doc = try add(d, path, v)
            case "copy":
                guard let fromText = op["from"]?.stringValue, let v = get(doc, try pointer(fromText)) else {
                    throw Failure(message: "copy operation does not apply: doc is missing from path")
                }
                doc = try add(doc, path, v)
            case "test":
                let actual = get(doc, path)
                let expected = op["value"] ?? .null
                if actual != expected && !(actual == nil && expected.isNull) {
                    throw Failure(message: "testing value \(pathText) failed: test failed")
                }
            default:
                throw Failure(message: "Unexpected kind: \(name)")
            }
        }
        return doc
    }

    static func pointer(_ text: String) throws(Failure) -> [String] {
        if text.isEmpty { return [] }
        guard text.hasPrefix("/") else { throw Failure(message: "JSON pointer must be empty or start with a \"/\": \(text)") }
        return text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func get(_ doc: JSONValue, _ path: [String]) -> JSONValue? {
        var cur = doc
        for token in path {
            switch cur {
            case .object(let o): guard let next = o[token] else { return nil }; cur = next
            case .array(let a): guard let i = Int(token), a.indices.contains(i) else { return nil }; cur = a[i]
            default: return nil
            }
        }
        return cur
    }

    static func add(_ doc: JSONValue, _ path: [String], _ value: JSONValue) throws(Failure) -> JSONValue {
        try set(doc, path, value, insert: true)
    }

    static func set(_ doc: JSONValue, _ path: [String], _ value: JSONValue, insert: Bool) throws(Failure) -> JSONValue {
        guard let token = path.first else { return value }
        let rest = Array(path.dropFirst())
        switch doc {
        case .object(var o):
            if rest.isEmpty {
                o[token] = value
            } else {
                guard let child = o[token] else {
                    throw Failure(message: "add operation does not apply: doc is missing path: \"/\(path.joined(separator: "/"))\": missing value")
                }
                o[token] = try set(child, rest, value, insert: insert)
            }
            return .object(o)
        case .array(var a):
            if rest.isEmpty {
                if token == "-" && insert { a.append(value); return .array(a) }
                guard let i = Int(token), i >= 0 else { throw Failure(message: "add operation does not apply: invalid index \(token)") }
                if insert {
                    guard i <= a.count else { throw Failure(message: "add operation does not apply: index out of bounds: \(i)") }
                    a.insert(value, at: i)
                } else {
                    guard i < a.count else { throw Failure(message: "replace operation does not apply: index out of bounds: \(i)") }
                    a[i] = value
                }
                return .array(a)
            }
            guard let i = Int(token), a.indices.contains(i) else { throw Failure(message: "doc is missing path: index \(token)") }
            a[i] = try set(a[i], rest, value, insert: insert)
            return .array(a)
        default:
            throw Failure(message: "doc is missing path: \"/\(path.joined(separator: "/"))\"")
        }
    }

    static func remove(_ doc: JSONValue, _ path: [String], _ text: String) throws(Failure) -> (JSONValue, JSONValue) {
        guard let token = path.first else { throw Failure(message: "remove operation does not apply: cannot remove root") }
        let rest = Array(path.dropFirst())
        switch doc {
        case .object(var o):
            guard let child = o[token] else { throw Failure(message: "remove operation does not apply: doc is missing path: \"\(text)\": missing value") }
            if rest.isEmpty { o[token] = nil; return (.object(o), child) }
            let (c, v) = try remove(child, rest, text)
            o[token] = c
            return (.object(o), v)
        case .array(var a):
            guard let i = Int(token), a.indices.contains(i) else {
                throw Failure(message: "remove operation does not apply: doc is missing path: \"\(text)\": missing value")
            }
            if rest.isEmpty { let v = a.remove(at: i); return (.array(a), v) }
            let (c, v) = try remove(a[i], rest, text)
            a[i] = c
            return (.array(a), v)
        default:
            throw Failure(message: "remove operation does not apply: doc is missing path: \"\(text)\": missing value")
        }
    }
}
