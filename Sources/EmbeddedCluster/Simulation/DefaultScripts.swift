import KubeCore

/// What a container without a script does, chosen from its image name (documented in docs/embedded-cluster.md):
/// - init containers: exit 0 after 1 s;
/// - `*jupyter*` / `*notebook*`: run until deleted, ready after 1 s, answer `/api/status` (and an empty `/api/kernels`, `/api/terminals`) like Jupyter Server
///   (`started`, `last_activity` = start time, `kernels`, `connections`) and `/` with 200;
/// - inference-like (`vllm`, `triton`, `tgi`, `text-generation`, `kserve`, `inference`, `serving`, `ollama`):
///   run until deleted, ready after 2 s, 200 on `/`, `/health`, `/healthz`, `/ready`, `/v1/models` (OpenAI list),
///   `/v1/models/*` (KServe v1 model status), `/v2/health/ready`;
/// - anything else: run until deleted, ready after 1 s, 200 "ok" on `/`.
enum DefaultScripts {
    static let inferenceMarkers = ["vllm", "triton", "tgi", "text-generation", "kserve", "inference", "serving", "ollama"]

    static func script(image: String, isInit: Bool) -> ContainerScript {
        var s = ContainerScript()
        let name = image.lowercased()
        if isInit {
            s.exit = .init(code: 0, after: 1)
            return s
        }
        if name.contains("jupyter") || name.contains("notebook") {
            s.readyAfter = 1
            s.logs = [.once(at: 0, lines: ["[I ServerApp] Jupyter Server is running at: http://{pod}:8888/"])]
            s.http["/api/status"] = [.init(body: [
                "started": "{startTime}", "last_activity": "{startTime}", "kernels": 0, "connections": 0,
            ])]
            s.http["/api/kernels"] = [.init(body: [])]
            s.http["/api/terminals"] = [.init(body: [])]
            s.http["/"] = [.init(body: "Jupyter Server")]
            return s
        }
        if inferenceMarkers.contains(where: name.contains) {
            s.readyAfter = 2
            s.logs = [.once(at: 0, lines: ["loading model"]), .once(at: 2, lines: ["model loaded, serving on :8080"])]
            s.http["/"] = [.init(status: 503, body: "loading"), .init(after: 2, body: "ok")]
            for p in ["/health", "/healthz", "/ready", "/v2/health/ready"] { s.http[p] = [.init(status: 503, body: ""), .init(after: 2, body: "")] }
            s.http["/v1/models"] = [.init(after: 2, body: ["object": "list", "data": [["id": "model", "object": "model", "owned_by": "sim"]]])]
            s.http["/v1/models/*"] = [.init(status: 503, body: ["ready": false]), .init(after: 2, body: ["name": "{model}", "ready": true])]
            s.metrics = [.init(text: "# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running 0\n")]
            return s
        }
        s.readyAfter = 1
        s.http["/"] = [.init(body: "ok")]
        return s
    }
}

/// Image pulls and identifiers.
enum ImageRules {
    /// Images that cannot be pulled: a name containing `does-not-exist`, or the tag `:missing`.
    /// The container then waits forever with `ErrImagePull`, then `ImagePullBackOff` (as the kubelet alternates).
    static func pullFails(_ image: String) -> Bool {
        image.contains("does-not-exist") || image.hasSuffix(":missing")
    }

    /// A stable `imageID` as the kubelet reports it for a pulled image.
    static func imageID(_ image: String) -> String {
        "docker-pullable://\(imageName(image))@\(FakeDigest.sha256(image))"
    }

    /// `busybox` → `docker.io/library/busybox:latest`, as containerd normalises names.
    static func fullName(_ image: String) -> String {
        var name = image
        let lastPart = name.split(separator: "/").last.map(String.init) ?? name
        if !lastPart.contains(":") && !name.contains("@") { name += ":latest" }
        let first = name.split(separator: "/").first.map(String.init) ?? ""
        if !name.contains("/") { return "docker.io/library/" + name }
        if !first.contains(".") && !first.contains(":") && first != "localhost" { return "docker.io/" + name }
        return name
    }

    /// The repository without tag or digest.
    static func imageName(_ image: String) -> String {
        var name = image
        if let at = name.firstIndex(of: "@") { name = String(name[..<at]) }
        if let slash = name.lastIndex(of: "/"), let colon = name[slash...].lastIndex(of: ":") { name = String(name[..<colon]) }
        else if !name.contains("/"), let colon = name.lastIndex(of: ":") { name = String(name[..<colon]) }
        return name
    }
}
