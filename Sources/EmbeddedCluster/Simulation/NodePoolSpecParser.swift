import KubeCore

/// A mistake in a `--nodes` spec: where it is and how to fix it.
struct NodeSpecError: Error, Sendable, Equatable, CustomStringConvertible {
    var spec: String
    var column: Int
    var message: String

    var description: String {
        "invalid --nodes spec at column \(column): \(message)\n  \(spec)\n  \(String(repeating: " ", count: max(0, column - 1)))^\n"
            + "  expected e.g. 4x{gpu: 8, product: A100, memory: 640Gi}, 2x{cpu: 32}"
    }
}

extension NodePoolSpec {
    /// Parses `4x{…}, 2x{…}`; an empty spec means the default pool, `none` no nodes at all.
    static func parseList(_ spec: String) throws(NodeSpecError) -> [NodePoolSpec] {
        if spec.simTrimmed == "none" { return [] }
        let text = spec.simTrimmed.isEmpty ? defaultSpec : spec
        var parser = FlowParser(text)
        var pools: [NodePoolSpec] = []
        do {
            while true {
                parser.skipSpace()
                let start = parser.index
                var digits = ""
                while let c = parser.peek, c.isNumber { digits.append(c); parser.index += 1 }
                var count = 1
                if !digits.isEmpty {
                    guard parser.peek == "x" || parser.peek == "X" else {
                        throw parser.fail("expected 'x' after the node count \(digits) (write \(digits)x{…})")
                    }
                    parser.index += 1
                    guard let n = Int(digits), n >= 1, n <= 1000 else {
                        throw parser.fail("node count must be between 1 and 1000", at: start)
                    }
                    count = n
                }
                parser.skipSpace()
                guard parser.peek == "{" else {
                    throw parser.fail("expected '{' starting a node pool (write e.g. 2x{gpu: 8})")
                }
                let objectStart = parser.index
                let object = try parser.parseObject()
                var pool = try NodePoolSpec(json: object, spec: text, column: objectStart + 1)
                pool.count = count
                pools.append(pool)
                parser.skipSpace()
                if parser.atEnd { break }
                guard parser.peek == "," else {
                    throw parser.fail("expected ',' between node pools")
                }
                parser.index += 1
            }
        } catch let failure as FlowParser.Failure {
            throw NodeSpecError(spec: text, column: failure.column, message: failure.message)
        } catch let error as NodeSpecError {
            throw error
        } catch {
            throw NodeSpecError(spec: text, column: parser.column, message: "\(error)")
        }
        return pools
    }

    /// Reads one `{…}` pool; `column` points errors at the pool.
    init(json: JSONValue, spec: String, column: Int) throws(NodeSpecError) {
        func fail(_ message: String) -> NodeSpecError { NodeSpecError(spec: spec, column: column, message: message) }
        func int(_ key: String, min: Int) throws(NodeSpecError) -> Int? {
            guard let raw = json[key] else { return nil }
            guard let i = raw.intValue, i >= min, i <= 100_000 else {
                throw fail("\(key) must be a whole number ≥ \(min), got \(raw)")
            }
            return Int(i)
        }
        func quantity(_ key: String) throws(NodeSpecError) -> ResourceQuantity? {
            guard let raw = json[key] else { return nil }
            guard let q = ResourceQuantity.from(raw), q > .zero else {
                throw fail("\(key) must be a positive quantity like 32, 500m or 640Gi, got \(raw)")
            }
            return q
        }
        func string(_ key: String) throws(NodeSpecError) -> String? {
            guard let raw = json[key] else { return nil }
            switch raw {
            case .string(let s): return s
            case .int(let i): return String(i)
            default: throw fail("\(key) must be a string, got \(raw)")
            }
        }
        for key in (json.objectValue ?? [:]).keys.sorted() where !Self.knownFields.contains(key) {
            let hint = Self.closest(to: key, in: Self.knownFields).map { " (did you mean \($0)?)" } ?? ""
            throw fail("unknown field \"\(key)\"\(hint); known fields: \(Self.knownFields.joined(separator: ", "))")
        }
        self.init()
        namePrefix = try string("name")
        gpu = try int("gpu", min: 0) ?? 0
        if let p = try string("product") { product = p }
        gpuMemoryMiB = try int("gpuMemory", min: 1)
        sharedGpu = try int("sharedGpu", min: 1)
        cpu = try quantity("cpu")
        memory = try quantity("memory")
        pods = try int("pods", min: 1) ?? 110
        imagePullSeconds = try int("imagePull", min: 0) ?? 0
        if let z = try string("zone") { zone = z }
        instanceType = try string("instanceType")
        if let raw = json["spot"] {
            guard let b = raw.boolValue else { throw fail("spot must be true or false, got \(raw)") }
            spot = b
        }
        if let raw = json["mig"] {
            guard let o = raw.objectValue else { throw fail("mig must map profiles to counts per GPU, e.g. mig: {1g.10gb: 7}") }
            for (profile, n) in o {
                guard let c = n.intValue, c >= 1, c <= 7 else { throw fail("mig \(profile) must be a count per GPU from 1 to 7, got \(n)") }
                mig[profile] = Int(c)
            }
            if gpu == 0 { throw fail("mig needs gpu: N (MIG instances are counted per GPU)") }
        }
        if sharedGpu != nil && gpu == 0 { throw fail("sharedGpu needs gpu: N (replicas are counted per GPU)") }
        if sharedGpu != nil && !mig.isEmpty { throw fail("use either mig or sharedGpu on a pool, not both") }
        if let raw = json["labels"] {
            guard let o = raw.objectValue else { throw fail("labels must be a map, e.g. labels: {team: ml}") }
            for (k, v) in o {
                switch v {
                case .string(let s): labels[k] = s
                case .int(let i): labels[k] = String(i)
                case .bool(let b): labels[k] = String(b)
                default: throw fail("label \(k) must be a string, got \(v)")
                }
            }
        }
        if let raw = json["taints"] {
            guard let items = raw.arrayValue else {
                throw fail("taints must be a list, e.g. taints: [dedicated=ml:NoSchedule] (or [] for none)")
            }
            var parsed: [Taint] = []
            for item in items {
                guard let s = item.stringValue, let t = Taint(s) else {
                    throw fail("taint \(item) must look like key=value:Effect with Effect one of \(Taint.effects.joined(separator: ", "))")
                }
                parsed.append(t)
            }
            taints = parsed
        }
    }

    /// The known field nearest to a misspelling (edit distance ≤ 3), for "did you mean".
    static func closest(to word: String, in candidates: [String]) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var row = Array(0...b.count)
            for i in 1...max(1, a.count) where !a.isEmpty {
                var previous = row[0]
                row[0] = i
                for j in stride(from: 1, through: b.count, by: 1) {
                    let old = row[j]
                    row[j] = Swift.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                    previous = old
                }
            }
            return a.isEmpty ? b.count : row[b.count]
        }
        let lower = Array(word.lowercased())
        var best: (name: String, distance: Int)?
        for candidate in candidates.sorted() {
            let d = distance(lower, Array(candidate.lowercased()))
            if d <= 3, d < (best?.distance ?? Int.max) { best = (candidate, d) }
        }
        return best?.name
    }
}
