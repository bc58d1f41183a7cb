/// One HTTP exchange as the transport sees it: fully resolved URL, headers (auth already added) and TLS material.
struct TransportRequest: Sendable {
    var method: String
    var url: String
    var headers: [(String, String)]
    var body: [UInt8]?
    /// Whole-transfer limit; nil for streams, which end when the server or the consumer ends them.
    var timeout: Duration?
    var connectTimeout: Duration = .seconds(10)
    var tls: TLSSettings
    var userAgent: String
    /// `KubeConfig.proxyURL`; nil leaves proxying to libcurl's environment variables.
    var proxy: String? = nil
}

/// TLS material for one request, resolved from `KubeConfig` and the current credentials.
struct TLSSettings: Sendable, Equatable {
    var caData: [UInt8]?
    var caFile: String?
    var clientCertData: [UInt8]?
    var clientKeyData: [UInt8]?
    var insecureSkipVerify = false
    /// When set, the connection goes to the URL's address but TLS (SNI and certificate check) uses this name;
    /// done with CURLOPT_CONNECT_TO because libcurl 7.88 has no separate SNI option.
    var serverName: String?
    /// `HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT` for CURLOPT_CONNECT_TO, set together with a URL rewritten
    /// to `serverName` (see `ServerEndpoint`).
    var connectTo: String?
}
