import KubeCore

/// Builds `JSONValue` documents from parser events with an explicit stack (deep input cannot overflow the
/// call stack), resolving anchors, aliases and merge keys, and rejecting what kubectl rejects.
struct DocumentBuilder {
    /// Expanded nodes allowed per document: aliases count as the whole subtree they repeat, so a
    /// "billion laughs" document fails after a few events instead of describing 10^9 nodes.
    static let maxExpandedNodes = 1_000_000
    /// Expanded scalar bytes allowed per document, for the same attack with one long aliased string.
    static let maxExpandedBytes = 64 << 20
    /// Nesting allowed; far beyond any manifest, low enough that recursive consumers cannot overflow.
    static let maxDepth = 1_000

    private(set) var documents: [(value: JSONValue, start: Mark)] = []

    private var stack: [Frame] = []
    private var root: JSONValue?
    private var documentStart = Mark(line: 1, column: 1)
    private var anchors: [String: (value: JSONValue, size: Size)] = [:]
    private var expanded = Size(nodes: 0, bytes: 0)

    mutating func handle(_ event: Event, at mark: Mark) throws(YAMLError) {
        switch event {
        case .streamStart, .streamEnd:
            break
        case .documentStart:
            stack = []
            root = nil
            anchors = [:]
            expanded = Size(nodes: 0, bytes: 0)
            documentStart = mark
        case .documentEnd:
            documents.append((root ?? .null, documentStart))
        case .scalar(let scalar):
            let size = Size(nodes: 1, bytes: scalar.value.utf8.count)
            try count(size, at: mark)
            let (value, key) = try Self.resolve(scalar, at: mark)
            try attach(value, size: size, key: key, anchor: scalar.anchor, at: mark)
        case .alias(let name):
            guard let target = anchors[name] else {
                throw mark.error("unknown anchor '\(name)' referenced (an alias must follow its anchor's node)")
            }
            try count(target.size, at: mark)
            try attach(target.value, size: target.size, key: KeyForm(target.value), anchor: nil, at: mark)
        case .sequenceStart(let anchor):
            try push(Frame(isMapping: false, anchor: anchor, start: mark), at: mark)
        case .mappingStart(let anchor):
            try push(Frame(isMapping: true, anchor: anchor, start: mark), at: mark)
        case .sequenceEnd, .mappingEnd:
            guard let frame = stack.popLast() else { return }
            try attach(frame.value, size: frame.size, key: .collection, anchor: frame.anchor, at: frame.start)
        }
    }

    // MARK: - Nodes

    /// How a node would serve as a mapping key.
    enum KeyForm {
        case scalar(ResolvedScalar)
        case merge
        case collection

        init(_ value: JSONValue) {
            switch value {
            case .null: self = .scalar(.null)
            case .bool(let b): self = .scalar(.bool(b))
            case .int(let i): self = .scalar(.int(i))
            case .double(let d): self = .scalar(.double(d))
            case .string(let s): self = .scalar(.string(s))
            case .array, .object: self = .collection
            }
        }
    }

    private static func resolve(_ s: ScalarEvent, at mark: Mark) throws(YAMLError) -> (JSONValue, KeyForm) {
        guard let tag = s.tag else {
            guard s.plainImplicit else { return (.string(s.value), .scalar(.string(s.value))) }
            // go-yaml v2 `isMerge`: a plain untagged `<<` (or `!!merge`) key; as a value it is just "<<".
            if s.value == "<<" { return (.string(s.value), .merge) }
            let r = ScalarResolver.resolvePlain(s.value)
            return (r.jsonValue, .scalar(r))
        }
        if tag == Tag.merge { return (.string(s.value), .merge) }
        if tag == Tag.binary {
            guard let decoded = Base64.decodeToString(s.value) else {
                throw mark.error("!!binary value contains invalid base64 data")
            }
            return (.string(decoded), .scalar(.string(decoded)))
        }
        guard Tag.resolvable.contains(tag) else { return (.string(s.value), .scalar(.string(s.value))) }
        guard let r = ScalarResolver.resolveTagged(s.value, tag: tag) else {
            throw mark.error("cannot decode `\(s.value)` as a !!\(tag.dropFirst(Tag.prefix.count))")
        }
        return (r.jsonValue, .scalar(r))
    }

    private mutating func count(_ size: Size, at mark: Mark) throws(YAMLError) {
        expanded.add(size)
        if expanded.nodes > Self.maxExpandedNodes {
            throw mark.error("document expands to more than \(Self.maxExpandedNodes) nodes (too many aliases?)")
        }
        if expanded.bytes > Self.maxExpandedBytes {
            throw mark.error("document expands to more than \(Self.maxExpandedBytes) bytes of scalars (too many aliases?)")
        }
    }

    private mutating func push(_ frame: Frame, at mark: Mark) throws(YAMLError) {
        if let top = stack.last, top.isMapping, top.pendingKey == nil {
            throw mark.error("mapping keys must be scalars, not sequences or mappings")
        }
        guard stack.count < Self.maxDepth else {
            throw mark.error("nesting deeper than \(Self.maxDepth) levels")
        }
        try count(Size(nodes: 1, bytes: 0), at: mark)
        stack.append(frame)
    }

    /// Hands a finished node to its parent: a sequence item, a mapping key, a mapping value, or the root.
    private mutating func attach(
        _ value: JSONValue, size: Size, key: KeyForm, anchor: String?, at mark: Mark
    ) throws(YAMLError) {
        if let anchor { anchors[anchor] = (value, size) }
        let top = stack.count - 1
        guard top >= 0 else {
            root = value
            return
        }
        stack[top].size.add(size)
        if !stack[top].isMapping {
            stack[top].items.append(value)
            return
        }
        switch stack[top].pendingKey {
        case nil:
            stack[top].pendingKey = try mappingKey(key, in: stack[top], at: mark)
        case .merge(let keyMark)?:
            // go-yaml v2 (kubectl) applies a merge where it stands, overwriting keys set before it, and
            // walks a list of maps backwards so that earlier maps win. Checked with kubectl 1.32:
            // `{q: 3, <<: {q: 2}}` reads as q: 2. (The YAML merge spec and go-yaml v3 let explicit keys win;
            // the two agree whenever `<<` comes first, as it does in practice.)
            for source in try mergeSources(value, at: keyMark).reversed() {
                for (k, v) in source { stack[top].entries[k] = v }
            }
            stack[top].pendingKey = nil
        case .key(let name, let keyMark)?:
            stack[top].entries[name] = value
            stack[top].keyMarks[name] = keyMark
            stack[top].pendingKey = nil
        }
    }

    private func mappingKey(_ key: KeyForm, in frame: Frame, at mark: Mark) throws(YAMLError) -> PendingKey {
        switch key {
        case .merge:
            return .merge(mark)
        case .collection:
            throw mark.error("mapping keys must be scalars, not sequences or mappings")
        case .scalar(let scalar):
            guard let name = MapKey.string(for: scalar) else {
                throw mark.error("unsupported mapping key \(scalar.jsonValue.serialized()) (keys must be strings, numbers or booleans)")
            }
            if let first = frame.keyMarks[name] {
                throw mark.error("mapping key \"\(name)\" already defined at line \(first.line)")
            }
            return .key(name, mark)
        }
    }

    /// `<<: *base` or `<<: [*a, *b]`: a map or a list of maps, as go-yaml's `merge` demands.
    private func mergeSources(_ value: JSONValue, at mark: Mark) throws(YAMLError) -> [[String: JSONValue]] {
        let wantMap = mark.error("map merge requires a map or a sequence of maps as the value")
        switch value {
        case .object(let o): return [o]
        case .array(let items):
            var maps: [[String: JSONValue]] = []
            for item in items {
                guard case .object(let o) = item else { throw wantMap }
                maps.append(o)
            }
            return maps
        default: throw wantMap
        }
    }
}

/// A collection under construction. One struct (not an enum with payloads) so appends mutate in place.
private struct Frame {
    var isMapping: Bool
    var anchor: String?
    var start: Mark
    var size = Size(nodes: 1, bytes: 0)
    var items: [JSONValue] = []
    var entries: [String: JSONValue] = [:]
    /// Where each explicit key was written, to name the first one in a duplicate-key error.
    var keyMarks: [String: Mark] = [:]
    var pendingKey: PendingKey?

    init(isMapping: Bool, anchor: String?, start: Mark) {
        self.isMapping = isMapping
        self.anchor = anchor
        self.start = start
    }

    var value: JSONValue { isMapping ? .object(entries) : .array(items) }
}

/// How much a node expands to: nodes in its subtree and bytes of their scalars.
private struct Size {
    var nodes: Int
    var bytes: Int

    mutating func add(_ other: Size) {
        nodes += other.nodes
        bytes += other.bytes
    }
}

private enum PendingKey: Equatable {
    case key(String, Mark)
    case merge(Mark)
}
