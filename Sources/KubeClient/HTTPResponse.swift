import Foundation

/// A complete HTTP answer as returned by `KubeClient.raw` and `proxy`.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header fields in arrival order; names as sent by the server.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// First header with this name, compared case-insensitively (HTTP field names are).
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
    public var isSuccess: Bool { (200..<300).contains(status) }

    /// `Retry-After` in seconds (the API server only sends the delta-seconds form).
    var retryAfterSeconds: Int? { header("Retry-After").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
}
