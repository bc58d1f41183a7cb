/// What a header of `rollout.validation.requests[].headers` may be. The requests go through kube-apiserver's
/// service proxy, which never passes some headers on to the model server; a validation that sent them would test
/// something other than what it says, so the schema refuses them (CEL rules on each header, case-insensitive as
/// header names are):
/// - `Authorization`: the authentication filter deletes it once it has authenticated the caller
///   (k8s.io/apiserver `filters.WithAuthentication`); it is also where the operator's own credential goes.
/// - `Impersonate-*`: asks the API server to act as another user; the impersonation filter deletes them
///   (`filters.WithImpersonation`).
/// - hop-by-hop headers, which Go's `httputil.ReverseProxy` under the proxy (apimachinery's
///   `UpgradeAwareHandler`) removes, and `Host` and `Content-Length`, which the proxy sets itself.
public enum ProxiedHeaders {
    /// An RFC 9110 field name: a token.
    public static let namePattern = "^[-!#$%&'*+.^_`|~0-9A-Za-z]+$"

    /// Go's `httputil` hop-by-hop list, plus the two headers the proxy writes itself.
    public static let hopByHop = ["Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection",
                                  "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Host", "Content-Length"]

    /// Each refusal: a case-insensitive RE2 pattern of refused names, and why.
    public static let refused: [(pattern: String, message: String)] = [
        ("(?i)^authorization$",
         "headers: Authorization never reaches the model server: the API server authenticates the operator with it and deletes it before proxying (k8s.io/apiserver WithAuthentication); send the credential in another header, e.g. X-Api-Key"),
        ("(?i)^impersonate-",
         "headers: Impersonate-* headers ask the API server to act as another user and are deleted before proxying (k8s.io/apiserver WithImpersonation); they never reach the model server"),
        ("(?i)^(" + hopByHop.map { $0.lowercased() }.joined(separator: "|") + ")$",
         "headers: \(hopByHop.dropLast(2).joined(separator: ", ")) are hop-by-hop and Host and Content-Length are set by the proxy: none of them reaches the model server"),
    ]

    /// The CEL rules of one header object (`self.name`, `self.value`).
    public static var schemaRules: [(rule: String, message: String)] {
        [("self.name.matches(\"\(namePattern)\")",
          "headers: name must be an HTTP header name (letters, digits and !#$%&'*+-.^_`|~), e.g. X-Api-Key")]
            + refused.map { ("!self.name.matches('\($0.pattern)')", $0.message) }
            + [(#"!self.value.matches('[\\x00-\\x08\\x0A-\\x1F\\x7F]')"#,
                "headers: value must not contain control characters (a line break, NUL) other than tab")]
    }
}
