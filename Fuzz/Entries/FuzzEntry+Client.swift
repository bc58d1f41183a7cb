@testable import KubeClient
import KubeYAML

extension FuzzEntry {
    /// Manifests: every document of a stream, then written back out (the emitter walks what the reader built).
    public static let yaml = FuzzEntry(name: "YAML") { bytes in
        outcome {
            for document in try YAML.parseDocuments(bytes.text) { _ = YAML.emit(document) }
        }
    }

    /// One kubeconfig file, merged and resolved to its current context as `KubeConfig.load` does. Relative
    /// paths point into a folder that does not exist, so nothing on the machine is read through them.
    public static let kubeconfig = FuzzEntry(name: "Kubeconfig") { bytes in
        outcome {
            let loader = KubeconfigLoader(environment: ["HOME": "/nonexistent/gantry-fuzz"])
            var merged = KubeconfigLoader.Merged()
            try loader.merge(text: bytes.text, file: "/nonexistent/gantry-fuzz/config", into: &merged)
            _ = try loader.resolve(merged, contextOverride: nil)
        }
    }

    /// A watch response body as the network may cut it: the first byte picks the chunk size (1 B to 64 KiB) and
    /// whether lines are held to a small limit; every framed line is decoded as a watch event. An event that does
    /// not decode is an error the watcher reports; a line over the limit ends the stream.
    public static let watchStream = FuzzEntry(name: "WatchStream") { bytes in
        guard let first = bytes.first else { return .value }
        let body = UnsafeRawBufferPointer(rebasing: bytes.dropFirst())
        let chunkSize = 1 << Int(first & 0x0F)
        var framer = LineFramer(maxLineLength: first & 0x80 != 0 ? 256 : LineFramer.defaultMaxLineLength)
        var decodeErrors: [String] = []
        func decode(_ line: [UInt8]) {
            if case .failure(let error) = Result(catching: { try StreamDecoders.watchEvent(line) }) {
                decodeErrors.append(String(describing: error))
            }
        }
        var start = 0
        while start < body.count {
            let end = min(start + chunkSize, body.count)
            let chunk = UnsafeRawBufferPointer(rebasing: body[start..<end]).assumingMemoryBound(to: UInt8.self)
            do { try framer.append(buffer: chunk).forEach(decode) } catch { return .error(String(describing: error)) }
            start = end
        }
        framer.finish().map(decode)
        return decodeErrors.first.map(Outcome.error) ?? .value
    }
}
