import Foundation
import KubeCore

/// Reads and merges kubeconfig files into one `KubeConfig` (rule 19).
///
/// Merging follows kubectl (`clientcmd`'s loading rules): files are read in order and, for each named
/// cluster, user and context and for `current-context`, the first file that sets it wins. Every entry
/// remembers the file it came from, so relative paths resolve against that file's folder and errors can
/// name the file and the field (`users[0].user.client-certificate-data: not valid base64`).
struct KubeconfigLoader {
    var environment: [String: String]

    /// A named entry of one of the three lists, with where it came from.
    struct Entry {
        var name: String
        var body: JSONValue
        var file: String
        var field: String  // e.g. "users[0].user"

        var directory: String { (file as NSString).deletingLastPathComponent }

        func error(_ key: String, _ message: String) -> KubeClientError {
            .config(file: file, field: "\(field).\(key)", message: message)
        }
    }

    /// The merged view of all files.
    struct Merged {
        var clusters: [String: Entry] = [:]
        var users: [String: Entry] = [:]
        var contexts: [String: Entry] = [:]
        var currentContext: String?
        var currentContextFile: String?
        var files: [String] = []
    }

    func load(path: String?, context: String?) throws(KubeClientError) -> KubeConfig {
        let files = try kubeconfigFiles(path: path)
        var merged = Merged()
        for file in files { try merge(file: file, into: &merged) }
        return try resolve(merged, contextOverride: context)
    }

    // MARK: which files

    func kubeconfigFiles(path: String?) throws(KubeClientError) -> [String] {
        let fm = FileManager.default
        if let path {
            let list = path.split(separator: ":").map(String.init).filter { !$0.isEmpty }
            for file in list where !fm.fileExists(atPath: file) {
                throw .config(file: file, field: nil, message: "kubeconfig file does not exist")
            }
            if list.isEmpty { throw .config(file: nil, field: nil, message: "empty kubeconfig path") }
            return list
        }
        if let env = environment["KUBECONFIG"], !env.isEmpty {
            // kubectl skips entries of $KUBECONFIG that do not exist.
            let list = env.split(separator: ":").map(String.init).filter { !$0.isEmpty && fm.fileExists(atPath: $0) }
            if list.isEmpty { throw .config(file: env, field: nil, message: "none of the files in $KUBECONFIG exists") }
            return list
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let file = home + "/.kube/config"
        guard fm.fileExists(atPath: file) else {
            throw .config(file: file, field: nil, message: "no kubeconfig: the file does not exist and $KUBECONFIG is not set")
        }
        return [file]
    }

    // MARK: merging

    func merge(file: String, into merged: inout Merged) throws(KubeClientError) {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw .config(file: file, field: nil, message: "cannot read: \(error.localizedDescription)")
        }
        try merge(text: text, file: file, into: &merged)
    }

    /// One file's text, already read; `file` names it in errors and anchors its relative paths.
    func merge(text: String, file: String, into merged: inout Merged) throws(KubeClientError) {
        let document = try parseKubeconfigText(text, file: file)
        merged.files.append(file)
        if document.isNull { return }  // an empty file is allowed, as in kubectl
        guard document.objectValue != nil else {
            throw .config(file: file, field: nil, message: "a kubeconfig must be a mapping")
        }
        if merged.currentContext == nil, let current = document["current-context"]?.stringValue, !current.isEmpty {
            merged.currentContext = current
            merged.currentContextFile = file
        }
        try mergeList(document, "clusters", "cluster", file, &merged.clusters)
        try mergeList(document, "users", "user", file, &merged.users)
        try mergeList(document, "contexts", "context", file, &merged.contexts)
    }

    private func mergeList(_ document: JSONValue, _ list: String, _ item: String, _ file: String,
                           _ into: inout [String: Entry]) throws(KubeClientError) {
        guard let value = document[list], !value.isNull else { return }
        guard let array = value.arrayValue else { throw .config(file: file, field: list, message: "must be a list") }
        for (index, element) in array.enumerated() {
            let field = "\(list)[\(index)]"
            guard element.objectValue != nil else { throw .config(file: file, field: field, message: "must be a mapping") }
            guard let name = element["name"]?.stringValue, !name.isEmpty else {
                throw .config(file: file, field: "\(field).name", message: "missing")
            }
            let body = element[item] ?? .emptyObject
            guard body.objectValue != nil else { throw .config(file: file, field: "\(field).\(item)", message: "must be a mapping") }
            if into[name] == nil {
                into[name] = Entry(name: name, body: body, file: file, field: "\(field).\(item)")
            }
        }
    }

    // MARK: resolving the chosen context

    func resolve(_ merged: Merged, contextOverride: String?) throws(KubeClientError) -> KubeConfig {
        let firstFile = merged.files.first
        guard let contextName = contextOverride ?? merged.currentContext else {
            throw .config(file: firstFile, field: "current-context", message: "not set and no context was given")
        }
        guard let context = merged.contexts[contextName] else {
            let file = contextOverride == nil ? merged.currentContextFile : firstFile
            throw .config(file: file, field: contextOverride == nil ? "current-context" : nil,
                          message: "context \"\(contextName)\" not found")
        }
        guard let clusterName = context.body["cluster"]?.stringValue, !clusterName.isEmpty else {
            throw context.error("cluster", "missing")
        }
        guard let cluster = merged.clusters[clusterName] else {
            throw context.error("cluster", "cluster \"\(clusterName)\" not found")
        }
        guard let server = cluster.body["server"]?.stringValue, !server.isEmpty else {
            throw cluster.error("server", "missing")
        }
        var config = KubeConfig(server: server, contextName: contextName)
        if let ns = context.body["namespace"]?.stringValue, !ns.isEmpty { config.namespace = ns }

        config.caData = try dataField(cluster, data: "certificate-authority-data", path: "certificate-authority")
        config.insecureSkipTLSVerify = try boolField(cluster, "insecure-skip-tls-verify") ?? false
        config.tlsServerName = try stringField(cluster, "tls-server-name")
        if let proxy = try stringField(cluster, "proxy-url"), !proxy.isEmpty {
            let scheme = proxy.split(separator: ":", maxSplits: 1).first.map { $0.lowercased() } ?? ""
            guard ["http", "https", "socks5", "socks5h"].contains(scheme), proxy.contains("://") else {
                throw cluster.error("proxy-url", "\"\(proxy)\" must be a URL with scheme http, https, socks5 or socks5h")
            }
            config.proxyURL = proxy
        }

        if let userName = context.body["user"]?.stringValue, !userName.isEmpty {
            guard let user = merged.users[userName] else {
                throw context.error("user", "user \"\(userName)\" not found")
            }
            try applyUser(user, to: &config)
        }
        return config
    }

    private func applyUser(_ user: Entry, to config: inout KubeConfig) throws(KubeClientError) {
        config.clientCertData = try dataField(user, data: "client-certificate-data", path: "client-certificate")
        config.clientKeyData = try dataField(user, data: "client-key-data", path: "client-key")
        if (config.clientCertData == nil) != (config.clientKeyData == nil) {
            throw user.error(config.clientCertData == nil ? "client-certificate" : "client-key",
                             "a client certificate needs both the certificate and the key")
        }
        config.token = try stringField(user, "token")
        if let tokenFile = try stringField(user, "tokenFile") {
            config.tokenFile = absolute(tokenFile, in: user.directory)
        }
        if let exec = user.body["exec"], !exec.isNull {
            config.exec = try execConfig(exec, user)
        }
        let otherCredentials = config.exec != nil || config.token != nil || config.tokenFile != nil || config.clientCertData != nil
        if user.body["auth-provider"] != nil, !otherCredentials {
            throw user.error("auth-provider", "auth-provider plugins are not supported; use an exec plugin (e.g. kubelogin for OIDC, gke-gcloud-auth-plugin, kubelogin for Azure)")
        }
        // Basic authentication left kube-apiserver in 1.19; failing here beats a request that is silently anonymous.
        for field in ["username", "password"] where user.body[field] != nil && !otherCredentials {
            throw user.error(field, "basic authentication (username/password) is not supported by Kubernetes since 1.19; use a token, a client certificate or an exec plugin")
        }
    }

    private func execConfig(_ exec: JSONValue, _ user: Entry) throws(KubeClientError) -> ExecConfig {
        guard exec.objectValue != nil else { throw user.error("exec", "must be a mapping") }
        guard let command = exec["command"]?.stringValue, !command.isEmpty else { throw user.error("exec.command", "missing") }
        guard let apiVersion = exec["apiVersion"]?.stringValue else { throw user.error("exec.apiVersion", "missing") }
        guard ExecCredentialPlugin.supportedVersions.contains(apiVersion) else {
            throw user.error("exec.apiVersion", "unsupported \"\(apiVersion)\" (supported: \(ExecCredentialPlugin.supportedVersions.joined(separator: ", ")))")
        }
        var args: [String] = []
        if let list = exec["args"], !list.isNull {
            guard let array = list.arrayValue else { throw user.error("exec.args", "must be a list of strings") }
            for (i, arg) in array.enumerated() {
                guard let s = arg.stringValue else { throw user.error("exec.args[\(i)]", "must be a string") }
                args.append(s)
            }
        }
        var env: [ExecConfig.EnvVar] = []
        if let list = exec["env"], !list.isNull {
            guard let array = list.arrayValue else { throw user.error("exec.env", "must be a list") }
            for (i, item) in array.enumerated() {
                guard let name = item["name"]?.stringValue, let value = item["value"]?.stringValue else {
                    throw user.error("exec.env[\(i)]", "needs string name and value")
                }
                env.append(.init(name: name, value: value))
            }
        }
        return ExecConfig(command: command, args: args, env: env, apiVersion: apiVersion,
                          provideClusterInfo: exec["provideClusterInfo"]?.boolValue ?? false,
                          installHint: exec["installHint"]?.stringValue, baseDirectory: user.directory)
    }

    // MARK: field readers

    private func stringField(_ entry: Entry, _ key: String) throws(KubeClientError) -> String? {
        guard let value = entry.body[key], !value.isNull else { return nil }
        guard let s = value.stringValue else { throw entry.error(key, "must be a string") }
        return s.isEmpty ? nil : s
    }

    private func boolField(_ entry: Entry, _ key: String) throws(KubeClientError) -> Bool? {
        guard let value = entry.body[key], !value.isNull else { return nil }
        guard let b = value.boolValue else { throw entry.error(key, "must be true or false") }
        return b
    }

    /// `<x>-data` (base64) wins over `<x>` (a file path relative to the kubeconfig's folder).
    private func dataField(_ entry: Entry, data: String, path: String) throws(KubeClientError) -> [UInt8]? {
        if let encoded = try stringField(entry, data) {
            guard let bytes = Base64.decode(encoded) else { throw entry.error(data, "not valid base64") }
            return bytes
        }
        if let file = try stringField(entry, path) {
            let full = absolute(file, in: entry.directory)
            guard let contents = FileManager.default.contents(atPath: full) else {
                throw entry.error(path, "cannot read \(full)")
            }
            return [UInt8](contents)
        }
        return nil
    }

    private func absolute(_ path: String, in directory: String) -> String {
        if path.hasPrefix("/") { return path }
        if path.hasPrefix("~/"), let home = environment["HOME"] { return home + path.dropFirst(1) }
        return directory.isEmpty ? path : directory + "/" + path
    }
}

/// Strict base64 (standard alphabet, padding optional), ignoring whitespace and line breaks.
enum Base64 {
    static func decode(_ text: String) -> [UInt8]? {
        var cleaned = text.filter { !$0.isWhitespace }
        while cleaned.count % 4 != 0 { cleaned.append("=") }
        guard let data = Data(base64Encoded: cleaned) else { return nil }
        return [UInt8](data)
    }

    static func encode(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
}
