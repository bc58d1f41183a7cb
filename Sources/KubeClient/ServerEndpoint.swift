/// The API server's base URL and how to reach it, derived once from `KubeConfig`.
struct ServerEndpoint: Sendable {
    /// Scheme, host and port (and any path prefix), without a trailing slash; the host is the TLS server
    /// name when one is configured.
    let baseURL: String
    let tls: TLSSettings

    init(config: KubeConfig) throws(KubeClientError) {
        var server = config.server
        while server.hasSuffix("/") { server.removeLast() }
        guard let schemeEnd = server.range(of: "://") else {
            throw .config(file: nil, field: "server", message: "\"\(config.server)\" is not a URL (expected https://host:port)")
        }
        let scheme = server[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "https" || scheme == "http" else {
            throw .config(file: nil, field: "server", message: "unsupported scheme \"\(scheme)\"")
        }
        var tls = TLSSettings(caData: config.caData, caFile: config.caFile, clientCertData: config.clientCertData,
                              clientKeyData: config.clientKeyData, insecureSkipVerify: config.insecureSkipTLSVerify,
                              serverName: config.tlsServerName)
        var base = server
        if let serverName = config.tlsServerName, scheme == "https" {
            // Keep connecting to the configured address, but let SNI and certificate checks use serverName:
            // rewrite the URL's host and map it back with CURLOPT_CONNECT_TO.
            let rest = server[schemeEnd.upperBound...]
            let authority = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let path = rest.dropFirst(authority.count)
            let (host, port) = Self.splitHostPort(authority, defaultPort: "443")
            let nameHost = serverName.contains(":") ? "[\(serverName)]" : serverName
            base = "https://\(nameHost):\(port)\(path)"
            tls.connectTo = "\(nameHost):\(port):\(host):\(port)"
        }
        self.baseURL = base
        self.tls = tls
    }

    /// Splits `host:port` or `[v6]:port`; the host keeps its brackets.
    static func splitHostPort(_ authority: String, defaultPort: String) -> (String, String) {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            let host = String(authority[...close])
            let after = authority[authority.index(after: close)...]
            return (host, after.hasPrefix(":") ? String(after.dropFirst()) : defaultPort)
        }
        if let colon = authority.lastIndex(of: ":") {
            return (String(authority[..<colon]), String(authority[authority.index(after: colon)...]))
        }
        return (authority, defaultPort)
    }

    func url(path: String, query: [(String, String)]) -> String {
        var url = baseURL + (path.hasPrefix("/") ? path : "/" + path)
        if !query.isEmpty {
            url += "?" + query.map { "\(Self.percentEncode($0.0))=\(Self.percentEncode($0.1))" }.joined(separator: "&")
        }
        return url
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters (selectors contain `=`, `,`, `!`, spaces).
    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0xF)]))
            }
        }
        return out
    }
}
