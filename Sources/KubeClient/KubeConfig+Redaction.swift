/// Printing a config (in logs, in test failures, with `dump`) must never reveal a token or a private key:
/// description, debug description and reflection all show only what kind of credential is present.
extension KubeConfig: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        var auth: [String] = []
        if token != nil { auth.append("token") }
        if let tokenFile { auth.append("tokenFile=\(tokenFile)") }
        if let exec { auth.append("exec=\(exec.command)") }
        if clientCertData != nil { auth.append("client-certificate") }
        var text = "KubeConfig(server: \(server), namespace: \(namespace)"
        if let contextName { text += ", context: \(contextName)" }
        if let tlsServerName { text += ", tls-server-name: \(tlsServerName)" }
        if insecureSkipTLSVerify { text += ", insecure-skip-tls-verify" }
        if let proxyURL { text += ", proxy-url: \(Self.withoutUserInfo(proxyURL))" }
        text += ", auth: [\(auth.joined(separator: ", "))])"
        return text
    }

    public var debugDescription: String { description }

    /// `scheme://user:password@host` → `scheme://<redacted>@host`.
    static func withoutUserInfo(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://"), let at = url[schemeEnd.upperBound...].lastIndex(of: "@") else { return url }
        return url[..<schemeEnd.upperBound] + "<redacted>" + url[at...]
    }

    public var customMirror: Mirror {
        Mirror(self, children: ["server": server, "namespace": namespace, "contextName": contextName as Any,
                                "token": token == nil ? "nil" : "<redacted>", "clientKeyData": clientKeyData == nil ? "nil" : "<redacted>",
                                "tokenFile": tokenFile as Any, "exec": exec as Any,
                                "proxyURL": proxyURL.map(Self.withoutUserInfo) as Any], displayStyle: .struct)
    }
}
