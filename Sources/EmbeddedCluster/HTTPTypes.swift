import Foundation
import KubeCore

/// A request as the API handlers see it, independent of the HTTP library.
struct APIRequest: Sendable {
    var method: String
    var path: String
    /// Query parameters, percent-decoded (a repeated key keeps its first value; `all` keeps every value).
    var query: [String: String]
    var queryAll: [(String, String)]
    /// Header names lowercased.
    var headers: [String: String]
    var body: [UInt8]
    var rawQuery: String?
    /// The client connection's endpoints (see `Authenticator`); nil when unknown.
    var connection: Authenticator.Connection?
    var peerPort: Int? { connection?.peerPort }
    /// "HTTP/1.1" or "HTTP/2" (request log).
    var httpVersion: String
    /// Who sent it, once `APIServer.handle` authenticated it (nil before, and for an anonymous request).
    var user: String?
    /// The authorizer's decisions for this request (shared by its copies; see AuthorizationTrail).
    let authorizations = AuthorizationTrail()

    init(method: String, path: String, rawQuery: String?, headers: [String: String], body: [UInt8],
         connection: Authenticator.Connection? = nil, httpVersion: String = "HTTP/1.1") {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.rawQuery = rawQuery
        self.connection = connection
        self.httpVersion = httpVersion
        var q: [String: String] = [:]
        var all: [(String, String)] = []
        for pair in (rawQuery ?? "").split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.decode(kv.first.map(String.init) ?? "")
            let value = kv.count > 1 ? Self.decode(String(kv[1])) : ""
            if q[key] == nil { q[key] = value }
            all.append((key, value))
        }
        query = q
        queryAll = all
    }

    /// Header fields by lowercased name, repeated ones joined with "," (RFC 9110 §5.3).
    static func foldHeaders(_ fields: some Sequence<(String, String)>) -> [String: String] {
        var headers: [String: String] = [:]
        for (name, value) in fields {
            let key = name.lowercased()
            if let prior = headers[key] { headers[key] = prior + "," + value } else { headers[key] = value }
        }
        return headers
    }

    static func decode(_ s: String) -> String {
        let plusFixed = s.replacingOccurrences(of: "+", with: " ")
        return plusFixed.removingPercentEncoding ?? plusFixed
    }

    var accept: String { headers["accept"] ?? "" }
    var contentType: String { (headers["content-type"] ?? "application/json").split(separator: ";").first.map {
        $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? "application/json" }
    var dryRun: Bool { queryAll.contains { $0.0 == "dryRun" && $0.1 == "All" } }
    /// A bool query parameter as apimachinery converts one (Convert_Slice_string_To_bool): absent is false; `0`,
    /// `f` and `false`, in any case, are false; anything else, the empty string included (`?watch`), is true.
    func flag(_ name: String) -> Bool {
        guard let value = query[name]?.lowercased() else { return false }
        return value != "0" && value != "f" && value != "false"
    }

    /// An integer query parameter (`limit`, `timeoutSeconds`, `tailLines`) as apimachinery converts one: absent is
    /// nil; what Go's `strconv.ParseInt` refuses is a 400 naming the value, as kube-apiserver answers when it
    /// decodes the request's options, rather than a silent default.
    func integer(_ name: String) throws -> Int64? {
        guard let value = query[name] else { return nil }
        if let number = Int64(value) { return number }
        let digits = value.first == "+" || value.first == "-" ? value.dropFirst() : Substring(value)
        let outOfRange = !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
        throw APIStatusError.badRequest("strconv.ParseInt: parsing \(GoFormat.quote(value)): \(outOfRange ? "value out of range" : "invalid syntax")")
    }
    var wantsTable: Bool { accept.contains("as=Table") }
}

/// A response body: whole, or a stream of chunks (watch, follow logs).
enum APIBody: Sendable {
    case bytes([UInt8])
    case stream(AsyncStream<[UInt8]>)
}

struct APIResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: APIBody
    /// For a stream: ends it when the client goes away (its connection closed or reset), so the server stops
    /// producing for nobody even while the stream is idle, as kube-apiserver's request context is cancelled.
    var endStream: (@Sendable () -> Void)? = nil

    static func json(_ value: JSONValue, status: Int = 200, headers: [(String, String)] = []) -> APIResponse {
        var bytes = value.serializedBytes()
        bytes.append(0x0A)
        return APIResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: .bytes(bytes))
    }

    static func text(_ text: String, status: Int = 200, contentType: String = "text/plain") -> APIResponse {
        APIResponse(status: status, headers: [("Content-Type", contentType)], body: .bytes(Array(text.utf8)))
    }

    static func error(_ e: APIStatusError) -> APIResponse {
        var extra: [(String, String)] = []
        if let retry = e.retryAfterSeconds { extra.append(("Retry-After", String(retry))) }
        return json(e.status, status: e.code, headers: extra)
    }
}
