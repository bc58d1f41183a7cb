import Foundation

/// The service-account configuration of a pod (rule 18).
public enum InClusterConfig {
    /// Where the kubelet mounts a pod's ServiceAccount token, CA and namespace.
    public static let defaultDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    static func load(environment: [String: String], directory: String) throws(KubeClientError) -> KubeConfig {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty else {
            throw .config(file: nil, field: "KUBERNETES_SERVICE_HOST", message: "not set: not running in a cluster")
        }
        let port = environment["KUBERNETES_SERVICE_PORT"].flatMap { $0.isEmpty ? nil : $0 } ?? "443"
        // An IPv6 address must be bracketed in a URL.
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let tokenFile = directory + "/token"
        let caFile = directory + "/ca.crt"
        let fm = FileManager.default
        guard let ca = fm.contents(atPath: caFile), !ca.isEmpty else {
            // Never a reason to skip verification.
            throw .config(file: caFile, field: nil, message: "service account CA certificate is missing or empty")
        }
        guard fm.isReadableFile(atPath: tokenFile) else {
            throw .config(file: tokenFile, field: nil, message: "service account token is missing")
        }
        var namespace = "default"
        if let data = fm.contents(atPath: directory + "/namespace") {
            let ns = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if !ns.isEmpty { namespace = ns }
        }
        return KubeConfig(server: "https://\(hostPart):\(port)", namespace: namespace, caData: [UInt8](ca),
                          tokenFile: tokenFile)
    }
}
